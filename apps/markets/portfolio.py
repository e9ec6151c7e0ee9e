"""The portfolio as a flexibility problem: sites, workloads, batteries, PV, prices and carbon over a horizon,
as known at a belief time. Bidding (envelopes) and dispatch (disaggregation) both start here.

Sign and units follow DESIGN.md and ``flexibility/``: kW, kWh, currency per MWh, gCO2/kWh; ids in the problem are
site primary keys as strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

import flexibility
from apps.assets.models import Site
from apps.forecasts.compute_power import derived_it_series_of
from apps.forecasts.selectors import Expected, series_expected
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import it_load_series, series_for

from .workloads import workload_models

#: Typical IT utilisation used when a site has no metered or forecast load yet (Google 2019 cell traces show
#: mean cluster utilisation around 60–70 %; Tirmazi et al., EuroSys 2020).
NOMINAL_IT_UTILISATION = 0.7
#: With a headroom quantile, a site also keeps this fraction of its IT capacity free for added work (caught up or
#: migrated in): the quantile band of a forecast is itself uncertain, and work that finds no room when it falls
#: due runs late (``VPP_HEADROOM_FRACTION``).
HEADROOM_FRACTION = 0.10


def _headroom_fraction() -> float:
    from django.conf import settings

    return float(getattr(settings, "VPP_HEADROOM_FRACTION", HEADROOM_FRACTION))


@dataclass(frozen=True)
class PortfolioProblem:
    """A :class:`flexibility.Problem` plus where each input came from."""

    problem: flexibility.Problem
    sites: dict[str, Site]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.problem.start)


def _zone(
    zone_code: str, start: datetime, steps: int, resolution_s: int, belief: datetime, notes: dict
) -> flexibility.Zone:
    price = series_expected(
        series=series_for(zone=zone_code, quantity=Quantity.PRICE),
        start=start,
        steps=steps,
        resolution_s=resolution_s,
        belief_time=belief,
        use_actuals=True,
    )
    carbon = series_expected(
        series=series_for(zone=zone_code, quantity=Quantity.CARBON_INTENSITY_G_PER_KWH),
        start=start,
        steps=steps,
        resolution_s=resolution_s,
        belief_time=belief,
        use_actuals=True,
    )
    notes[f"zone:{zone_code}:price"] = price.source
    notes[f"zone:{zone_code}:carbon"] = carbon.source
    return flexibility.Zone(
        price_per_mwh=_filled(price), export_price_per_mwh=_filled(price), carbon_g_per_kwh=_filled(carbon)
    )


def _filled(expected: Expected) -> np.ndarray:
    """Gaps filled with the profile's median (or 0 when nothing is known): neutral for the optimiser."""
    values = expected.values.copy()
    if np.isnan(values).all():
        return np.zeros_like(values)
    values[np.isnan(values)] = float(np.nanmedian(values))
    return values


@dataclass(frozen=True)
class Horizon:
    """What every site of one problem is read for: ``steps`` intervals of ``resolution_s`` s from ``start``, as
    known at ``belief`` (IT load at ``quantile``; with ``headroom_quantile``, receiving sites keep the gap
    between it and the load quantile free; with ``perfect_foresight`` the actual IT demand and PV are used)."""

    start: datetime
    steps: int
    resolution_s: int
    belief: datetime
    quantile: str
    headroom_quantile: str | None = None
    perfect_foresight: bool = False


def _it_expected(site: Site, h: Horizon, quantile: str) -> Expected:
    # a site that reports only utilisation: its IT load forecast derived through its compute-power model
    it_series = it_load_series(site=site) or derived_it_series_of(site=site)
    return series_expected(
        series=it_series,
        start=h.start,
        steps=h.steps,
        resolution_s=h.resolution_s,
        belief_time=h.belief,
        quantile=quantile,
        nominal=NOMINAL_IT_UTILISATION * site.it_capacity_kw,
        use_actuals=h.perfect_foresight,
    )


