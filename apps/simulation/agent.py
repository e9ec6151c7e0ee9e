"""A simulated datacenter site control system (a VEN): it follows its setpoints and meters what it did.

Physics, per step of ``dt`` ending at ``now``:

- uncontrolled grid power ``b = PUE × u(t) − PV(t)`` from the site's uncontrolled IT load ``u`` (the load it
  would run without the aggregator);
- during a setpoint of a stored plan, each workload class follows its action: a deferrable class runs the
  plan's ``served_kw`` — less than arrives is held back into that class's queue (at most ``1 −
  min_power_fraction`` of it), more runs its queued work earliest deadline first — work planned to migrate
  leaves (the receiving site runs it: the rest of its planned IT change), batteries follow ``battery_kw`` within
  their power, SoC room and backup reserve; ``compliance`` (1 = perfect, < 1 an under-delivering site) scales
  every deviation. A setpoint with grid power only (an OpenADR event) has its planned deviation applied to the
  real baseline instead (shed from the deferrable share and the batteries, or run as catch-up);
- queued work (:mod:`apps.simulation.site_queue`: per class, each entry due ``max_delay_h`` after it arrived)
  runs in the interval ending at its deadline whatever the plan says, as far as the IT capacity allows (the
  SLA); with no setpoint it runs at up to :data:`REBOUND_FRACTION` of the spare IT capacity; discharged
  batteries recharge;
- the grid power moves towards its target as a first-order lag with time constant ``tau_s`` (AI clusters cut
  25–35 % of power within 30 s, per the project brief), averaged over the step, plus Gaussian meter noise.

Each step writes the interval's mean ``site_power_kw``, ``it_power_kw`` (the IT power it ran), the IT demand that
arrived (``it_power_kw`` named :data:`~apps.telemetry.choices.IT_DEMAND_SERIES`) and batteries' ``soc_kwh`` to
telemetry, and acknowledges any setpoints delivered to the site.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.dispatch import selectors, services
from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity, StateSource
from apps.telemetry.services import datapoints_ingest, site_state_report, timeseries_get_or_create

from .arrivals import known_jobs_rows, split_arrivals
from .regulation import follow_regulation
from .site_queue import AgentState

REBOUND_FRACTION = 0.5
#: The key of :attr:`SiteAgent._arriving_run` for work migrated in (queued under the tightest class when held).
MIGRATED_IN = ""
#: Work migrated in that the site holds back for its own due work is due this long after it arrived: the site
#: does not know the sender's deadline, and plans finish queued work the deadline guard before it
#: (:data:`apps.markets.workloads.DEADLINE_GUARD_STEPS`, 45 minutes by default) plus the step the work may
#: have waited in, so an hour is the slack it can count on.
MIGRATED_IN_SLACK = timedelta(hours=1)


class SiteAgent:
    """Follows the site's setpoints over time; see the module docstring for the physics.

    ``uncontrolled_it_kw``: the site's IT load without the aggregator, a Series on an aware UTC index (any
    resolution; held between points). ``pv_kw``: optional PV generation on the same kind of index.
    ``class_arrivals_kw``: optional {workload class name: its arrivals (kW) on such an index}, part of
    ``uncontrolled_it_kw`` (e.g. the training class driven by real jobs, :mod:`apps.simulation.arrivals`); the
    rest of the load is shared among the other classes in proportion to their ``share_pct``.
    ``known_jobs``: optional jobs the site's scheduler knows (columns ``job_id``, ``workload_class``,
    ``submitted`` (UTC), ``power_kw``, ``runtime_min``: :func:`apps.simulation.arrivals.known_jobs`); every
    state report lists those submitted and not finished (run time from submission) as its known jobs.
    """

    def __init__(
        self,
        site: Site,
        uncontrolled_it_kw: pd.Series,
        *,
        pv_kw: pd.Series | None = None,
        compliance: float = 1.0,
        noise: float = 0.005,
        tau_s: float = 30.0,
        seed: int | None = None,
        class_arrivals_kw: dict[str, pd.Series] | None = None,
        known_jobs: pd.DataFrame | None = None,
    ) -> None:
        self.site = site
        self.load = uncontrolled_it_kw.sort_index()
        self.class_arrivals = {name: s.sort_index() for name, s in (class_arrivals_kw or {}).items()}
        self.jobs = known_jobs.sort_values("submitted") if known_jobs is not None else None
        self.pv = pv_kw.sort_index() if pv_kw is not None else None
        self.compliance = compliance
        self.noise = noise
        self.tau_s = tau_s
        self.rng = np.random.default_rng(seed if seed is not None else site.pk)
        deferrable = [w for w in site.workload_classes.all() if w.max_delay_h]
        self.deferrable_share = sum(w.share_pct for w in deferrable) / 100.0
        #: the tightest deadline of the site's deferrable classes: work this old must run (its SLA)
        self.max_delay = timedelta(hours=min((w.max_delay_h or 0.0 for w in deferrable), default=0.0) or 1.0)
        #: the class the backlog is reported under: the deferrable class with the tightest deadline
        self.queue_class = min(deferrable, key=lambda w: (w.max_delay_h, w.pk)) if deferrable else None
        self.batteries = list(site.batteries.all())
        floor = sum(max(b.soc_min_kwh, b.backup_reserve_kwh) for b in self.batteries)
        start_soc = sum(
            (max(b.soc_min_kwh, b.backup_reserve_kwh) + b.soc_max_kwh) / 2 for b in self.batteries
        )
        self.soc_floor = floor
        self.battery_power = sum(min(b.max_charge_kw, b.max_discharge_kw) for b in self.batteries)
        self.battery_capacity = sum(b.soc_max_kwh for b in self.batteries)
        self.classes = list(site.workload_classes.all())
        #: kW of each deferrable class's arriving work run this interval above its minimum (may be held back)
        self._arriving_run: dict[str, float] = {}
        self.state = AgentState(
            delays={w.name: timedelta(hours=w.max_delay_h or 0.0) for w in deferrable},
            default=self.queue_class.name if self.queue_class is not None else None,
            soc_kwh=start_soc,
            soc_target_kwh=start_soc,
        )
        self.owner = Principal(organisation=site.owner, role="ven")

    def _at(self, series: pd.Series | None, moment: datetime) -> float:
        if series is None or series.empty:
            return 0.0
        pos = series.index.searchsorted(pd.Timestamp(moment), side="right") - 1
        return float(series.iloc[max(pos, 0)])

    def arrivals_kw(self, start: datetime, total_it_kw: float) -> dict[str, float]:
        """Each workload class's arriving IT kW in the interval starting ``start`` (:func:`split_arrivals`)."""
        own = {name: self._at(series, start) for name, series in self.class_arrivals.items()}
        return split_arrivals(self.classes, own, total_it_kw)

    def setpoint_at(self, moment: datetime) -> Any:
        """The setpoint in force at ``moment`` — an object with ``baseline_kw``, ``target_kw``, ``battery_kw`` (kW)
        and ``workloads`` (as :class:`~apps.dispatch.models.Setpoint`) — or ``None``: here the newest active
        plan's, read from the database; the OpenADR VEN (:mod:`apps.simulation.ven`) reads its VTN's events."""
        return selectors.setpoint_at(site_id=self.site.pk, moment=moment)

    def step(self, now: datetime, dt: timedelta) -> float:
        """Simulate ``[now − dt, now)``; returns the metered grid kW it wrote."""
        if (regulated := follow_regulation(self, now, dt)) is not None:
            return regulated  # a regulation order in force: this step, plus the signal followed on top
        start = now - dt
        hours = dt.total_seconds() / 3600
        self._arriving_run = {}
        it = self._at(self.load, start)
        pv = min(self._at(self.pv, start), max(it * self.site.pue, 0.0)) if self.pv is not None else 0.0
        baseline = self.site.pue * it - pv
        setpoint = self.setpoint_at(start)
        soc_room = max(self.battery_capacity - self.state.soc_kwh, 0.0) / (0.95 * hours)
        if setpoint is not None and _class_actions(setpoint):
            it, battery_kw = self._follow_classes(setpoint, start, it, hours, soc_room)
            target = self.site.pue * it - pv + battery_kw
        elif setpoint is not None:
            it, target, battery_kw = self._follow_grid(setpoint, start, it, baseline, hours, soc_room)
        else:
            spare_it = max(self.site.it_capacity_kw - it, 0.0) * REBOUND_FRACTION
            rebound_it = self.state.serve(spare_it * hours, at=start) / hours
            battery_kw = 0.0
            if self.state.soc_kwh < self.state.soc_target_kwh - 1e-6:
                battery_kw = min(
                    self.battery_power, (self.state.soc_target_kwh - self.state.soc_kwh) / hours, soc_room
                )
            it += rebound_it
            target = baseline + rebound_it * self.site.pue + battery_kw
        # work due by the end of this interval runs now, whatever the plan says (the SLA), as far as the IT
        # capacity allows (the rest runs as soon as there is room)
        due_it = self.state.due_kwh(now) / hours
        room = max(self.site.it_capacity_kw - it, 0.0)
        if due_it > room:  # earliest deadline first: arriving deferrable work waits, due work runs
            freed = self._make_room(start, due_it - room, hours)
            it -= freed
            target -= freed * self.site.pue
            room += freed
        forced_it = self.state.serve(min(due_it, room) * hours, at=start) / hours
        it += forced_it
        target += forced_it * self.site.pue
        self.state.soc_kwh += (0.95 * battery_kw if battery_kw > 0 else battery_kw / 0.95) * hours
        previous = self.state.grid_kw if self.state.grid_kw is not None else target
        lag = self.tau_s / dt.total_seconds() * (1 - math.exp(-dt.total_seconds() / self.tau_s))
        grid = target + (previous - target) * lag + self.rng.normal(0.0, self.noise * abs(baseline) + 1e-9)
        self.state.grid_kw = grid
        self._meter(start, dt, grid, it)
        self._report_state(now, it)
        self._acknowledge()
        return grid

    def _battery(self, wanted_kw: float, hours: float, soc_room_kw: float) -> float:
        """Battery power (kW, + = charge) the site can give of ``wanted_kw``: power, SoC room and the floor."""
        if wanted_kw < 0:
            return -min(-wanted_kw, self.battery_power, max(self.state.soc_kwh - self.soc_floor, 0.0) / hours)
        return min(wanted_kw, self.battery_power, soc_room_kw)

    def _follow_classes(
        self, setpoint: Any, start: datetime, arrival_it: float, hours: float, soc_room: float
    ) -> tuple[float, float]:
        """Follow a plan's per-class actions; returns (IT kW run, battery kW).

        Each class's arrivals are its share of the IT demand. A deferrable class runs the plan's ``served_kw``
        (times ``compliance`` of the deviation): less than arrives is held back into its queue (never more than
        ``1 − min_power_fraction`` of what arrives), more runs its queued work, earliest deadline first; work
        planned to migrate leaves. What a class cannot hold back (less of it arrived than the plan expected,
        e.g. fewer training jobs) is held back from the other deferrable classes' arriving work, above their
        minimum fractions, as a site's scheduler following its total would. Work migrated in from other sites is the rest of the planned IT change.
        """
        c, pue = self.compliance, self.site.pue
        self._arriving_run = {}
        arrivals = self.arrivals_kw(start, arrival_it)
        # the part of the IT load in no declared class runs as it arrives
        it = max(arrival_it - sum(arrivals.values()), 0.0)
        own_change = 0.0
        short = 0.0  # kW a class could not hold back: less of it arrived than the plan expected
        for wc in self.classes:
            arriving = arrivals[wc.name]
            action = setpoint.workloads.get(wc.name) or {}
            planned_away = c * sum(action.get("migrate_kw", {}).values())
            away = min(planned_away, arriving)
            if "served_kw" not in action or not wc.max_delay_h:
                it += arriving - away
                continue
            if planned_away > away:  # queued work sent to another site: it leaves this site's queue
                self.state.serve((planned_away - away) * hours, at=start, workload=wc.name)
            own_change += action["served_kw"] - action.get("baseline_kw", arriving)
            hold = c * (arriving - away - action["served_kw"])
            floor = (wc.min_power_fraction or 0.0) * arriving
            if hold > 0:
                wanted = hold
                hold = min(hold, max(arriving - floor, 0.0), arriving - away)
                short += wanted - hold
                self.state.defer(start, hold * hours, wc.name)
                it += arriving - away - hold
                self._arriving_run[wc.name] = max(arriving - away - hold - floor, 0.0)
            else:
                caught = self.state.serve(-hold * hours, at=start, workload=wc.name) / hours
                it += arriving - away + caught
                self._arriving_run[wc.name] = max(arriving - away - floor, 0.0)
        for name, kw in list(
            self._arriving_run.items()
        ):  # the site holds the rest back from its other classes
            take = min(kw, short)
            if take > 1e-9:
                self.state.defer(start, take * hours, name)
                self._arriving_run[name] = kw - take
                it -= take
                short -= take
        planned_it_change = (setpoint.target_kw - setpoint.baseline_kw - setpoint.battery_kw) / pue
        migrated_in = max(c * (planned_it_change - own_change), 0.0)
        run_in = min(migrated_in, max(self.site.it_capacity_kw - it, 0.0))
        # no room yet: it waits here
        self.state.defer(start, (migrated_in - run_in) * hours, deadline=start + MIGRATED_IN_SLACK)
        if run_in > 1e-9:  # work migrated in also waits for work due here (earliest deadline first)
            self._arriving_run[MIGRATED_IN] = run_in
        return it + run_in, self._battery(c * setpoint.battery_kw, hours, soc_room)

    def _make_room(self, start: datetime, need_kw: float, hours: float) -> float:
        """Hold back up to ``need_kw`` of the deferrable work that arrived this interval and would run now (above
        each class's minimum fraction), then of the work migrated in, into the queue, so that work due now can
        run; returns the kW freed."""
        freed = 0.0
        for name, kw in getattr(self, "_arriving_run", {}).items():
            take = min(kw, need_kw - freed)
            if take > 1e-9:
                deadline = start + MIGRATED_IN_SLACK if name == MIGRATED_IN else None
                self.state.defer(start, take * hours, name, deadline=deadline)
                freed += take
        self._arriving_run = {}
        return freed

    def _follow_grid(
        self, setpoint: Any, start: datetime, it: float, baseline: float, hours: float, soc_room: float
    ) -> tuple[float, float, float]:
        """Follow a setpoint that gives only grid power (an OpenADR event): the planned deviation applied to the
        real baseline, shed from the deferrable share and the batteries, or run as catch-up and migrated-in
        work; returns (IT kW run, target grid kW, battery kW)."""
        pue = self.site.pue
        if setpoint.target_kw < setpoint.baseline_kw:
            wanted = self.compliance * (setpoint.baseline_kw - setpoint.target_kw)
            from_battery = -self._battery(-max(-setpoint.battery_kw, 0.0), hours, soc_room)
            arrivals = self.arrivals_kw(start, it)
            deferrable_it = sum(arrivals[w.name] for w in self.classes if w.max_delay_h)
            from_work = min(max(wanted - from_battery, 0.0), deferrable_it * pue)
            migrated_it = min(
                self.compliance
                * sum(sum(action.get("migrate_kw", {}).values()) for action in setpoint.workloads.values()),
                from_work / pue,
            )
            self.state.defer(start, (from_work / pue - migrated_it) * hours)
            return it - from_work / pue, baseline - from_work - from_battery, -from_battery
        increase = setpoint.target_kw - setpoint.baseline_kw
        battery_kw = self._battery(max(setpoint.battery_kw, 0.0), hours, soc_room)
        planned_it = max(increase - battery_kw, 0.0) / pue
        extra_it = min(planned_it, max(self.site.it_capacity_kw - it, 0.0))
        catch_up_it = sum(
            action.get("catch_up_kw", max(-action.get("defer_kw", 0.0), 0.0))
            for action in setpoint.workloads.values()
        )
        self.state.serve(min(catch_up_it, extra_it) * hours, at=start)
        self.state.defer(start, (planned_it - extra_it) * hours)
        return it + extra_it, baseline + extra_it * pue + battery_kw, battery_kw

    def _battery_soc(self) -> list[tuple[Any, float]]:
        """Each battery's SoC (kWh): the pooled SoC shared in proportion to their maximum SoC."""
        share = self.state.soc_kwh / max(self.battery_capacity, 1e-9)
        return [
            (b, float(np.clip(share * b.soc_max_kwh, 0.0, b.energy_capacity_kwh))) for b in self.batteries
        ]

    def _report_state(self, now: datetime, it: float) -> None:
        """Report the state at ``now`` (the step's end) through ``site_state_report`` (source ``agent``): IT
        load, batteries' SoC, and every queue entry with its class, arrival and deadline."""
        by_name = {w.name: w for w in self.classes}
        queue = [
            {
                "workload_class": by_name[e.workload],
                "energy_kwh": max(float(e.kwh), 0.0),
                "arrived_at": e.arrived,
                "deadline": e.deadline,
                "job_id": _job_id(self.site.pk, e.workload, e.arrived, e.deadline, self.state.delays),
            }
            for e in self.state.queue
            if e.kwh > 1e-9
        ]
        site_state_report(
            principal=None,
            site=self.site,
            data={
                "reported_at": now,
                "it_load_kw": max(float(it), 0.0),
                "batteries": [{"battery": b, "soc_kwh": soc} for b, soc in self._battery_soc()],
                "queue": queue,
                "known_jobs": known_jobs_rows(self.jobs, now, self.state.delays),
            },
            source=StateSource.AGENT,
        )

    def _series(self, owner, quantity: str, dt: timedelta, name: str = ""):
        resolution = f"PT{int(dt.total_seconds() // 60)}M"
        series, _ = timeseries_get_or_create(
            owner=owner,
            quantity=quantity,
            resolution=resolution,
            name=name,
            source="site agent (simulated meter)",
        )
        return series

    def _meter(self, start: datetime, dt: timedelta, grid: float, it: float) -> None:
        index = pd.DatetimeIndex([pd.Timestamp(start)])
        # the work that arrived in the interval, as the site's job scheduler reports it
        datapoints_ingest(
            series=self._series(self.site, Quantity.IT_POWER_KW, dt, name=IT_DEMAND_SERIES),
            rows=pd.Series([max(self._at(self.load, start), 0.0)], index=index),
        )
        datapoints_ingest(
            series=self._series(self.site, Quantity.SITE_POWER_KW, dt), rows=pd.Series([grid], index=index)
        )
        datapoints_ingest(
            series=self._series(self.site, Quantity.IT_POWER_KW, dt),
            rows=pd.Series([max(it, 0.0)], index=index),
        )
        if self.batteries:
            for battery, value in self._battery_soc():
                datapoints_ingest(
                    series=self._series(battery, Quantity.SOC_KWH, dt), rows=pd.Series([value], index=index)
                )
        self.state.readings.append((start, grid))

    def _acknowledge(self) -> None:
        for delivery in selectors.deliveries_pending_for(site_id=self.site.pk).select_related("site"):
            try:
                services.delivery_acknowledge(principal=self.owner, delivery=delivery)
            except services.ConflictError:
                continue


def _job_id(site_pk: int, workload: str, arrived: datetime, deadline: datetime, delays: dict) -> str:
    """A queue entry's job id: site, class and arrival (epoch s), and the deadline too when it is not the class's
    own (work migrated in)."""
    job = f"{site_pk}-{workload}-{pd.Timestamp(arrived).value // 10**9}"
    if deadline != arrived + delays.get(workload, deadline - arrived):
        job += f"-due-{pd.Timestamp(deadline).value // 10**9}"
    return job


def _class_actions(setpoint: Any) -> bool:
    """Whether a setpoint carries per-class actions (``served_kw`` per workload class: a stored plan's)."""
    return any(isinstance(a, dict) and "served_kw" in a for a in (setpoint.workloads or {}).values())
