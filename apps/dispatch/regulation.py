"""Regulation plans: a symmetric band per site, and setpoints that carry the signal, not its mean.

A regulation activation follows a fast signal (PJM RegA: a fraction of the award in [−1, 1] every 2 s; > 0 asks
for less consumption). No 15-minute setpoint can track it, so the plan reserves capacity instead: each site gets
a share of the award within its symmetric band, and each setpoint carries that share, the site's band both ways
and the slice of the signal that falls in the setpoint's interval. The site follows ``share × signal(t)`` at the
signal's cadence around its operating point (:mod:`apps.simulation.regulation`); the setpoint's target is the
baseline (regulation is energy-neutral around it), so the plan holds no mean battery setpoint.

Band of a site over the activation window (``H`` hours; the rule of :func:`site_regulation_band`):

- battery down (discharge, less consumption): ``min(P, (SoC − max(SoC min, backup reserve)) × η_d / H)`` — a
  battery at its backup reserve cannot discharge at all, one a little above it only as long as the hour lasts;
- battery up (charge, more consumption): ``min(P, (SoC max − SoC) / η_c / H)``;
- IT down: deferrable IT share × PUE (deferring batch/training work; inference is never touched);
- IT up: spare IT capacity (capacity − IT load), at most the deferrable share, × PUE: catching up deferred work
  from the site's queue, which the signal's own down moves fill (RegA is energy-neutral over minutes);
- each IT term is its minimum over the window's intervals; the site's symmetric band is ``min(up, down)``.

The award is split pro rata to the symmetric bands, capped at the total (PJM Manual 12 §4.5: regulation is a
symmetric capability, offered as one MW figure up and down).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

import flexibility
from apps.assets.models import Site
from apps.markets.models import Activation
from apps.markets.portfolio import portfolio_problem

from .planning import PlanDraft, SiteSetpoints

#: Key of a setpoint's ``workloads`` that carries a regulation order (what :mod:`apps.simulation.regulation` reads).
REGULATION_KEY = "regulation"
#: The private OpenADR event payload type carrying that order to a VEN (one value: the order JSON-encoded).
REGULATION_PAYLOAD = "X_VPP_REGULATION"


@dataclass(frozen=True)
class RegulationBand:
    """What one site can regulate for a whole window (kW): ``up`` = more consumption, ``down`` = less, by
    batteries and by deferrable IT (grid side, IT × PUE)."""

    battery_up_kw: float
    battery_down_kw: float
    it_up_kw: float
    it_down_kw: float

    @property
    def up_kw(self) -> float:
        return self.battery_up_kw + self.it_up_kw

    @property
    def down_kw(self) -> float:
        return self.battery_down_kw + self.it_down_kw

    @property
    def symmetric_kw(self) -> float:
        """The band offered both ways: ``min(up, down)``."""
        return min(self.up_kw, self.down_kw)


def site_regulation_band(site: flexibility.Site, *, hours: float) -> RegulationBand:
    """The regulation band of ``site`` (a :class:`flexibility.Site` over the window's intervals: workloads'
    ``baseline_kw`` of shape ``(n,)``, batteries with their initial SoC) held for ``hours``; the rule is in the
    module docstring.

    Raises:
        ValueError: ``hours`` is not positive.
    """
    if hours <= 0:
        raise ValueError("hours must be positive")
    down = up = 0.0
    for b in site.batteries:
        room_down = max(b.soc_initial_kwh - b.soc_floor_kwh, 0.0) * b.discharge_efficiency / hours
        room_up = max(b.soc_upper_kwh - b.soc_initial_kwh, 0.0) / b.charge_efficiency / hours
        down += min(b.power_kw, room_down)
        up += min(b.power_kw, room_up)
    it_down = it_up = 0.0
    if site.workloads:
        total = np.sum([np.asarray(w.baseline_kw, dtype=float) for w in site.workloads], axis=0)
        deferrable = [np.asarray(w.baseline_kw, dtype=float) for w in site.workloads if w.deferrable]
        if deferrable:
            shed = np.sum(deferrable, axis=0)
            spare = np.maximum(site.it_capacity_kw - total, 0.0) if np.isfinite(site.it_capacity_kw) else shed
            it_down = float(np.min(shed)) * site.pue
            it_up = float(np.min(np.minimum(spare, shed))) * site.pue
    return RegulationBand(battery_up_kw=up, battery_down_kw=down, it_up_kw=it_up, it_down_kw=it_down)


def split_band(bands: list[RegulationBand], award_kw: float | None) -> list[float]:
    """Each site's share (kW) of ``award_kw`` (``None``: the whole portfolio band), pro rata to its symmetric
    band and never above it.

    Raises:
        ValueError: no site has a band.
    """
    total = sum(b.symmetric_kw for b in bands)
    if total <= 0:
        raise ValueError("regulation needs a band: no participating site can move both ways")
    band_kw = min(award_kw if award_kw else total, total)
    return [band_kw * b.symmetric_kw / total for b in bands]


def signal_slice(
    signal: list[float] | None, *, signal_start: datetime, step_s: int, start: datetime, end: datetime
) -> list[float]:
    """The samples of ``signal`` (one every ``step_s`` from ``signal_start``) that fall in ``[start, end)``."""
    if not signal:
        return []
    first = max(0, int(np.ceil((start - signal_start).total_seconds() / step_s)))
    last = max(0, int(np.ceil((end - signal_start).total_seconds() / step_s)))
    return [float(v) for v in signal[first:last]]


def regulation_order(
    *, share_kw: float, band: RegulationBand, activation: Activation, start: datetime, end: datetime
) -> dict:
    """What one setpoint carries for regulation (JSON): the site's share and band (kW), the signal's start
    (ISO 8601), resolution (s) and the samples of ``[start, end)`` (fractions of the share; > 0 = less
    consumption)."""
    step_s = int(activation.signal_resolution_seconds or 2)
    return {
        "share_kw": round(share_kw, 3),
        "band_up_kw": round(band.up_kw, 3),
        "band_down_kw": round(band.down_kw, 3),
        "activation_id": activation.activation_id,
        "signal_start": start.isoformat(),
        "signal_resolution_seconds": step_s,
        "signal": signal_slice(
            activation.signal, signal_start=activation.start, step_s=step_s, start=start, end=end
        ),
    }


def plan_regulation(
    activation: Activation, sites: list[Site], begin: datetime, n: int, step: timedelta, belief_time: datetime
) -> PlanDraft:
    """The regulation plan of ``activation`` over ``n`` intervals of ``step`` from ``begin``: per site, target =
    baseline (kW, IT forecast × PUE − PV), battery setpoint 0, and in ``workloads`` the
    :func:`regulation_order` of each interval.

    Raises:
        ValueError: no participating site has a band both ways.
    """
    built = portfolio_problem(
        sites=sites,
        start=begin,
        steps=n,
        belief_time=belief_time,
        resolution_s=int(step.total_seconds()),
        include_migration_targets=False,
    )
    hours = n * step.total_seconds() / 3600
    by_id = {fs.id: fs for fs in built.problem.sites}
    problems = [by_id[str(s.pk)] for s in sites]
    bands = [site_regulation_band(fs, hours=hours) for fs in problems]
    shares = split_band(bands, activation.kw)
    starts = [begin + i * step for i in range(n)]
    per_site = []
    for s, fs, band, share in zip(sites, problems, bands, shares, strict=True):
        it = np.sum([w.baseline_kw for w in fs.workloads], axis=0) if fs.workloads else np.zeros(n)
        baseline = s.pue * np.asarray(it, dtype=float) - (fs.pv_kw if fs.pv_kw is not None else 0.0)
        orders = [
            {
                REGULATION_KEY: regulation_order(
                    share_kw=share, band=band, activation=activation, start=t, end=t + step
                )
            }
            for t in starts
        ]
        per_site.append(
            SiteSetpoints(
                site=s,
                starts=starts,
                baseline_kw=np.asarray(baseline),
                target_kw=np.asarray(baseline).copy(),
                battery_kw=np.zeros(n),
                workloads=orders,
            )
        )
    band_kw = float(sum(shares))
    return PlanDraft(
        requested_kw=band_kw,
        planned_kw=band_kw,
        valid_from=begin,
        step=step,
        sites=per_site,
        inputs={
            "signal_points": len(activation.signal or []),
            "bands_kw": {
                str(s.pk): [round(b.up_kw, 3), round(b.down_kw, 3)] for s, b in zip(sites, bands, strict=True)
            },
        },
    )
