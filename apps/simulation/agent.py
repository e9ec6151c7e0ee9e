"""A simulated datacenter site control system (a VEN): it follows its setpoints and meters what it did.

Physics, per step of ``dt`` ending at ``now``:

- uncontrolled grid power ``b = PUE × u(t) − PV(t)`` from the site's uncontrolled IT load ``u`` (the load it
  would run without the aggregator);
- during a setpoint, the planned deviation ``target_kw − baseline_kw`` is applied to the real ``b``: a reduction
  (times ``compliance``: 1 = perfect, < 1 an under-delivering site) is limited to what the site can shed — its
  deferrable IT share × PUE plus its batteries' discharge power above the backup reserve; deferred work enters a
  backlog, work migrated to another site does not (that site runs it); a planned increase charges the batteries
  as planned and runs caught-up or migrated-in work;
- deferred work is served afterwards: as the plan catches it up, else (with no setpoint) at up to
  :data:`REBOUND_FRACTION` of the spare IT capacity, and in any case when it reaches its deadline (the
  tightest ``max_delay_h`` of the site's deferrable classes: the SLA); discharged batteries recharge;
- the grid power moves towards its target as a first-order lag with time constant ``tau_s`` (AI clusters cut
  25–35 % of power within 30 s, per the project brief), averaged over the step, plus Gaussian meter noise.

Each step writes the interval's mean ``site_power_kw``, ``it_power_kw`` (the IT power it ran), the IT demand that
arrived (``it_power_kw`` named :data:`~apps.telemetry.choices.IT_DEMAND_SERIES`) and batteries' ``soc_kwh`` to
telemetry, and acknowledges any setpoints delivered to the site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.dispatch import selectors, services
from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity, StateSource
from apps.telemetry.services import datapoints_ingest, site_state_report, timeseries_get_or_create

from .regulation import follow_regulation

REBOUND_FRACTION = 0.5


@dataclass
class AgentState:
    #: deferred IT work not yet run: ``[arrival time, kWh]``, oldest first
    backlog: list[list] = field(default_factory=list)
    grid_kw: float | None = None
    soc_kwh: float = 0.0
    soc_target_kwh: float = 0.0
    readings: list[tuple[datetime, float]] = field(default_factory=list)

    @property
    def backlog_kwh(self) -> float:
        return sum(kwh for _, kwh in self.backlog)

    def defer(self, moment: datetime, kwh: float) -> None:
        if kwh > 1e-9:
            self.backlog.append([moment, kwh])

    def serve(self, kwh: float) -> float:
        """Run up to ``kwh`` of the oldest deferred work; returns how much was run."""
        served = 0.0
        while self.backlog and served < kwh - 1e-12:
            take = min(self.backlog[0][1], kwh - served)
            self.backlog[0][1] -= take
            served += take
            if self.backlog[0][1] <= 1e-12:
                self.backlog.pop(0)
        return served

    def overdue_kwh(self, moment: datetime, max_delay: timedelta) -> float:
        return sum(kwh for arrived, kwh in self.backlog if arrived + max_delay <= moment)


class SiteAgent:
    """Follows the site's setpoints over time; see the module docstring for the physics.

    ``uncontrolled_it_kw``: the site's IT load without the aggregator, a Series on an aware UTC index (any
    resolution; held between points). ``pv_kw``: optional PV generation on the same kind of index.
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
    ) -> None:
        self.site = site
        self.load = uncontrolled_it_kw.sort_index()
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
        self.state = AgentState(soc_kwh=start_soc, soc_target_kwh=start_soc)
        self.owner = Principal(organisation=site.owner, role="ven")

    def _at(self, series: pd.Series | None, moment: datetime) -> float:
        if series is None or series.empty:
            return 0.0
        pos = series.index.searchsorted(pd.Timestamp(moment), side="right") - 1
        return float(series.iloc[max(pos, 0)])

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
        it = self._at(self.load, start)
        pv = min(self._at(self.pv, start), max(it * self.site.pue, 0.0)) if self.pv is not None else 0.0
        baseline = self.site.pue * it - pv
        setpoint = self.setpoint_at(start)
        battery_kw = 0.0
        soc_room = max(self.battery_capacity - self.state.soc_kwh, 0.0) / (0.95 * hours)
        # work at its deadline runs now, whatever the plan says (the SLA)
        overdue_it = self.state.overdue_kwh(start, self.max_delay) / hours
        if setpoint is not None and setpoint.target_kw < setpoint.baseline_kw:
            wanted = self.compliance * (setpoint.baseline_kw - setpoint.target_kw)
            from_battery = min(
                max(-setpoint.battery_kw, 0.0),
                self.battery_power,
                max(self.state.soc_kwh - self.soc_floor, 0.0) / hours,
            )
            from_work = min(max(wanted - from_battery, 0.0), self.deferrable_share * it * self.site.pue)
            migrated_it = min(
                self.compliance
                * sum(sum(action.get("migrate_kw", {}).values()) for action in setpoint.workloads.values()),
                from_work / self.site.pue,
            )
            battery_kw = -from_battery
            self.state.defer(start, (from_work / self.site.pue - migrated_it) * hours)
            it -= from_work / self.site.pue  # the IT meter sees the work deferred or migrated away
            target = baseline - from_work - from_battery
        elif setpoint is not None:
            # a planned increase: charge as planned, catch up the site's own deferred work (its classes' negative
            # defer_kw), run work migrated in from other sites (the rest of the increase)
            increase = setpoint.target_kw - setpoint.baseline_kw
            battery_kw = min(max(setpoint.battery_kw, 0.0), self.battery_power, soc_room)
            planned_it = max(increase - battery_kw, 0.0) / self.site.pue
            extra_it = min(planned_it, max(self.site.it_capacity_kw - it, 0.0))
            catch_up_it = sum(
                max(-action.get("defer_kw", 0.0), 0.0) for action in setpoint.workloads.values()
            )
            self.state.serve(min(catch_up_it, extra_it) * hours)
            # planned work beyond the IT capacity (migrated in) waits here for room rather than vanishing
            self.state.defer(start, (planned_it - extra_it) * hours)
            it += extra_it
            target = baseline + extra_it * self.site.pue + battery_kw
        else:
            spare_it = max(self.site.it_capacity_kw - it, 0.0) * REBOUND_FRACTION
            rebound_it = self.state.serve(spare_it * hours) / hours
            if self.state.soc_kwh < self.state.soc_target_kwh - 1e-6:
                battery_kw = min(
                    self.battery_power, (self.state.soc_target_kwh - self.state.soc_kwh) / hours, soc_room
                )
            it += rebound_it
            target = baseline + rebound_it * self.site.pue + battery_kw
        # overdue work runs now, as far as the IT capacity allows (the rest runs as soon as there is room)
        forced_it = self.state.serve(min(overdue_it, max(self.site.it_capacity_kw - it, 0.0)) * hours) / hours
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

    def _battery_soc(self) -> list[tuple[Any, float]]:
        """Each battery's SoC (kWh): the pooled SoC shared in proportion to their maximum SoC."""
        share = self.state.soc_kwh / max(self.battery_capacity, 1e-9)
        return [
            (b, float(np.clip(share * b.soc_max_kwh, 0.0, b.energy_capacity_kwh))) for b in self.batteries
        ]

    def _report_state(self, now: datetime, it: float) -> None:
        """Report the state at ``now`` (the step's end) through ``site_state_report`` (source ``agent``): IT
        load, batteries' SoC, and the backlog as queued work of :attr:`queue_class` due ``max_delay`` after
        arrival (the SLA the agent applies); with no deferrable class the queue is not reported."""
        queue = []
        if self.queue_class is not None:
            queue = [
                {
                    "workload_class": self.queue_class,
                    "energy_kwh": max(float(kwh), 0.0),
                    "arrived_at": arrived,
                    "deadline": arrived + self.max_delay,
                    "job_id": f"{self.site.pk}-{pd.Timestamp(arrived).value // 10**9}",
                }
                for arrived, kwh in self.state.backlog
            ]
        site_state_report(
            principal=None,
            site=self.site,
            data={
                "reported_at": now,
                "it_load_kw": max(float(it), 0.0),
                "batteries": [{"battery": b, "soc_kwh": soc} for b, soc in self._battery_soc()],
                "queue": queue,
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
