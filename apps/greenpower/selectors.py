"""Reads of the green-power app, scoped to the caller, and the hourly green ledger computed from telemetry.

Scoping: the aggregator sees everything; a site owner sees its own organisation's contracts and the work units,
models and ledgers of the sites it sees (:func:`apps.assets.selectors.site_list`); a market operator sees none.
A site-bound credential (an API client with a :class:`~apps.assets.models.SiteCredential`, e.g. a site's VEN)
sees only its own site's data: the contracts that site may match (:func:`contracts_for_site`), not the whole
organisation's.

The ledger (:func:`site_green_ledger`) reads, per UTC hour, from the telemetry store:

- the site meter ``site_power_kw`` (grid import +, export −) → import and export kWh;
- ``it_power_kw`` of the site → IT kWh;
- on-site PV ``pv_power_kw`` (the site's series, or the sum over its PV arrays) → PV kWh (0 without PV);
- the zone's ``low_carbon_pct`` (Electricity Maps, share of consumed electricity from low-carbon sources) and
  ``carbon_intensity_g_per_kwh``;
- the contracts that the site may match (:func:`contract_profile_kwh`; a contract eligible at several sites is
  split evenly among them) and the site's work done.

Facility consumption = import − export + PV (PV is used on site first). The green arithmetic is
:func:`flexibility.green.ledger` (hourly CFE score and annual matching). PUE measured = Σ facility kWh / Σ IT kWh
over hours with both meters. Emissions are location-based: import × the zone's carbon intensity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db.models import Q, QuerySet

from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.assets.selectors import (
    pv_array_list_of_site,
    site_count_of_owner_in_zone,
    site_ids_bound_to_client,
    site_list,
    site_zone_ids,
)
from apps.forecasts import compute_power as forecast_compute_power
from apps.forecasts.models import ComputePowerModel
from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import datapoint_last_start, series_for, timeseries_resampled
from flexibility.green import ledger
from forecasting import compute_power

from .models import GreenContract, WorkDone, WorkUnitDefinition

HOUR = timedelta(hours=1)


def _bound_site_ids(principal: Principal) -> list[int] | None:
    """The sites an API client is bound to (its :class:`~apps.assets.models.SiteCredential`), or None when the
    caller is not a site-bound credential."""
    if principal.api_client is None:
        return None
    return site_ids_bound_to_client(api_client_id=principal.api_client.pk) or None


def contract_list(*, principal: Principal) -> QuerySet[GreenContract]:
    """Contracts visible to ``principal``: all for the aggregator, its own organisation's for a site owner, none
    otherwise. A site-bound credential of a site owner sees only the contracts its site(s) may match: the
    owner's contracts that list the site, or list no site and lie in the site's zone (as
    :func:`contracts_for_site`)."""
    qs = GreenContract.objects.select_related("owner", "zone").prefetch_related("sites")
    if principal.is_aggregator:
        return qs
    if not principal.is_site_owner:
        return qs.none()
    qs = qs.filter(owner=principal.organisation)
    bound = _bound_site_ids(principal)
    if bound is None:
        return qs
    zones = site_zone_ids(site_ids=bound, owner_id=principal.org.pk)
    matchable = GreenContract.objects.filter(
        Q(sites__in=bound) | Q(sites__isnull=True, zone__in=zones), owner=principal.organisation
    )
    return qs.filter(pk__in=matchable.values("pk"))


def work_unit_list(*, principal: Principal) -> QuerySet[WorkUnitDefinition]:
    """Work-unit definitions of the sites visible to ``principal``."""
    return WorkUnitDefinition.objects.filter(site__in=site_list(principal=principal)).select_related("site")


def compute_model_list(*, principal: Principal) -> QuerySet[ComputePowerModel]:
    """Compute-power models (stored by the forecasts app) of the sites visible to ``principal``."""
    return forecast_compute_power.compute_model_list_for_sites(sites=site_list(principal=principal))


def work_unit_of_site(*, site_id: int) -> WorkUnitDefinition | None:
    """The site's work-unit definition, if it has one (not scoped: callers pass a site they may see)."""
    return WorkUnitDefinition.objects.filter(site_id=site_id).first()


