"""``manage.py run_site_agent --site ID [--step-minutes 15] [--iterations N]``: a simulated site control system.

Runs :class:`apps.simulation.agent.SiteAgent` for one site on the product clock (wall time, or simulated time
while a replay runs): every step it follows the site's current setpoints (day-ahead schedule or activation)
with a ramp and meter noise, writes the metered site and IT power to telemetry and acknowledges its
deliveries. Its uncontrolled load is the site's metered IT power one week earlier (seasonal naive), else 70 %
of IT capacity. ``--iterations 0`` runs until interrupted.

As an OpenADR 3.1 VEN over HTTP — ``--vtn URL --client-id ID --client-secret SECRET`` (or the secret in
``$VPP_VEN_CLIENT_SECRET``; credentials from ``create_api_client --role ven --site …``) — it registers itself
with the VTN, polls ``GET /events`` every ``--poll-seconds``, follows their ``DISPATCH_SETPOINT`` /
``DISPATCH_SETPOINT_RELATIVE`` / ``IMPORT_CAPACITY_LIMIT`` payloads and POSTs a ``DEMAND`` report per step,
which the VTN stores as telemetry (:mod:`apps.simulation.ven`). With ``--callback-port PORT`` it also
subscribes to its events at a local webhook (``--callback-host``, default 127.0.0.1; the VTN must be allowed to
call it, e.g. ``OPENADR_ALLOW_LOOPBACK_CALLBACKS`` for a local demo) and re-reads them as soon as it is notified;
``--poll-seconds`` is then only the fallback.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.assets.models import Site
from apps.assets.selectors import site_get_by_reference
from apps.core import clock
from apps.simulation.agent import SiteAgent
from apps.simulation.ven import NotificationListener, VenAgent, VtnClient, VtnError
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_for


class Command(BaseCommand):
    help = "Run a simulated site agent that follows setpoints and meters its load."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="site id or name")
        parser.add_argument("--step-minutes", type=int, default=15)
        parser.add_argument("--iterations", type=int, default=0, help="steps to run (0: until interrupted)")
        parser.add_argument("--compliance", type=float, default=1.0, help="fraction of reductions delivered")
        parser.add_argument(
            "--vtn", help="run as an OpenADR VEN against this VTN base URL (…/openadr3/3.1.0)"
        )
        parser.add_argument("--client-id", help="the VEN's OAuth2 client id (with --vtn)")
        parser.add_argument(
            "--client-secret", help="the VEN's client secret (with --vtn; default $VPP_VEN_CLIENT_SECRET)"
        )
        parser.add_argument("--ven-name", help="name to register the VEN under (default: site-<id>)")
        parser.add_argument(
            "--poll-seconds", type=float, default=5.0, help="event polling period (with --vtn)"
        )
        parser.add_argument(
            "--callback-port", type=int, help="subscribe and take notifications on this port (with --vtn)"
        )
        parser.add_argument("--callback-host", default="127.0.0.1", help="address the VTN calls back")

    def handle(self, *args: object, **opts: object) -> None:
        ref = str(opts["site"])
        site = site_get_by_reference(reference=ref)
        if site is None:
            raise CommandError(f"no site '{ref}'.")
        step = timedelta(minutes=int(opts["step_minutes"]))  # type: ignore[call-overload]
        now = clock.floor_to(clock.now(), step)
        load = self._uncontrolled(site, now)
        compliance = float(opts["compliance"])  # type: ignore[arg-type]
        agent: SiteAgent
        vtn = None
        listener: NotificationListener | None = None
        if opts["vtn"]:
            vtn = self._vtn_client(opts)
            agent = VenAgent(
                site,
                load,
                vtn=vtn,
                ven_name=str(opts["ven_name"] or f"site-{site.pk}"),
                compliance=compliance,
            )
            ven = agent.register()
            self.stdout.write(f"registered as VEN {ven.get('id')} ({ven.get('venName')}) at {vtn.base_url}")
            if opts["callback_port"] is not None:
                listener = self._subscribe(vtn, opts, ven)
        else:
            agent = SiteAgent(site, load, compliance=compliance)
        iterations = int(opts["iterations"])  # type: ignore[call-overload]
        poll_s = float(opts["poll_seconds"]) if vtn else 1.0  # type: ignore[arg-type]
        done = 0
        try:
            while iterations == 0 or done < iterations:
                if isinstance(agent, VenAgent):
                    try:
                        agent.poll()
                    except VtnError as exc:  # keep following what it knows; the VTN may be back next poll
                        self.stderr.write(f"polling the VTN failed: {exc}")
                moment = clock.floor_to(clock.now(), step)
                if moment > now or done == 0:
                    grid = agent.step(moment, step)
                    followed = self._followed(agent)
                    self.stdout.write(
                        f"{moment:%Y-%m-%d %H:%M}Z metered {grid:.0f} kW{followed} "
                        f"(backlog {agent.state.backlog_kwh:.0f} kWh)"
                    )
                    now = moment
                    done += 1
                if iterations == 0 or done < iterations:
                    if listener is not None:
                        listener.wait(poll_s)  # a notification wakes it early: it re-reads its events
                    else:
                        time.sleep(poll_s)
        finally:
            if listener is not None:
                listener.close()
            if vtn is not None:
                vtn.close()

    def _subscribe(self, vtn: VtnClient, opts: dict, ven: dict) -> NotificationListener:
        import secrets

        token = secrets.token_urlsafe(24)
        listener = NotificationListener(
            host=str(opts["callback_host"]), port=int(opts["callback_port"]), bearer_token=token
        )
        try:
            vtn.subscribe(
                client_name=str(ven.get("venName")), callback_url=listener.url(), bearer_token=token
            )
        except VtnError as exc:
            listener.close()
            raise CommandError(f"the VTN refused the subscription: {exc}") from exc
        self.stdout.write(f"subscribed to event notifications at {listener.url()}")
        return listener

    def _vtn_client(self, opts: dict) -> VtnClient:
        secret = opts["client_secret"] or os.environ.get("VPP_VEN_CLIENT_SECRET")
        if not opts["client_id"] or not secret:
            raise CommandError("--vtn needs --client-id and --client-secret (or $VPP_VEN_CLIENT_SECRET).")
        return VtnClient(str(opts["vtn"]), str(opts["client_id"]), str(secret))

    def _followed(self, agent: SiteAgent) -> str:
        current = getattr(agent, "_current", None)
        if current is None:
            return ""
        return f", following event {current.event_id}: {current.target_kw:.0f} kW (baseline {current.baseline_kw:.0f})"

    def _uncontrolled(self, site: Site, now) -> pd.Series:
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
