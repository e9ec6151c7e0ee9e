"""``manage.py simulate_market --zone ZONE --start DATE --days N``: act as the market operator over a period.

Runs on the product clock (a frozen replay clock that jumps from one due moment to the next): announces the
zone's peak events day-ahead, lets the aggregator's bidding cycle draft and submit bids (in-process unless
``--no-bidding``, when a worker and beat do it), closes the gate, awards, activates and completes. With
``--url`` the operator's calls go over HTTP to a running server instead of in-process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.choices import ApiClientRole
from apps.accounts.services import access_token_issue, api_client_issue_named
from apps.core import clock
from apps.markets import services
from apps.markets.choices import Product
from apps.markets.selectors import program_list_active_of_operator
from apps.simulation.market import (
    HttpApi,
    InProcessApi,
    MarketSimulator,
    plan_peak_events,
    plan_regulation_event,
)


class Command(BaseCommand):
    help = "Act as the market operator: events on the zone's real price peaks, gate closure, awards, activations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--zone", required=True, help="market zone code, e.g. CAISO_NP15")
        parser.add_argument("--start", required=True, help="first local day, YYYY-MM-DD")
        parser.add_argument("--days", type=int, default=1)
        parser.add_argument("--operator", default="demo-operator", help="slug of the market operator")
        parser.add_argument("--requested-kw", type=float, default=20000.0)
        parser.add_argument(
            "--regulation-day", help="YYYY-MM-DD: add one regulation hour (PJM RegA) that day"
        )
        parser.add_argument("--url", help="base URL of a running server (default: in-process API calls)")
        parser.add_argument("--no-bidding", action="store_true", help="leave bidding to a worker and beat")

    def handle(self, *args: Any, **opts: Any) -> None:
        zone = str(opts["zone"])
        programs = program_list_active_of_operator(operator_slug=str(opts["operator"]), zone_id=zone)
        peak = programs.exclude(product__in=[Product.REGULATION_UP, Product.REGULATION_DOWN]).first()
        if peak is None:
            raise CommandError(
                f"operator '{opts['operator']}' has no active peak program in {zone} (seed_programs)."
            )
        start_day = pd.Timestamp(str(opts["start"]))
        events = plan_peak_events(
            program=peak,
            start_day=start_day,
            days=int(opts["days"]),
            requested_kw=float(opts["requested_kw"]),
        )
        if opts["regulation_day"]:
            regulation = programs.filter(product=Product.REGULATION_UP).first()
            if regulation is None:
                raise CommandError(f"no regulation program in {zone}.")
            events.append(
                plan_regulation_event(
                    program=regulation,
                    day=pd.Timestamp(str(opts["regulation_day"])),
                    requested_kw=float(opts["requested_kw"]) / 4,
                )
            )
        if not events:
            self.stdout.write("No price peak above the threshold in that period: nothing to simulate.")
            return
        creds = api_client_issue_named(
            organisation=peak.operator, role=ApiClientRole.ADMIN, name="market simulator"
        )
        token = access_token_issue(
            client_id=creds.api_client.client_id, client_secret=creds.client_secret
        ).access_token
        api = HttpApi(str(opts["url"]), token) if opts["url"] else InProcessApi(token)
        sim = MarketSimulator(api, events)
        self._drive(sim, bidding=not opts["no_bidding"])
        for e in sim.events:
            self.stdout.write(f"- {e.start:%Y-%m-%d %H:%M}Z: " + "; ".join(e.log))

    def _drive(self, sim: MarketSimulator, *, bidding: bool) -> None:
        """Jump the clock from one due moment to the next, doing what is due at each."""
        started_here = not clock.replay_running()
        first = min(sim.checkpoints()) - timedelta(minutes=1)
        if started_here:
            clock.replay_start(sim_start=first, speed=0)
        try:
            done: set = set()
            while True:
                due = set(sim.checkpoints())
                for e in sim.events:
                    if e.gate_closure_at is not None:
                        due |= {
                            e.gate_closure_at - services.BID_DRAFT_LEAD + timedelta(minutes=5),
                            e.gate_closure_at - services.BID_SUBMIT_LEAD + timedelta(minutes=1),
                            e.gate_closure_at,
                        }
                pending = sorted(t for t in due - done if t >= first)
                if not pending:
                    break
                moment = pending[0]
                done.add(moment)
                clock.replay_jump(to=moment)
                if bidding:
                    for event_id in services.events_needing_bids():
                        services.bid_prepare(event_id=event_id)
                    services.bids_submit_due()
                for line in sim.step(moment):
                    self.stdout.write(f"{moment:%Y-%m-%d %H:%M}Z {line}")
                services.events_complete_finished()
        finally:
            if started_here:
                clock.replay_stop()