def contracts_for_site(*, site: Site) -> QuerySet[GreenContract]:
    """Contracts the site may match: its owner's contracts in its zone that list it or list no site."""
    return (
        GreenContract.objects.filter(owner_id=site.owner_id, zone_id=site.market_zone_id)
        .filter(Q(sites=site) | Q(sites__isnull=True))
        .distinct()
        .order_by("pk")
    )


def contract_eligible_site_count(*, contract: GreenContract) -> int:
    """How many sites share the contract's volume (listed sites, or all the owner's sites in its zone)."""
    listed = contract.sites.count()
    if listed:
        return listed
    return site_count_of_owner_in_zone(owner_id=contract.owner_id, zone_id=contract.zone_id)


def contract_profile_kwh(*, contract: GreenContract, hours: pd.DatetimeIndex) -> np.ndarray:
    """Contracted energy (kWh) in each UTC hour of ``hours``: the hour-of-day profile inside the term, 0 outside."""
    profile = np.asarray(contract.hourly_profile_kwh, dtype=np.float64)
    dates = hours.tz_convert("UTC").date
    inside = (dates >= contract.term_start) & (dates <= contract.term_end)
    return np.where(inside, profile[hours.hour], 0.0)


def _hourly(series: TimeSeries | None, start: datetime, end: datetime) -> pd.Series | None:
    if series is None:
        return None
    return timeseries_resampled(series=series, start=start, end=end, resolution_s=3600).values


@dataclass(frozen=True)
class GreenLedger:
    """A site's hourly ledger over ``[start, end)`` and its period figures.

    ``hours``: DataFrame indexed by hour start (UTC) with the columns of :data:`LEDGER_COLUMNS`; hours without a
    site meter reading are left out (``missing_hours`` counts them). ``summary``: period totals and KPIs.
    """

    site: Site
    start: datetime
    end: datetime
    hours: pd.DataFrame
    summary: dict[str, float | int | str | None]
    work_unit: str | None


#: Hourly columns of the ledger (energies in kWh, shares as fractions, emissions in kg).
LEDGER_COLUMNS = [
    "import_kwh",
    "export_kwh",
    "pv_kwh",
    "facility_kwh",
    "it_kwh",
    "contract_kwh",
    "matched_kwh",
    "grid_low_carbon_share",
    "grid_low_carbon_kwh",
    "clean_kwh",
    "green_share",
    "carbon_g_per_kwh",
    "emissions_kg",
    "work_units",
]


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b > 0 and np.isfinite(a) else None


def _ledger_hours(start: datetime, end: datetime) -> pd.DatetimeIndex:
    """The UTC hours covering ``[start, end)``.

    Raises:
        ValueError: naive or reversed ``start``/``end``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError("end must be after start")
    return pd.date_range(
        pd.Timestamp(start).floor("h"), pd.Timestamp(end).ceil("h"), freq="h", inclusive="left"
    )


def _site_pv_hourly(site: Site, start: datetime, end: datetime) -> pd.Series | None:
    """Hourly PV kWh of the site: its own PV series, else the sum over its PV arrays (missing hours as 0)."""
    pv = _hourly(series_for(quantity=Quantity.PV_POWER_KW, site=site), start, end)
    if pv is not None:
        return pv
    parts = [
        _hourly(series_for(quantity=Quantity.PV_POWER_KW, pv_array=a), start, end)
        for a in pv_array_list_of_site(site=site)
    ]
    present = [p.fillna(0.0) for p in parts if p is not None]
    return pd.concat(present, axis=1).sum(axis=1) if present else None


def _site_contract_kwh(site: Site, hours: pd.DatetimeIndex) -> np.ndarray:
    """Contracted kWh per hour for the site: each matchable contract's profile split among its eligible sites."""
    contract_kwh = np.zeros(len(hours))
    for contract in contracts_for_site(site=site):
        share = max(contract_eligible_site_count(contract=contract), 1)
        contract_kwh += contract_profile_kwh(contract=contract, hours=hours) / share
    return contract_kwh


