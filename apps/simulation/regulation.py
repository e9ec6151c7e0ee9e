"""A simulated site following a regulation signal at its cadence, inside the agent's 15-minute step.

The setpoint's regulation order (:mod:`apps.dispatch.regulation`) gives the site its share (kW) and the signal
samples (fractions, > 0 = less consumption, every ``signal_resolution_seconds``). Per sample, the site wants a
reduction ``compliance × share × signal(t)`` from its operating point and splits it (:func:`simulate_regulation`):

- batteries first, within their power and their SoC room (never below the backup reserve, never above SoC max),
  each sample, with a first-order lag of ``tau_battery_s`` (~1 s: inverter response);
- deferrable IT for the rest: down by deferring work (at most the deferrable share × PUE), up by running deferred
  work from the queue (at most the spare capacity, the deferrable share and what the queue holds), with a
  first-order lag of ``tau_it_s`` (30 s: AI clusters cut power within 30 s, the project brief).

The SoC moves with the battery's regulation energy (η on charge and discharge), the queue with the IT energy.
The site meters its grid power every 10 s (PJM scores 10-second samples) with Gaussian meter noise into a
dedicated series, and its operating point (its regulation base point) beside it; the main meter's 15-minute
reading includes the regulation's mean.

:func:`follow_regulation` is the agent's hook: it runs the ordinary step (the site's other setpoints, rebound,
deadlines) for the operating point and adds the regulation on top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apps.dispatch import selectors
from apps.telemetry.choices import (
    REGULATION_BASE_POINT_SERIES,
    REGULATION_METER_RESOLUTION,
    REGULATION_METER_SERIES,
    Quantity,
)
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create

if TYPE_CHECKING:
    from .agent import SiteAgent

METER_STEP_S = 10
EFFICIENCY = 0.95


@dataclass(frozen=True)
class RegulationOrder:
    """A regulation order in force: ``share_kw`` and the signal (fractions) every ``step_s`` from ``start``."""

    share_kw: float
    start: datetime
    step_s: int
    signal: tuple[float, ...]

    @classmethod
    def from_workloads(cls, workloads: dict | None) -> RegulationOrder | None:
        """The order of a setpoint's ``workloads`` (``None`` without a ``"regulation"`` key or samples)."""
        order = (workloads or {}).get("regulation")
        if not order or not order.get("signal"):
            return None
        return cls(
            share_kw=float(order["share_kw"]),
            start=datetime.fromisoformat(order["signal_start"]),
            step_s=int(order.get("signal_resolution_seconds") or 2),
            signal=tuple(float(v) for v in order["signal"]),
        )


@dataclass(frozen=True)
class RegulationPlant:
    """What a site can move for regulation now: battery power (kW) and SoC (kWh: now, floor = max(SoC min,
    backup reserve), max), IT down/up (grid kW, IT × PUE), the queue of deferred work (grid kWh), lags (s)."""

    battery_power_kw: float
    soc_kwh: float
    soc_floor_kwh: float
    soc_max_kwh: float
    it_down_kw: float
    it_up_kw: float
    queue_kwh: float
    tau_battery_s: float = 1.0
    tau_it_s: float = 30.0


@dataclass(frozen=True)
class RegulationPath:
    """The site's regulation per signal sample: ``response_kw`` (reduction from the operating point, kW),
    ``battery_kw`` (discharge > 0), ``it_kw`` (IT reduction, grid side, > 0 = work deferred); the end SoC (kWh)
    and the net IT energy deferred (grid kWh, < 0 = queued work run)."""

    step_s: float
    response_kw: np.ndarray
    battery_kw: np.ndarray
    it_kw: np.ndarray
    soc_kwh: float
    it_deferred_kwh: float


def simulate_regulation(requested_kw: np.ndarray, *, step_s: float, plant: RegulationPlant) -> RegulationPath:
    """Follow ``requested_kw`` (kW of reduction per sample, shape ``(n,)``) every ``step_s`` seconds with
    ``plant``; the rule is in the module docstring (batteries first within power and SoC, then IT; first-order
    lags ``x += (x* − x)(1 − e^(−Δt/τ))``).

    Raises:
        ValueError: ``step_s`` is not positive.
    """
    if step_s <= 0:
        raise ValueError("step_s must be positive")
    h = step_s / 3600
    a_b = 1 - math.exp(-step_s / max(plant.tau_battery_s, 1e-9))
    a_it = 1 - math.exp(-step_s / max(plant.tau_it_s, 1e-9))
    soc, queue = plant.soc_kwh, plant.queue_kwh
    b = it = 0.0
    n = len(requested_kw)
    out_b, out_it = np.zeros(n), np.zeros(n)
    deferred = 0.0
    for k, want in enumerate(np.asarray(requested_kw, dtype=float)):
        most_out = min(plant.battery_power_kw, max(soc - plant.soc_floor_kwh, 0.0) * EFFICIENCY / h)
        most_in = min(plant.battery_power_kw, max(plant.soc_max_kwh - soc, 0.0) / EFFICIENCY / h)
        b_target = float(np.clip(want, -most_in, most_out))
        b = float(np.clip(b + (b_target - b) * a_b, -most_in, most_out))
        it_up = min(plant.it_up_kw, max(queue, 0.0) / h)
        it_target = float(np.clip(want - b_target, -it_up, plant.it_down_kw))
        it = float(np.clip(it + (it_target - it) * a_it, -it_up, plant.it_down_kw))
        soc += (-b / EFFICIENCY if b > 0 else -b * EFFICIENCY) * h
        queue += it * h
        deferred += it * h
        out_b[k], out_it[k] = b, it
    return RegulationPath(step_s, out_b + out_it, out_b, out_it, soc, deferred)


