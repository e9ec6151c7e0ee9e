"""The portfolio as a flexibility problem: sites, workloads, batteries, PV, prices and carbon over a horizon,
as known at a belief time. Bidding (envelopes) and dispatch (disaggregation) both start here.

Sign and units follow DESIGN.md and ``flexibility/``: kW, kWh, currency per MWh, gCO2/kWh; ids in the problem are
site primary keys as strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

import flexibility
from apps.assets.models import Site
from apps.forecasts.compute_power import derived_it_series_of
from apps.forecasts.selectors import Expected, series_expected
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import it_load_series, series_for

#: Typical IT utilisation used when a site has no metered or forecast load yet (Google 2019 cell traces show
#: mean cluster utilisation around 60–70 %; Tirmazi et al., EuroSys 2020).
NOMINAL_IT_UTILISATION = 0.7


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


def _site(
    site: Site,
    start: datetime,
    steps: int,
    resolution_s: int,
    belief: datetime,
    quantile: str,
    members: set[int],
    notes: dict,
) -> flexibility.Site:
    """The flexibility model of one site over ``steps`` steps of ``resolution_s`` s from ``start``, from what
    is known at ``belief`` (the IT load at ``quantile``); each input's source is noted in ``notes``."""
    key = str(site.pk)
    # a site that reports only utilisation: its IT load forecast derived through its compute-power model
    it_series = it_load_series(site=site) or derived_it_series_of(site=site)
    it = series_expected(
        series=it_series,
        start=start,
        steps=steps,
        resolution_s=resolution_s,
        belief_time=belief,
        quantile=quantile,
        nominal=NOMINAL_IT_UTILISATION * site.it_capacity_kw,
    )
    notes[f"site:{key}:it_load"] = it.source
    it_kw = np.clip(it.values, 0.0, None)
    pv_kw = _site_pv_kw(site, start, steps, resolution_s, belief, notes)
    return flexibility.Site(
        id=key,
        zone=site.market_zone_id,
        grid_import_limit_kw=site.grid_import_limit_kw,
        grid_export_limit_kw=site.grid_export_limit_kw,
        pue=site.pue,
        pv_kw=pv_kw if pv_kw.any() else None,
        it_capacity_kw=site.it_capacity_kw,
        workloads=_site_workloads(site, it_kw, resolution_s, members),
        batteries=_site_batteries(site, resolution_s, belief, notes),
    )


def _site_workloads(
    site: Site, it_kw: np.ndarray, resolution_s: int, members: set[int]
) -> tuple[flexibility.Workload, ...]:
    """One workload per workload class (its share of the IT load ``it_kw``, kW per step; deferrable classes
    may move up to their max delay and migrate to the classes' targets among ``members``), and the rest of
    the IT load as an inflexible ``other``."""
    key = str(site.pk)
    workloads = []
    total_share = 0.0
    for wc in site.workload_classes.all():
        share = wc.share_pct / 100.0
        total_share += share
        deferrable = bool(wc.max_delay_h)
        max_delay_steps = int((wc.max_delay_h or 0.0) * 3600 // resolution_s) if deferrable else None
        targets = tuple(str(t.pk) for t in wc.migratable_to.all() if t.pk in members) if deferrable else ()
        workloads.append(
            flexibility.Workload(
                id=f"{key}:{wc.name}",
                baseline_kw=it_kw * share,
                max_delay_steps=max_delay_steps,
                max_kw=site.it_capacity_kw * min(1.0, 1.5 * share) if deferrable else None,
                migratable_to=targets,
            )
        )
    if total_share < 1.0 - 1e-9:
        workloads.append(flexibility.Workload(id=f"{key}:other", baseline_kw=it_kw * (1.0 - total_share)))
    return tuple(workloads)


def _site_pv_kw(
    site: Site, start: datetime, steps: int, resolution_s: int, belief: datetime, notes: dict
) -> np.ndarray:
    """Expected PV output of the site's arrays, kW per step (each array clipped to its AC limit; zeros
    without arrays)."""
    pv_kw = np.zeros(steps)
    for array in site.pv_arrays.all():
        pv = series_expected(
            series=series_for(pv_array=array, quantity=Quantity.PV_POWER_KW),
            start=start,
            steps=steps,
            resolution_s=resolution_s,
            belief_time=belief,
            nominal=0.0,
        )
        notes[f"pv_array:{array.pk}"] = pv.source
        pv_kw += np.clip(pv.values, 0.0, array.ac_limit_kw)
    return pv_kw


def _site_batteries(
    site: Site, resolution_s: int, belief: datetime, notes: dict
) -> tuple[flexibility.Battery, ...]:
    """The site's batteries, each starting from its last known state of charge (kWh, clipped to
    [max(SoC min, backup reserve), SoC max]) and required to end no lower."""
    batteries = []
    for battery in site.batteries.all():
        floor = max(battery.soc_min_kwh, battery.backup_reserve_kwh)
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
        batteries.append(
            flexibility.Battery(
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
        )
    return tuple(batteries)


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
    flex_sites = tuple(
        _site(s, start, steps, resolution_s, belief_time, load_quantile, members, notes)
        for s in by_pk.values()
    )
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
    )
    return PortfolioProblem(problem=problem, sites={str(k): v for k, v in by_pk.items()}, sources=notes)