def _site(
    site: Site, h: Horizon, members: set[int], notes: dict, state: Any | None = None
) -> flexibility.Site:
    """The flexibility model of one site over the horizon ``h``; each input's source is noted in ``notes``.
    ``state`` (an :class:`apps.telemetry.selectors.LiveState`, optional) is the site's live state: its queued
    work enters as each class's queue with its deadlines, its battery SoC as the initial SoC."""
    key = str(site.pk)
    it = _it_expected(site, h, h.quantile)
    notes[f"site:{key}:it_load"] = it.source
    it_kw = np.clip(it.values, 0.0, None)
    reserve = None
    if h.headroom_quantile and h.headroom_quantile != h.quantile and not h.perfect_foresight:
        upper = _it_expected(site, h, h.headroom_quantile)
        reserve = np.clip(np.nan_to_num(upper.values - it.values), 0.0, None)
        reserve = reserve + _headroom_fraction() * site.it_capacity_kw
        notes[f"site:{key}:it_headroom"] = f"{h.headroom_quantile} − {h.quantile}: {upper.source}"
    pv_kw = _site_pv_kw(site, h.start, h.steps, h.resolution_s, h.belief, notes, h.perfect_foresight)
    all_jobs = None
    if h.perfect_foresight:  # every job the site ran: its classes as they were, not their shares
        from apps.telemetry.selectors import known_jobs_reported_between

        end = h.start + timedelta(seconds=h.steps * h.resolution_s)
        all_jobs = known_jobs_reported_between(site=site, start=h.start, end=end)
        if all_jobs:
            notes[f"site:{key}:classes"] = f"{len(all_jobs)} jobs it reported"
    return flexibility.Site(
        id=key,
        zone=site.market_zone_id,
        grid_import_limit_kw=site.grid_import_limit_kw,
        grid_export_limit_kw=site.grid_export_limit_kw,
        pue=site.pue,
        pv_kw=pv_kw if pv_kw.any() else None,
        it_capacity_kw=site.it_capacity_kw,
        it_reserve_kw=reserve if reserve is not None and reserve.any() else None,
        workloads=workload_models(site, it_kw, h.start, h.resolution_s, members, state, all_jobs),
        batteries=_site_batteries(site, h.resolution_s, h.belief, notes, state),
    )


def _site_pv_kw(
    site: Site,
    start: datetime,
    steps: int,
    resolution_s: int,
    belief: datetime,
    notes: dict,
    actual: bool = False,
) -> np.ndarray:
    """Expected PV output of the site's arrays, kW per step (each array clipped to its AC limit; zeros
    without arrays); with ``actual``, the metered output where it is stored."""
    pv_kw = np.zeros(steps)
    for array in site.pv_arrays.all():
        pv = series_expected(
            series=series_for(pv_array=array, quantity=Quantity.PV_POWER_KW),
            start=start,
            steps=steps,
            resolution_s=resolution_s,
            belief_time=belief,
            nominal=0.0,
            use_actuals=actual,
        )
        notes[f"pv_array:{array.pk}"] = pv.source
        pv_kw += np.clip(pv.values, 0.0, array.ac_limit_kw)
    return pv_kw


def _site_batteries(
    site: Site, resolution_s: int, belief: datetime, notes: dict, state: Any | None = None
) -> tuple[flexibility.Battery, ...]:
    """The site's batteries, each starting from its last known state of charge (kWh, clipped to
    [max(SoC min, backup reserve), SoC max]: the live state's when it reports one, else the last metered) and
    required to end no lower."""
    batteries = []
    live_soc = getattr(state, "battery_soc_kwh", None) or {}
    for battery in site.batteries.all():
        floor = max(battery.soc_min_kwh, battery.backup_reserve_kwh)
        if state is not None and battery.pk in live_soc:
            soc_initial = float(np.clip(live_soc[battery.pk], floor, battery.soc_max_kwh))
            notes[f"battery:{battery.pk}:soc"] = f"live state at {state.reported_at:%Y-%m-%d %H:%M}"
            batteries.append(_battery_model(battery, soc_initial))
            continue
        soc = series_expected(
            series=series_for(battery=battery, quantity=Quantity.SOC_KWH),
            start=belief - timedelta(seconds=resolution_s),
            steps=1,
            resolution_s=resolution_s,
            belief_time=belief,
            use_actuals=True,
            nominal=(floor + battery.soc_max_kwh) / 2,
        )
        soc_initial = float(np.clip(soc.values[0], floor, battery.soc_max_kwh))
        notes[f"battery:{battery.pk}:soc"] = soc.source
        batteries.append(_battery_model(battery, soc_initial))
    return tuple(batteries)


def _battery_model(battery: Any, soc_initial: float) -> flexibility.Battery:
    return flexibility.Battery(
        energy_kwh=battery.energy_capacity_kwh,
        power_kw=min(battery.max_charge_kw, battery.max_discharge_kw),
        charge_efficiency=battery.charge_efficiency,
        discharge_efficiency=battery.discharge_efficiency,
        soc_initial_kwh=soc_initial,
        soc_min_kwh=battery.soc_min_kwh,
        soc_max_kwh=battery.soc_max_kwh,
        backup_reserve_kwh=battery.backup_reserve_kwh,
        soc_final_min_kwh=soc_initial,
        cycle_cost_per_mwh=battery.degradation_cost_per_mwh,
    )


