"""``manage.py run_site_agent --site ID [--step-minutes 15] [--iterations N]``: a simulated site control system.

Runs :class:`apps.dispatch.agent.SiteAgent` for one site on the product clock (wall time, or simulated time
while a replay runs): every step it follows the site's current setpoints (day-ahead schedule or activation)
with a ramp and meter noise, writes the metered site and IT power to telemetry and acknowledges its
deliveries. Its uncontrolled load is the site's metered IT power one week earlier (seasonal naive), else 70 %
of IT capacity. ``--iterations 0`` runs until interrupted.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.assets.models import Site
from apps.core import clock
from apps.dispatch.agent import SiteAgent
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_for


class Command(BaseCommand):
    help = "Run a simulated site agent that follows setpoints and meters its load."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="site id or name")
        parser.add_argument("--step-minutes", type=int, default=15)
        parser.add_argument("--iterations", type=int, default=0, help="steps to run (0: until interrupted)")
        parser.add_argument("--compliance", type=float, default=1.0, help="fraction of reductions delivered")

    def handle(self, *args: object, **opts: object) -> None:
        ref = str(opts["site"])
        site = (Site.objects.filter(pk=int(ref)) if ref.isdigit() else Site.objects.filter(name=ref)).first()
        if site is None:
            raise CommandError(f"no site '{ref}'.")
        step = timedelta(minutes=int(opts["step_minutes"]))  # type: ignore[call-overload]
        now = clock.floor_to(clock.now(), step)
        agent = SiteAgent(site, self._uncontrolled(site, now), compliance=float(opts["compliance"]))  # type: ignore[arg-type]
        iterations = int(opts["iterations"])  # type: ignore[call-overload]
        done = 0
        while iterations == 0 or done < iterations:
            moment = clock.floor_to(clock.now(), step)
            if moment > now or done == 0:
                grid = agent.step(moment, step)
                self.stdout.write(
                    f"{moment:%Y-%m-%d %H:%M}Z metered {grid:.0f} kW (backlog {agent.state.backlog_kwh:.0f} kWh)"
                )
                now = moment
                done += 1
            if iterations == 0 or done < iterations:
                time.sleep(1.0)

    def _uncontrolled(self, site: Site, now) -> pd.Series:  # type: ignore[no-untyped-def]
        week = timedelta(days=7)
        series = series_for(site=site, quantity=Quantity.IT_POWER_KW)
        past = (
            datapoints_series(series=series, start=now - 2 * week, end=now)
            if series
            else pd.Series(dtype=float)
        )
        if past.empty:
            index = pd.date_range(now - timedelta(days=1), periods=96 * 9, freq="15min")
            return pd.Series(0.7 * site.it_capacity_kw, index=index)
        shifted = past.set_axis(past.index + week)
        return pd.concat([past, shifted[shifted.index > past.index[-1]]])
