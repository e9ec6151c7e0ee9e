"""Writes of the time-series store: create series and ingest batches of data points.

Who may write (DESIGN.md, scoping of :mod:`apps.telemetry.selectors`):
- a site or asset series: the site owner's admins and staff, and an API client bound to that site (a site
  control system / OpenADR VEN, role ``ven``) for data; creating series needs an admin or staff role;
- a market-zone series (prices, carbon intensity, weather, system load): the aggregator's admins and staff.
``principal=None`` means the system itself (management commands, scheduled jobs) and skips these checks.

Ingestion is all-or-nothing: the batch is validated as a whole (:mod:`apps.telemetry.validation`) before
anything is written, then upserted in one transaction — on PostgreSQL with binary ``COPY`` (new points straight
into the table, changed ones through a temporary table; see :func:`apps.telemetry.upsert.upsert_postgresql`), elsewhere by
``bulk_create`` with ``update_conflicts``. On PostgreSQL the same transaction recomputes the 15-minute and
1-hour rollups of the buckets the batch touched (:mod:`apps.telemetry.rollups`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.accounts.choices import ApiClientRole
from apps.accounts.principal import Principal
from apps.assets.models import Battery, PVArray, Site
from apps.assets.selectors import site_ids_bound_to_client, site_owner_id_of, site_pv_capacity_kwp
from apps.core.errors import NotPermitted
from apps.core.models import MarketZone

from . import upsert
from .checks import validate_batch
from .choices import QUANTITY_SPECS, Quantity, unit_for
from .durations import duration_iso, resolution_seconds
from .models import TimeSeries, owner_field_of, owner_kind_of
from .selectors import timeseries_find
from .validation import Bounds, RawBatch, from_arrays


@dataclass(frozen=True)
class IngestResult:
    """Outcome of an accepted batch: rows received, new points, changed points, points already equal."""

    series_id: int
    rows: int
    created: int
    updated: int
    unchanged: int
    first_start: pd.Timestamp | None
    last_start: pd.Timestamp | None


# --- permissions -------------------------------------------------------------------------------------------


def _site_of_owner(owner: Site | Battery | PVArray) -> Site:
    return owner if isinstance(owner, Site) else owner.site


def _bound_site_id(principal: Principal) -> int | None:
    if principal.api_client is None:
        return None
    bound = site_ids_bound_to_client(api_client_id=principal.api_client.pk)
    return min(bound) if bound else None


def _require_series_create(*, principal: Principal | None, owner: Any) -> None:
    if principal is None:
        return
    if isinstance(owner, MarketZone):
        if not (principal.is_aggregator and principal.can_write):
            raise NotPermitted("Only the aggregator's admins and staff may create market-zone series.")
        return
    site = _site_of_owner(owner)
    if not (principal.is_site_owner and principal.can_write and principal.organisation == site.owner):
        raise NotPermitted("Only the site owner's admins and staff may create series of this site.")
    bound = _bound_site_id(principal)
    if bound is not None and bound != site.pk:
        raise NotPermitted("This API client is bound to another site.")


def series_writable_by(*, principal: Principal | None, series: TimeSeries) -> bool:
    """Whether ``principal`` may write data points of ``series`` (see the module docstring)."""
    if principal is None:
        return True
    site_id = series.owner_site_id
    if site_id is None:
        return principal.is_aggregator and principal.can_write
    if not principal.is_site_owner:
        return False
    site_owner_id = site_owner_id_of(site_id=site_id)
    if principal.organisation is None or site_owner_id != principal.organisation.pk:
        return False
    bound = _bound_site_id(principal)
    if bound is not None and bound != site_id:
        return False
    return principal.can_write or (principal.role == ApiClientRole.VEN and bound == site_id)


# --- series ------------------------------------------------------------------------------------------------


def owner_unit(*, quantity: str, owner: Any) -> str:
    """The unit of ``quantity`` for ``owner``: ``price`` takes the zone's currency (``USD/MWh``)."""
    return unit_for(quantity, currency=getattr(owner, "currency", None))