def portfolio_problem(
    *,
    sites: Iterable[Site],
    start: datetime,
    steps: int,
    belief_time: datetime,
    resolution_s: int = 900,
    load_quantile: str = "p50",
    commitments: Sequence[flexibility.Commitment] = (),
    carbon_price_per_tonne: float = 0.0,
    include_migration_targets: bool = True,
    exclude_site_ids: frozenset[int] = frozenset(),
    live_states: Mapping[int, Any] | None = None,
    headroom_quantile: str | None = None,
    lateness_penalty_per_mwh: float | None = None,
    perfect_foresight: bool = False,
) -> PortfolioProblem:
    """Build the flexibility problem of ``sites`` over ``steps`` intervals of ``resolution_s`` from ``start``.

    Inputs as known at ``belief_time``: IT load from the latest forecast's ``load_quantile`` (bidding uses a
    low quantile so as not to promise flexibility the portfolio may not have; a site without an IT power series
    uses the forecast derived from its utilisation, :mod:`apps.forecasts.compute_power`), else seasonal naive, else
    :data:`NOMINAL_IT_UTILISATION` of IT capacity; PV from forecasts (else 0); battery SoC from the last metered
    value (else mid-range), which the horizon must end at or above; zone prices and carbon intensity from the
    stored day-ahead values. Each workload class takes its share of the site's IT load; deferrable classes may
    run up to 1.5× their share of IT capacity and move to the sites they are migratable to (when those are in
    the problem); each site runs at most its IT capacity (its fixed load, caught-up and migrated-in work). Sites in ``exclude_site_ids`` are left out, also as migration targets (a re-dispatch must not
    move work to a site that is under-delivering). ``sources`` in the result says which input came from where.

    Closed loop (all optional): ``live_states`` (site pk → :class:`apps.telemetry.selectors.LiveState`) start the
    horizon from each site's live state (queued work with its deadlines, battery SoC); ``headroom_quantile``
    (e.g. ``"p90"``) keeps the gap between that IT forecast quantile and ``load_quantile`` free on every site for
    added work; ``lateness_penalty_per_mwh`` makes deadlines soft at that price per MWh and hour late (the LP then
    minimises lateness where no plan meets them all; ``None``: hard); ``perfect_foresight`` reads the actual IT
    demand and PV instead of forecasts (the oracle of :mod:`apps.replay.oracle`).

    Raises:
        ValueError: no sites, a naive ``start``, or ``start`` not aligned to ``resolution_s``.
    """
    sites = [s for s in sites if s.pk not in exclude_site_ids]
    if not sites:
        raise ValueError("the portfolio problem needs at least one site")
    ts = pd.Timestamp(start)
    if ts.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if ts.value % (resolution_s * 10**9):
        raise ValueError(f"start must be aligned to {resolution_s} s")
    by_pk = {s.pk: s for s in sites}
    if include_migration_targets:
        for site in sites:
            for wc in site.workload_classes.all():
                for target in wc.migratable_to.all():
                    if target.pk not in exclude_site_ids:
                        by_pk.setdefault(target.pk, target)
    members = set(by_pk)
    notes: dict[str, str] = {}
    zone_codes = sorted({s.market_zone_id for s in by_pk.values()})
    zones = {z: _zone(z, start, steps, resolution_s, belief_time, notes) for z in zone_codes}
    horizon = Horizon(
        start, steps, resolution_s, belief_time, load_quantile, headroom_quantile, perfect_foresight
    )
    states = live_states or {}
    flex_sites = tuple(_site(s, horizon, members, notes, states.get(s.pk)) for s in by_pk.values())
    currency = by_pk[next(iter(by_pk))].market_zone.currency
    problem = flexibility.Problem(
        start=ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        resolution=f"PT{resolution_s // 60}M" if resolution_s % 3600 else f"PT{resolution_s // 3600}H",
        steps=steps,
        zones=zones,
        sites=flex_sites,
        currency=currency,
        carbon_price_per_tonne=carbon_price_per_tonne,
        commitments=tuple(commitments),
        lateness_penalty_per_mwh=lateness_penalty_per_mwh,
    )
    return PortfolioProblem(problem=problem, sites={str(k): v for k, v in by_pk.items()}, sources=notes)