def meter_means(values: np.ndarray, *, step_s: float, meter_s: int = METER_STEP_S) -> np.ndarray:
    """Means of ``values`` (one every ``step_s``) over consecutive meter intervals of ``meter_s`` (the meter
    reports mean power over its interval); a last partial interval gets the mean of the samples present."""
    per = max(1, round(meter_s / step_s))
    n = math.ceil(len(values) / per)
    return np.array([float(np.mean(values[i * per : (i + 1) * per])) for i in range(n)])


def _orders_for(agent: SiteAgent, start: datetime, dt: timedelta) -> list[RegulationOrder]:
    own = getattr(agent, "regulation_orders_between", None)
    if own is not None:
        return list(own(start, start + dt))
    rows = selectors.regulation_setpoints_between(site_id=agent.site.pk, start=start, end=start + dt)
    return [o for o in (RegulationOrder.from_workloads(r.workloads) for r in rows) if o is not None]


def _plant(agent: SiteAgent, start: datetime) -> RegulationPlant:
    it = agent._at(agent.load, start)
    pue = agent.site.pue
    shed = agent.deferrable_share * max(it, 0.0)
    spare = max(agent.site.it_capacity_kw - it, 0.0)
    return RegulationPlant(
        battery_power_kw=agent.battery_power,
        soc_kwh=agent.state.soc_kwh,
        soc_floor_kwh=agent.soc_floor,
        soc_max_kwh=agent.battery_capacity,
        it_down_kw=shed * pue,
        it_up_kw=min(spare, shed) * pue,
        queue_kwh=agent.state.backlog_kwh * pue,
        tau_it_s=agent.tau_s,
    )


def _samples(
    orders: list[RegulationOrder], start: datetime, dt: timedelta
) -> tuple[datetime, int, np.ndarray]:
    """The orders' samples inside ``[start, start + dt)`` (kW of reduction: share × signal), the time of the
    first and the sample step (s; the first order's)."""
    picked: dict[datetime, float] = {}
    for order in orders:
        for k, v in enumerate(order.signal):
            t = order.start + timedelta(seconds=k * order.step_s)
            if start <= t < start + dt:
                picked.setdefault(t, order.share_kw * v)
    if not picked:
        return start, 1, np.zeros(0)
    times = sorted(picked)
    return times[0], orders[0].step_s, np.array([picked[t] for t in times])


def follow_regulation(agent: SiteAgent, now: datetime, dt: timedelta) -> float | None:
    """The agent's step ``[now − dt, now)`` with a regulation order in force, or ``None`` without one.

    Runs the ordinary :meth:`~apps.simulation.agent.SiteAgent.step` for the operating point ``g`` (its 15-minute
    reading, other setpoints included), then the regulation from the samples in the step: SoC and queue move with
    it, ``g − response`` (+ meter noise) is metered every 10 s with ``g`` as the base point, and the 15-minute
    reading becomes ``g − mean(response)``. Returns that reading (kW)."""
    start = now - dt
    if getattr(agent, "_regulating", False):
        return None
    orders = _orders_for(agent, start, dt)
    if not orders:
        return None
    agent._regulating = True  # type: ignore[attr-defined]
    try:
        base = agent.step(now, dt)
    finally:
        agent._regulating = False  # type: ignore[attr-defined]
    first, step_s, wanted_kw = _samples(orders, start, dt)
    if len(wanted_kw) == 0:
        return base
    path = simulate_regulation(agent.compliance * wanted_kw, step_s=step_s, plant=_plant(agent, start))
    agent.state.soc_kwh = path.soc_kwh
    if path.it_deferred_kwh > 0:
        agent.state.defer(start, path.it_deferred_kwh / agent.site.pue)
    else:
        agent.state.serve(-path.it_deferred_kwh / agent.site.pue)
    mean_response = float(np.sum(path.response_kw) * step_s / dt.total_seconds())
    _meter_fast(agent, first, base, meter_means(path.response_kw, step_s=step_s))
    reading = base - mean_response
    datapoints_ingest(
        series=agent._series(agent.site, Quantity.SITE_POWER_KW, dt),
        rows=pd.Series([reading], index=pd.DatetimeIndex([pd.Timestamp(start)])),
    )
    return reading


def _fast_series(agent: SiteAgent, name: str) -> Any:
    series, _ = timeseries_get_or_create(
        owner=agent.site,
        quantity=Quantity.SITE_POWER_KW,
        resolution=REGULATION_METER_RESOLUTION,
        name=name,
        source="site agent (simulated 10-second regulation meter)",
    )
    return series


def _meter_fast(agent: SiteAgent, first: datetime, base_kw: float, response_kw: np.ndarray) -> None:
    """10-second readings from ``first`` (floored to 10 s): grid = base − response + noise, and the base point."""
    t0 = pd.Timestamp(first).floor(f"{METER_STEP_S}s")
    index = pd.date_range(t0, periods=len(response_kw), freq=f"{METER_STEP_S}s")
    noise = agent.rng.normal(0.0, agent.noise * abs(base_kw) + 1e-9, len(response_kw))
    datapoints_ingest(
        series=_fast_series(agent, REGULATION_METER_SERIES),
        rows=pd.Series(base_kw - response_kw + noise, index=index),
    )
    datapoints_ingest(
        series=_fast_series(agent, REGULATION_BASE_POINT_SERIES),
        rows=pd.Series(np.full(len(response_kw), base_kw), index=index),
    )