def timeseries_create(
    *,
    principal: Principal | None,
    owner: Site | Battery | PVArray | MarketZone,
    quantity: str,
    resolution: str,
    name: str = "",
    source: str = "",
) -> TimeSeries:
    """Create a series of ``quantity`` owned by ``owner`` at ``resolution`` (ISO 8601, e.g. ``PT15M``).

    The unit follows the quantity (price: the zone's currency per MWh).

    Raises:
        NotPermitted: the caller may not create series for this owner.
        ValidationError: unknown quantity, a quantity that does not fit the owner kind (e.g. a price on a site),
            a resolution that does not divide a day, or a series with the same owner, quantity and name exists.
    """
    _require_series_create(principal=principal, owner=owner)
    if quantity not in QUANTITY_SPECS:
        raise ValidationError({"quantity": f"unknown quantity '{quantity}'."})
    kind = owner_kind_of(owner)
    spec = QUANTITY_SPECS[quantity]
    if kind not in spec.owners:
        allowed = ", ".join(sorted(spec.owners))
        raise ValidationError({"quantity": f"a {quantity} series belongs to a {allowed}, not a {kind}."})
    try:
        seconds = resolution_seconds(resolution)
    except ValueError as exc:
        raise ValidationError({"resolution": str(exc)}) from exc
    owner_field = owner_field_of(owner)
    series = TimeSeries(
        quantity=quantity,
        name=name,
        unit=owner_unit(quantity=quantity, owner=owner),
        resolution=duration_iso(seconds),
        resolution_s=seconds,
        source=source,
        **{owner_field: owner},
    )
    series.owner_key = series.compute_owner_key()
    clash = TimeSeries.objects.filter(owner_key=series.owner_key, quantity=quantity, name=name).first()
    if clash is not None:
        raise ValidationError(
            {"name": f"{series.owner_key} already has a {quantity} series named '{name}' (id {clash.pk})."}
        )
    try:
        with transaction.atomic():
            series.save()
    except IntegrityError as exc:  # a concurrent create won the race
        raise ValidationError(
            {"name": f"{series.owner_key} already has a {quantity} series named '{name}'."}
        ) from exc
    return series


def timeseries_get_or_create(
    *,
    owner: Site | Battery | PVArray | MarketZone,
    quantity: str,
    resolution: str,
    name: str = "",
    source: str = "",
) -> tuple[TimeSeries, bool]:
    """The system's series of ``owner``/``quantity``/``name``, created if missing (importers, demo data).

    Raises:
        ValidationError: as :func:`timeseries_create`, or the existing series has another resolution.
    """
    existing = timeseries_find(owner=owner, quantity=quantity, name=name)
    if existing is not None:
        wanted = resolution_seconds(resolution)
        if existing.resolution_s != wanted:
            raise ValidationError(
                {
                    "resolution": f"series {existing.pk} ({existing}) has resolution {existing.resolution}, "
                    f"not {duration_iso(wanted)}."
                }
            )
        return existing, False
    series = timeseries_create(
        principal=None, owner=owner, quantity=quantity, resolution=resolution, name=name, source=source
    )
    return series, True


