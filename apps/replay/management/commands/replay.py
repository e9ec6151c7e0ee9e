"""``manage.py replay --start 2022-09-01 --days 8 [--reset] [--speed X] [--worker] [--no-server] [--json FILE]``

Sets up the demo portfolio if missing and replays the period on the bundled real data (see
:mod:`apps.replay.runner`), prints a summary computed from the stored records as a table (and writes it as JSON
with ``--json``), and then — unless ``--no-server`` — serves the dashboard on ``--addr`` until interrupted.

A replay refuses to run over the records of an earlier one (that would count every event, bid and statement
line twice); ``--reset`` first removes exactly those records (:mod:`apps.replay.reset`), so two runs give the
same figures. After the replay the product clock stays at the replay's end.
"""

from __future__ import annotations

import argparse
import json

import pandas as pd
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

import flexibility
from apps.core.workers import celery_worker
from apps.replay.oracle import oracle_figures
from apps.replay.reset import replay_records, replay_records_remove
from apps.replay.runner import Replay, ReplayOptions
from apps.replay.summary import replay_summary, summary_table


class Command(BaseCommand):
    help = "Replay a period of 2022 on real prices, carbon, load and PV: forecasts, bids, events, dispatch, settlement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", default="2022-09-01", help="first day (UTC), YYYY-MM-DD")
        parser.add_argument("--days", type=int, default=8)
        parser.add_argument(
            "--speed",
            type=float,
            default=0.0,
            help="simulated seconds per wall second (default 0: as fast as possible)",
        )
        parser.add_argument(
            "--worker",
            action="store_true",
            help="start a Celery worker: plans at award and activation are made by it",
        )
        parser.add_argument("--no-server", action="store_true", help="do not serve the dashboard afterwards")
        parser.add_argument(
            "--jobs",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="drive each site's training class with the shipped Philly jobs (data/jobs, CC BY 4.0); "
            "--no-jobs: every class a share of the PDU trace",
        )
        parser.add_argument(
            "--carbon-price",
            type=float,
            default=None,
            help="carbon price per tonne CO2 the plans weigh (default: the VPP_CARBON_PRICE_PER_TONNE setting, 0)",
        )
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--json", dest="json_file", help="write the summary to this file")
        parser.add_argument("--password", default="vpp-demo-2022", help="password of the demo users")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="remove the records of an earlier replay first (otherwise a replay refuses to run over them)",
        )

    def handle(self, *args: object, **opts: object) -> None:
        try:
            start = pd.Timestamp(str(opts["start"]))
        except ValueError as exc:
            raise CommandError(f"--start: {exc}") from exc
        days = int(opts["days"])  # type: ignore[call-overload]
        if not 1 <= days <= 60:
            raise CommandError("--days must be between 1 and 60 (the bundled data covers Aug–Sep 2022).")
        self._reset_or_refuse(bool(opts["reset"]))
        bar = tqdm(total=None, unit="step", desc="replay", disable=not self.stdout.isatty() and False)

        def progress(i: int, n: int, label: str) -> None:
            bar.total = n
            bar.set_postfix_str(label, refresh=False)
            bar.update(1)

        options = ReplayOptions(
            start=start,
            days=days,
            speed=float(opts["speed"]),  # type: ignore[arg-type]
            worker=bool(opts["worker"]),
            jobs=bool(opts["jobs"]),
            password=str(opts["password"]),
            progress=progress,
        )
        price = opts["carbon_price"]
        if price is not None:
            if float(price) < 0:  # type: ignore[arg-type]
                raise CommandError("--carbon-price must be >= 0 (currency per tonne CO2).")
            settings.VPP_CARBON_PRICE_PER_TONNE = float(price)  # type: ignore[arg-type]
        carbon_price = float(getattr(settings, "VPP_CARBON_PRICE_PER_TONNE", 0.0))
        replay = Replay(options)
        self.stdout.write(f"Setting up the demo portfolio and {31} days of metered history …")
        replay.setup()
        if options.worker:
            with celery_worker(queues="dispatch,default,forecasts", concurrency=1):
                replay.run()
        else:
            replay.run()
        bar.close()
        self.stdout.write("Solving the perfect-foresight oracle over the period …")
        try:
            oracle = oracle_figures(
                sites=replay.sites, start=replay.start, end=replay.end, carbon_price_per_tonne=carbon_price
            )
        except (ValueError, flexibility.FlexibilityError) as exc:
            self.stdout.write(f"no oracle: {exc}")
            oracle = None
        summary = replay_summary(
            start=replay.start,
            end=replay.end,
            sites=replay.sites,
            unserved_it_kwh=replay.unserved_it_kwh(),
            oracle=oracle,
            carbon_price_per_tonne=carbon_price,
        )
        for line in options.log[-40:]:
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(summary_table(summary))
        if opts["json_file"]:
            with open(str(opts["json_file"]), "w") as handle:
                json.dump(summary, handle, indent=2)
            self.stdout.write(f"Summary as JSON: {opts['json_file']}")
        if not opts["no_server"]:
            self.stdout.write(
                f"Dashboard: http://{opts['addr']}/  log in as staff, owner_a, owner_b or operator "
                f"(password {opts['password']}). Ctrl-C to stop."
            )
            call_command("runserver", str(opts["addr"]), use_reloader=False)

    def _reset_or_refuse(self, reset: bool) -> None:
        """Remove an earlier replay's records with ``--reset``; without it, refuse to run over them.

        Raises:
            CommandError: records of an earlier replay exist and ``--reset`` was not given.
        """
        found = replay_records()
        if not found.any:
            return
        if not reset:
            raise CommandError(
                f"this database already holds a replay ({found.describe()}); a second replay would count them "
                "twice. Run again with --reset to remove exactly those records, or use a fresh database."
            )
        removed = replay_records_remove()
        self.stdout.write(f"Removed the earlier replay: {removed.describe()}.")