def _work_units(work_unit: WorkUnitDefinition | None, hours: pd.DatetimeIndex) -> np.ndarray:
    """Work done in each hour (0 where none was reported or the site has no work unit)."""
    work = pd.Series(0.0, index=hours)
    if work_unit is not None:
        done = WorkDone.objects.filter(definition=work_unit, start__gte=hours[0], start__lt=hours[-1] + HOUR)
        pairs = list(done.values_list("start", "work_units"))
        if pairs:
            idx = pd.DatetimeIndex([p[0] for p in pairs]).tz_convert("UTC")
            work = pd.Series([p[1] for p in pairs], index=idx).reindex(hours).fillna(0.0)
    return work.to_numpy()


def _ledger_inputs(
    site: Site, hours: pd.DatetimeIndex, start: datetime, end: datetime, work_unit: WorkUnitDefinition | None
) -> pd.DataFrame:
    """The hourly inputs of the ledger: import/export, PV, IT, grid low-carbon share, carbon intensity, contracted
    energy and work done (NaN where a meter has no reading)."""
    frame = pd.DataFrame(index=hours)
    meter = _hourly(series_for(quantity=Quantity.SITE_POWER_KW, site=site), start, end)
    it = _hourly(series_for(quantity=Quantity.IT_POWER_KW, site=site), start, end)
    pv = _site_pv_hourly(site, start, end)
    zone = site.market_zone_id
    low = _hourly(series_for(quantity=Quantity.LOW_CARBON_PCT, zone=zone), start, end)
    ci = _hourly(series_for(quantity=Quantity.CARBON_INTENSITY_G_PER_KWH, zone=zone), start, end)
    grid = meter.reindex(hours) if meter is not None else pd.Series(np.nan, index=hours)
    frame["import_kwh"] = grid.clip(lower=0.0)
    frame["export_kwh"] = (-grid).clip(lower=0.0)
    frame["pv_kwh"] = pv.reindex(hours).fillna(0.0) if pv is not None else 0.0
    frame["it_kwh"] = it.reindex(hours) if it is not None else np.nan
    frame["grid_low_carbon_share"] = (low.reindex(hours) / 100.0) if low is not None else np.nan
    frame["carbon_g_per_kwh"] = ci.reindex(hours) if ci is not None else np.nan
    frame["contract_kwh"] = _site_contract_kwh(site, hours)
    frame["work_units"] = _work_units(work_unit, hours)
    return frame