def value_bounds(*, series: TimeSeries) -> Bounds:
    """Inclusive range of values of ``series``: the quantity's physical range narrowed by the owner's limits.

    - ``soc_kwh`` of a battery: 0 … its energy capacity (kWh);
    - ``pv_power_kw`` of a PV array: 0 … its DC capacity (kWp); of a site: 0 … the sum over its arrays when
      it has any (PV generation is stored as a positive number);
    - ``battery_power_kw`` of a battery: −max discharge … +max charge (kW, + = charging).
    """
    spec = QUANTITY_SPECS[series.quantity]
    lower, upper = spec.minimum, spec.maximum
    unit = series.unit
    why = f"{series.quantity} lies within {spec.minimum:g}…{spec.maximum:g} {unit}" + (
        f" ({spec.why})" if spec.why else ""
    )
    lower_reason = upper_reason = why
    quantity = series.quantity
    if quantity == Quantity.SOC_KWH and series.battery_id is not None:
        battery = series.battery
        upper = battery.energy_capacity_kwh  # type: ignore[union-attr]
        upper_reason = f"the state of charge cannot exceed the battery's energy capacity of {upper:g} kWh"
        lower_reason = "a state of charge cannot be negative"
    elif quantity == Quantity.PV_POWER_KW:
        lower_reason = "PV generation is stored as a positive number (negative PV is refused)"
        if series.pv_array_id is not None:
            upper = series.pv_array.dc_capacity_kwp  # type: ignore[union-attr]
            upper_reason = f"PV output cannot exceed the array's DC capacity of {upper:g} kWp"
        elif series.site_id is not None:
            kwp = site_pv_capacity_kwp(site_id=series.site_id)
            if kwp > 0:
                upper = kwp
                upper_reason = f"PV output cannot exceed the site's total PV capacity of {kwp:g} kWp"
    elif quantity == Quantity.BATTERY_POWER_KW and series.battery_id is not None:
        battery = series.battery
        lower, upper = -battery.max_discharge_kw, battery.max_charge_kw  # type: ignore[union-attr]
        lower_reason = (
            f"discharge cannot exceed the battery's rating of {-lower:g} kW (negative = discharging)"
        )
        upper_reason = f"charging cannot exceed the battery's rating of {upper:g} kW"
    return Bounds(lower, upper, series.unit, lower_reason, upper_reason)


# --- ingestion ---------------------------------------------------------------------------------------------


def datapoints_ingest(
    *, series: TimeSeries, rows: RawBatch | pd.Series | pd.DataFrame, principal: Principal | None = None
) -> IngestResult:
    """Validate a batch for ``series`` and upsert it, all or nothing.

    Args:
        series: the target series (the caller resolved it within the principal's scope; unknown → 404).
        rows: a parsed batch (:func:`~apps.telemetry.validation.parse_records` for JSON,
            :func:`~apps.telemetry.validation.parse_csv` for CSV), a ``pd.Series`` of values indexed by
            timezone-aware starts, or a ``DataFrame`` with ``start`` and ``value`` columns.
        principal: the caller, or ``None`` for the system (commands, jobs).

    Returns:
        counts of rows received, points created, updated and unchanged (same value), and the first/last start.

    Raises:
        NotPermitted: the caller may read but not write this series (403).
        BatchRefused: any row is refused — no offset, not aligned to the resolution, duplicated in the batch,
            NaN/inf, outside the physical range (400); nothing is written.
        ConflictError: the series was deleted meanwhile (409).
    """
    if not series_writable_by(principal=principal, series=series):
        raise NotPermitted("You may read this series but not write to it.")
    if isinstance(rows, pd.Series):
        raw = from_arrays(rows.index, rows.to_numpy())
    elif isinstance(rows, pd.DataFrame):
        raw = from_arrays(rows["start"], rows["value"].to_numpy())
    else:
        raw = rows
    clean = validate_batch(raw, resolution_s=series.resolution_s, bounds=value_bounds(series=series))
    if len(clean) == 0:
        return IngestResult(series.pk, 0, 0, 0, 0, None, None)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created, updated, stored = upsert.upsert_postgresql(series, clean)
            if created or updated:
                upsert.rollups_after_upsert(series, clean, stored)
        else:
            created, updated = upsert.upsert_portable(series.pk, clean)
    first = pd.Timestamp(int(clean.starts_us[0]), unit="us", tz="UTC")
    last = pd.Timestamp(int(clean.starts_us[-1]), unit="us", tz="UTC")
    return IngestResult(series.pk, len(clean), created, updated, len(clean) - created - updated, first, last)


# Site state (its own module, re-exported).
from .site_state import site_state_report, site_state_require_reporter  # noqa: E402, F401
