"""The replay: the whole product on real data, simulated time running as fast as the machine allows.

Time is the product clock (:mod:`apps.core.clock`), frozen and moved a settlement interval at a time, so every
service, task and page sees the simulated "now". Each step does what the scheduled jobs and the outside world
would do at that moment, in this order: day-ahead forecasts at 10:00 local, the portfolio's day-ahead schedule
at 18:00 UTC, the market operator's actions (the simulator, through the REST API), the aggregator's bidding
cycle, plans prepared at award and dispatched at activation (by a real Celery worker with ``worker=True``,
else in-process), the site agents' metering, the closed-loop checks, event completion and settlement.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pandas as pd
from django.core.management import call_command

from apps.accounts.choices import ApiClientRole
from apps.accounts.models import Organisation
from apps.accounts.services import access_token_issue, api_client_issue_named
from apps.assets.demo_portfolio import demo_portfolio_seed
from apps.assets.models import Site
from apps.assets.selectors import active_site_list
from apps.core import clock
from apps.dispatch import services as dispatch
from apps.dispatch.models import DispatchPlan, PreparedPlan
from apps.forecasts.services import forecast_day_ahead, forecast_intraday
from apps.markets import services as markets
from apps.markets.catalogue import demo_programs_seed
from apps.markets.choices import EventStatus, Product
from apps.markets.models import Activation, Event, Program
from apps.settlement import services as settlement
from apps.settlement.selectors import BACKLOG_SERIES, COUNTERFACTUAL_SERIES
from apps.simulation import arrivals
from apps.simulation.agent import SiteAgent
from apps.simulation.market import InProcessApi, MarketSimulator, plan_peak_events, plan_regulation_event
from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity, StateSource
from apps.telemetry.services import datapoints_ingest, site_state_report, timeseries_get_or_create

from . import shapes
from .demo import demo_baseline_terms_seed, demo_green_contracts_seed

STEP = timedelta(minutes=15)
HISTORY_DAYS = 31
SCHEDULE_ISSUE_HOUR_UTC = 18
SCHEDULE_DAY_START_HOUR_UTC = 7
COUNTERFACTUAL = COUNTERFACTUAL_SERIES
#: The replay runs this long past its last UTC day, so the US evening peaks of that day (after midnight UTC)
#: are metered to their end and settled.
TAIL = timedelta(hours=12)
#: The regulation hour the simulator adds (PJM RegA signal), as in the issue: one regulation event.
REGULATION_DAY = "2022-09-06"
REQUESTED_KW = {"CAISO_NP15": 6000.0, "ERCOT_HUB": 4000.0, "PJM_DOM": 6000.0, "NYISO_CAPITL": 2000.0}


@dataclass
class ReplayOptions:
    start: pd.Timestamp
    days: int
    speed: float = 0.0  # simulated seconds per wall second; 0 = as fast as possible
    worker: bool = False
    #: drive each site's training class with the shipped Philly jobs (:mod:`apps.simulation.arrivals`)
    jobs: bool = True
    password: str = "vpp-demo-2022"
    progress: Callable[[int, int, str], None] | None = None
    log: list[str] = field(default_factory=list)


class Replay:
    def __init__(self, options: ReplayOptions) -> None:
        self.o = options
        self.failed_events: set[int] = set()
        self.failed_activations: set[int] = set()
        self.start = pd.Timestamp(options.start.date(), tz="UTC").to_pydatetime()
        self.end = self.start + timedelta(days=options.days) + TAIL

    # --- setup -------------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Demo portfolio (with its PPA), programs and zone data if missing; site history before the start; the agents."""
        demo_portfolio_seed(password=self.o.password)
        demo_green_contracts_seed()
        operator = Organisation.objects.get(slug="demo-operator")
        demo_programs_seed(operator=operator)
        demo_baseline_terms_seed()
        call_command("load_bundled_data", "--skip-sites", verbosity=0)
        self.sites = list(active_site_list().prefetch_related("workload_classes", "batteries", "pv_arrays"))
        index = pd.date_range(
            self.start - timedelta(days=HISTORY_DAYS), self.end + timedelta(days=1), freq=STEP
        )
        self.loads = {s.pk: shapes.it_load_kw(s, index) for s in self.sites}
        self.class_arrivals: dict[int, dict[str, pd.Series]] = {s.pk: {} for s in self.sites}
        self.jobs: dict[int, pd.DataFrame | None] = {s.pk: None for s in self.sites}
        if self.o.jobs:
            for site in self.sites:
                self.jobs[site.pk] = arrivals.known_jobs(site, self.loads[site.pk])
                self.loads[site.pk], self.class_arrivals[site.pk] = arrivals.with_jobs(
                    site, self.loads[site.pk]
                )
        self.pv = {s.pk: self._site_pv(s, index) for s in self.sites}
        for site in self.sites:
            self._write_history(site)
        self.agents = [
            SiteAgent(
                s,
                self.loads[s.pk],
                pv_kw=self.pv[s.pk],
                seed=s.pk,
                class_arrivals_kw=self.class_arrivals[s.pk],
                known_jobs=self.jobs[s.pk],
            )
            for s in self.sites
        ]
        self.operator = operator
        self.simulators = self._simulators(operator)

    def _site_pv(self, site: Site, index: pd.DatetimeIndex) -> pd.Series:
        total = pd.Series(0.0, index=index)
        for array in site.pv_arrays.all():
            total = total + shapes.pv_kw(array, index)
        return total

    def _ingest(self, owner, quantity: str, values: pd.Series, name: str = "") -> None:
        series, _ = timeseries_get_or_create(
            owner=owner,
            quantity=quantity,
            resolution="PT15M",
            name=name,
            source="replay: Google PDU traces and NREL irradiance (data/sites)",
        )
        datapoints_ingest(series=series, rows=values)

    def _write_history(self, site: Site) -> None:
        """Metered history before the start (what the meters recorded without the aggregator), PV over the whole
        period, and the run-as-it-arrives counterfactual over the replay (for the savings figures)."""
        it, pv = self.loads[site.pk], self.pv[site.pk]
        before = it.index < self.start
        during = (it.index >= self.start) & (it.index < self.end)
        grid = site.pue * it - pv
        self._ingest(site, Quantity.IT_POWER_KW, it[before])
        self._ingest(site, Quantity.IT_POWER_KW, it[before], name=IT_DEMAND_SERIES)
        self._ingest(site, Quantity.SITE_POWER_KW, grid[before])
        self._ingest(site, Quantity.SITE_POWER_KW, grid[during], name=COUNTERFACTUAL)
        for array in site.pv_arrays.all():
            self._ingest(array, Quantity.PV_POWER_KW, shapes.pv_kw(array, it.index[before | during]))
        self._history_states(site)

    def _history_states(self, site: Site) -> None:
        """The site's hourly state reports (its IT load and known jobs) before the replay's first step, as its
        agent would have reported them: the workload-aware forecast learns new arrivals from them."""
        jobs = self.jobs.get(site.pk)
        if jobs is None or jobs.empty:
            return
        it = self.loads[site.pk]
        delays = {w.name: timedelta(hours=w.max_delay_h or 0.0) for w in site.workload_classes.all()}
        first_step = self.start - timedelta(days=1)
        for moment in it.index[(it.index.minute == 0) & (it.index < first_step)]:
            at = moment.to_pydatetime()
            site_state_report(
                principal=None,
                site=site,
                data={
                    "reported_at": at,
                    "it_load_kw": float(it[moment]),
                    "known_jobs": arrivals.known_jobs_rows(jobs, at, delays),
                },
                source=StateSource.AGENT,
            )

    def _simulators(self, operator: Organisation) -> list[MarketSimulator]:
        creds = api_client_issue_named(
            organisation=operator, role=ApiClientRole.ADMIN, name="market simulator"
        )
        token = access_token_issue(client_id=creds.api_client.client_id, client_secret=creds.client_secret)
        api = InProcessApi(token.access_token)
        events = []
        first_day = pd.Timestamp(self.start.date())
        for program in Program.objects.filter(operator=operator, is_active=True).select_related("zone"):
            if program.product in (Product.REGULATION_UP, Product.REGULATION_DOWN):
                day = pd.Timestamp(REGULATION_DAY)
                if first_day <= day < first_day + pd.Timedelta(days=self.o.days):
                    events.append(plan_regulation_event(program=program, day=day, requested_kw=2000.0))
                continue
            events += plan_peak_events(
                program=program,
                start_day=first_day,
                days=self.o.days,
                requested_kw=REQUESTED_KW.get(program.zone_id, 5000.0),
            )
        return [MarketSimulator(api, events)]

    # --- the loop ----------------------------------------------------------------------------------------
    def run(self) -> None:
        """Step through the period, then settle what is left. Afterwards the product clock stays frozen at the
        replay's end (:attr:`end`), so every page and job of the demo world sees that moment as "now"; if the
        replay fails, the clock returns to the wall clock."""
        t = self.start - timedelta(days=1)
        clock.replay_start(sim_start=t, speed=0)
        steps = int((self.end - t) / STEP) + 1
        wall0 = time.monotonic()
        try:
            for i in range(steps):
                clock.replay_jump(to=t)
                self._step(t)
                if self.o.progress:
                    self.o.progress(i + 1, steps, t.strftime("%Y-%m-%d %H:%M"))
                if self.o.speed > 0:
                    lag = (i + 1) * STEP.total_seconds() / self.o.speed - (time.monotonic() - wall0)
                    if lag > 0:
                        time.sleep(lag)
                t += STEP
            self._finish()
        except BaseException:
            clock.replay_stop()
            raise
        clock.replay_start(sim_start=self.end, speed=0)

    def _step(self, t: datetime) -> None:
        self._forecasts(t)
        if t.hour == SCHEDULE_ISSUE_HOUR_UTC and t.minute == 0:
            day = (t + timedelta(days=1)).replace(hour=SCHEDULE_DAY_START_HOUR_UTC, minute=0)
            if day < self.end:
                try:
                    dispatch.schedule_day(start=day)
                except ValueError as exc:
                    self.o.log.append(f"{t:%m-%d %H:%M} no day-ahead schedule: {exc}")
        for sim in self.simulators:
            for line in sim.step(t):
                self.o.log.append(f"{t:%m-%d %H:%M} {line}")
        for event_id in markets.events_needing_bids():
            markets.bid_prepare(event_id=event_id)
        markets.bids_submit_due()
        self._plans(t)
        if t > self.start:
            for agent in self.agents:
                agent.step(t, STEP)
        for activation_id, start in dispatch.checks_due(now=t):
            dispatch.delivery_check(activation_id=activation_id, interval_start=start)
        if t >= self.start:  # the beat's intraday re-plan from the state the sites just reported
            run = dispatch.portfolio_replan(now=t)
            if run is not None and run.plan_id:
                dispatch.deliveries_send(plan_id=run.plan_id)
        markets.events_complete_finished()
        if t.minute == 0 and t.hour % 2 == 0:  # settlement runs every two simulated hours, like its beat job
            for event_id in settlement.events_due_for_settlement(now=t):
                settlement.event_settle(event_id=event_id)

    def _forecasts(self, t: datetime) -> None:
        """Day-ahead load forecasts at 10:00 local and intraday updates every hour (the beat jobs' cadence)."""
        for site in self.sites:
            local = t.astimezone(ZoneInfo(site.timezone))
            day_ahead = local.hour == 10 and local.minute == 0
            if t.minute != 0 or t < self.start - timedelta(days=1):
                continue
            # the demand as it arrives (what plans and bids model: day-ahead and intraday) and the metered IT
            # power (a forecast baseline of the site's own draw, for programs settled on one: day-ahead)
            metered, _ = timeseries_get_or_create(
                owner=site, quantity=Quantity.IT_POWER_KW, resolution="PT15M"
            )
            demand, _ = timeseries_get_or_create(
                owner=site, quantity=Quantity.IT_POWER_KW, resolution="PT15M", name=IT_DEMAND_SERIES
            )
            try:
                if day_ahead:
                    forecast_day_ahead(series_id=demand.pk, issue_time=t)
                    forecast_day_ahead(series_id=metered.pk, issue_time=t)
                if t >= self.start:
                    forecast_intraday(series_id=demand.pk, issue_time=t)
            except ValueError as exc:
                self.o.log.append(f"{t:%m-%d %H:%M} forecast of {site.name} skipped: {exc}")

    def _plans(self, t: datetime) -> None:
        """Prepared plans for awarded events and plans for activations: a real worker makes them when there is
        one (the award and activation hand-offs); the loop waits for it, and makes any missing plan itself."""
        for event in Event.objects.filter(
            status__in=[EventStatus.AWARDED, EventStatus.ACTIVE], prepared_plan=None
        ):
            if not self._wait(partial(_prepared, event.pk)):
                dispatch.plan_prepare(event_id=event.pk)
        for activation in Activation.objects.filter(dispatch_plans=None, start__lte=t):
            if not self._wait(partial(_planned, activation.pk)):
                plan = dispatch.dispatch_activation(activation_id=activation.pk)
                dispatch.deliveries_send(plan_id=plan.pk)

    def _wait(self, predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
        if not self.o.worker:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    def unserved_it_kwh(self) -> dict[int, float]:
        """Deferred IT work each site agent still holds at the end (kWh, by site id)."""
        return {agent.site.pk: agent.state.backlog_kwh for agent in self.agents}

    def _finish(self) -> None:
        """Let the last events complete and settle (metering is complete once the replay has ended)."""
        later = self.end + timedelta(days=3)
        clock.replay_jump(to=later)
        markets.events_complete_finished()
        for event_id in settlement.events_due_for_settlement(now=later):
            settlement.event_settle(event_id=event_id)
        self._store_backlog()

    def _store_backlog(self) -> None:
        """Deferred IT work each site still holds at the end, stored as one ``energy_kwh`` point (IT kWh) of the
        site's :data:`~apps.settlement.selectors.BACKLOG_SERIES` at the last interval, so that the pages charge
        it exactly as the summary does (:func:`apps.settlement.selectors.period_savings`)."""
        last = pd.DatetimeIndex([self.end - STEP])
        by_site = {s.pk: s for s in self.sites}
        for site_id, kwh in self.unserved_it_kwh().items():
            series, _ = timeseries_get_or_create(
                owner=by_site[site_id],
                quantity=Quantity.ENERGY_KWH,
                resolution="PT15M",
                name=BACKLOG_SERIES,
                source="replay: IT work still waiting in the site agent's queue at the end",
            )
            datapoints_ingest(series=series, rows=pd.Series([kwh], index=last))


def _prepared(event_id: int) -> bool:
    return PreparedPlan.objects.filter(event_id=event_id).exists()


def _planned(activation_id: int) -> bool:
    return DispatchPlan.objects.filter(activation_id=activation_id).exists()