def _green_hours(kept: pd.DataFrame) -> tuple[pd.DataFrame, float, float]:
    """Add the green columns (:func:`flexibility.green.ledger`) to the metered hours; returns them with the hourly
    (24/7 CFE) and annual matched shares (NaN without any metered hour)."""
    kept = kept.copy()
    if len(kept):
        led = ledger(
            import_kwh=kept["import_kwh"].to_numpy(),
            pv_used_kwh=kept["pv_kwh"].to_numpy(),
            contract_kwh=kept["contract_kwh"].to_numpy(),
            low_carbon_share=kept["grid_low_carbon_share"].fillna(0.0).clip(0.0, 1.0).to_numpy(),
            export_kwh=kept["export_kwh"].to_numpy(),
        )
        kept["facility_kwh"] = led.consumption_kwh
        kept["matched_kwh"] = led.matched_kwh
        kept["grid_low_carbon_kwh"] = led.grid_low_carbon_kwh
        kept["clean_kwh"] = led.clean_kwh
        kept["green_share"] = led.hourly_share
        hourly_share, annual_share = led.hourly_matched_share, led.annual_matched_share
    else:
        for col in ("facility_kwh", "matched_kwh", "grid_low_carbon_kwh", "clean_kwh", "green_share"):
            kept[col] = np.zeros(0)
        hourly_share = annual_share = float("nan")
    kept["emissions_kg"] = kept["import_kwh"] * kept["carbon_g_per_kwh"] / 1000.0
    return kept[LEDGER_COLUMNS], hourly_share, annual_share


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _ledger_summary(
    frame: pd.DataFrame, kept: pd.DataFrame, shares: tuple[float, float], has_work_unit: bool
) -> dict[str, float | int | str | None]:
    """Period totals and KPIs of the ledger (keys: see :func:`site_green_ledger`)."""
    metered = frame["import_kwh"].notna().to_numpy()
    both = kept["it_kwh"].notna()
    facility = float(kept["facility_kwh"].sum())
    emissions = float(kept["emissions_kg"].sum(min_count=1)) if len(kept) else float("nan")
    work_total = float(kept["work_units"].sum())
    return {
        "hours": len(kept),
        "missing_hours": int((~metered).sum()),
        "hours_without_grid_mix": int(kept["grid_low_carbon_share"].isna().sum()),
        "facility_kwh": facility,
        "it_kwh": float(kept["it_kwh"].sum()),
        "pv_kwh": float(kept["pv_kwh"].sum()),
        "import_kwh": float(kept["import_kwh"].sum()),
        "contract_kwh": float(frame["contract_kwh"].sum()),
        "matched_kwh": float(kept["matched_kwh"].sum()),
        "clean_kwh": float(kept["clean_kwh"].sum()),
        "emissions_kg": _finite(emissions),
        "work_units": work_total,
        "hourly_matched_share": _finite(shares[0]),
        "annual_matched_share": _finite(shares[1]),
        "pue_measured": _ratio(
            float(kept.loc[both, "facility_kwh"].sum()), float(kept.loc[both, "it_kwh"].sum())
        ),
        "work_per_kwh": _ratio(work_total, facility) if has_work_unit else None,
        "work_per_kg_co2": _ratio(work_total, emissions) if has_work_unit else None,
    }


def site_green_ledger(*, site: Site, start: datetime, end: datetime) -> GreenLedger:
    """The hourly green ledger and KPIs of ``site`` over ``[start, end)`` (see the module docstring).

    Summary keys: ``hours``, ``missing_hours`` (no site meter), ``hours_without_grid_mix`` (counted as grey),
    ``facility_kwh``, ``it_kwh``, ``pv_kwh``, ``import_kwh``, ``contract_kwh``, ``matched_kwh``, ``clean_kwh``,
    ``emissions_kg``, ``work_units``, ``hourly_matched_share`` (24/7 CFE score), ``annual_matched_share``,
    ``pue_measured``, ``work_per_kwh`` (per facility kWh), ``work_per_kg_co2``.

    Raises:
        ValueError: naive or reversed ``start``/``end``.
    """
    hours = _ledger_hours(start, end)
    work_unit = work_unit_of_site(site_id=site.pk)
    frame = _ledger_inputs(site, hours, start, end, work_unit)
    kept, hourly_share, annual_share = _green_hours(frame[frame["import_kwh"].notna().to_numpy()])
    return GreenLedger(
        site=site,
        start=hours[0].to_pydatetime(),
        end=(hours[-1] + HOUR).to_pydatetime(),
        hours=kept,
        summary=_ledger_summary(frame, kept, (hourly_share, annual_share), work_unit is not None),
        work_unit=work_unit.name if work_unit is not None else None,
    )


def site_data_end(*, site: Site) -> datetime | None:
    """The end of the site meter's data (last start + resolution), to centre default views on data."""
    series = series_for(quantity=Quantity.SITE_POWER_KW, site=site)
    if series is None:
        return None
    last = datapoint_last_start(series=series)
    return None if last is None else last + timedelta(seconds=series.resolution_s)


def compute_model_of(stored: ComputePowerModel) -> compute_power.ComputePowerModel:
    """The pure-library model (:class:`forecasting.compute_power.ComputePowerModel`, fraction of rated power) of a
    stored one (:func:`apps.forecasts.compute_power.compute_model_of`)."""
    return forecast_compute_power.compute_model_of(stored)
