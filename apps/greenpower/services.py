"""Writes of the green-power app: contracts, work units and work done, and fitting a site's compute-power model.

Every write validates first and raises :class:`~apps.core.errors.DomainError` naming the field and the reason;
batches are all-or-nothing (nothing is written when any row is refused).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils.dateparse import parse_datetime

from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.core.errors import DomainError, NotPermitted
from apps.core.models import MarketZone
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import series_for, timeseries_resampled
from forecasting import compute_power

from .choices import ContractKind
from .models import ComputePowerModel, GreenContract, WorkDone, WorkUnitDefinition


def _require_writer(principal: Principal) -> None:
    if not (principal.is_aggregator or principal.is_site_owner) or not principal.can_write:
        raise NotPermitted(
            "Only the aggregator's staff and site owners' admins or staff may change green-power data."
        )


def green_contract_create(
    *,
    principal: Principal,
    name: str,
    kind: str,
    zone: str,
    price_per_mwh: float,
    term_start: date,
    term_end: date,
    hourly_profile_kwh: Sequence[float],
    take_or_pay: bool = True,
    site_ids: Iterable[int] = (),
    owner_id: int | None = None,
) -> GreenContract:
    """Create a contract for the caller's organisation (a site owner) or, for aggregator staff, ``owner_id``.

    Checks: known kind and zone; ``term_end >= term_start``; 24 finite, non-negative hourly volumes; listed sites
    belong to the owner and lie in the contract's zone; a unique name per owner. The currency is the zone's.

    Raises:
        DomainError: naming the field; NotPermitted: a caller who may not write.
    """
    _require_writer(principal)
    if principal.is_site_owner:
        owner = principal.org
        if owner_id is not None and owner_id != owner.pk:
            raise NotPermitted("A site owner creates contracts for its own organisation only.")
    else:
        if owner_id is None:
            raise DomainError("aggregator staff must name the owner organisation.", field="owner")
        owner = Organisation.objects.filter(pk=owner_id).first()  # type: ignore[assignment]
        if owner is None:
            raise DomainError("no such organisation.", field="owner")
    if kind not in ContractKind.values:
        raise DomainError(f"kind must be one of {', '.join(ContractKind.values)}.", field="kind")
    market_zone = MarketZone.objects.filter(pk=zone).first()
    if market_zone is None:
        raise DomainError(f"unknown market zone {zone!r}.", field="zone")
    if not math.isfinite(price_per_mwh):
        raise DomainError("price must be a finite number.", field="price_per_mwh")
    if term_end < term_start:
        raise DomainError("the term ends before it starts.", field="term_end")
    profile = list(hourly_profile_kwh)
    if len(profile) != 24:
        raise DomainError(
            f"expected 24 hourly volumes (UTC hours 0-23), got {len(profile)}.", field="hourly_profile_kwh"
        )
    for i, v in enumerate(profile):
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise DomainError("must be a finite number >= 0 (kWh).", field=f"hourly_profile_kwh[{i}]")
    sites = list(Site.objects.filter(pk__in=list(site_ids)))
    wanted = set(site_ids)
    if len(sites) != len(wanted):
        raise DomainError("unknown site.", field="sites")
    for site in sites:
        if site.owner_id != owner.pk:
            raise DomainError(f"site {site.pk} belongs to another organisation.", field="sites")
        if site.market_zone_id != market_zone.pk:
            raise DomainError(
                f"site {site.pk} is in zone {site.market_zone_id}, not {market_zone.pk}: contracted energy is "
                "delivered in its own zone.",
                field="sites",
            )
    if GreenContract.objects.filter(owner=owner, name=name).exists():
        raise DomainError("the organisation already has a contract with this name.", field="name")
    with transaction.atomic():
        contract = GreenContract.objects.create(
            owner=owner,
            name=name,
            kind=kind,
            zone=market_zone,
            price_per_mwh=float(price_per_mwh),
            currency=market_zone.currency,
            term_start=term_start,
            term_end=term_end,
            take_or_pay=take_or_pay,
            hourly_profile_kwh=[float(v) for v in profile],
        )
        contract.sites.set(sites)
    return contract


def green_contract_delete(*, principal: Principal, contract: GreenContract) -> None:
    """Delete a contract the caller may see.

    Raises:
        NotPermitted: a caller who may not write.
    """
    _require_writer(principal)
    contract.delete()


def work_unit_define(
    *, principal: Principal, site: Site, name: str, full_rate_per_hour: float | None = None
) -> WorkUnitDefinition:
    """Create or replace the work unit of ``site`` (one per site).

    Raises:
        DomainError: empty name or a negative / non-finite rate; NotPermitted: a caller who may not write.
    """
    _require_writer(principal)
    if not name.strip():
        raise DomainError("a unit name is required (e.g. GPU-hours, tokens, jobs).", field="name")
    if full_rate_per_hour is not None and not (math.isfinite(full_rate_per_hour) and full_rate_per_hour > 0):
        raise DomainError("must be a positive number of work units per hour.", field="full_rate_per_hour")
    definition, _ = WorkUnitDefinition.objects.update_or_create(
        site=site, defaults={"name": name.strip(), "full_rate_per_hour": full_rate_per_hour}
    )
    return definition


def work_done_ingest(
    *, principal: Principal, definition: WorkUnitDefinition, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Upsert hourly work done, all or nothing: each row ``{"start": ISO 8601 with offset, on the hour,
    "work_units": number >= 0}``. Returns the number of rows written.

    Raises:
        DomainError: naming the first bad row (``rows[3].start``); NotPermitted.
    """
    _require_writer(principal)
    if not rows:
        raise DomainError("no rows.", field="rows")
    clean: dict[datetime, float] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DomainError("expected an object with start and work_units.", field=f"rows[{i}]")
        raw = row.get("start")
        moment = parse_datetime(raw) if isinstance(raw, str) else None
        if moment is None or moment.tzinfo is None:
            raise DomainError("expected an ISO 8601 time with a UTC offset.", field=f"rows[{i}].start")
        stamp = pd.Timestamp(moment).tz_convert("UTC")
        if stamp != stamp.floor("h"):
            raise DomainError("must be the start of an hour.", field=f"rows[{i}].start")
        value = row.get("work_units")
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            raise DomainError("must be a finite number >= 0.", field=f"rows[{i}].work_units")
        if stamp.to_pydatetime() in clean:
            raise DomainError("the same hour appears twice.", field=f"rows[{i}].start")
        clean[stamp.to_pydatetime()] = float(value)
    with transaction.atomic():
        WorkDone.objects.bulk_create(
            [WorkDone(definition=definition, start=t, work_units=v) for t, v in clean.items()],
            update_conflicts=True,
            unique_fields=["definition", "start"],
            update_fields=["work_units"],
        )
    return len(clean)


def compute_model_fit(
    *, principal: Principal | None, site: Site, start: datetime, end: datetime, segments: int = 4
) -> ComputePowerModel:
    """Fit the site's utilisation → IT power model on its telemetry and store it with its held-out error.

    Data: the site's ``utilization_fraction`` series (its main one, name ``""``, else the first) and
    ``it_power_kw``, both read at the coarser of their resolutions over ``[start, end)``; power is divided by
    the site's IT capacity (rated kW). The last quarter of the days (at least one) is held out for the error
    (:func:`forecasting.compute_power.fit_holdout`). ``principal=None`` is the system (commands, jobs).

    Raises:
        DomainError: no series, too little overlapping data, or a bad ``segments``; NotPermitted.
    """
    if principal is not None:
        _require_writer(principal)
    if not 1 <= segments <= 12:
        raise DomainError("segments must be between 1 and 12.", field="segments")
    if end <= start:
        raise DomainError("end must be after start.", field="end")
    util = (
        series_for(quantity=Quantity.UTILIZATION_FRACTION, site=site)
        or site.time_series.filter(quantity=Quantity.UTILIZATION_FRACTION)
        .order_by("resolution_s", "pk")
        .first()
    )
    it = series_for(quantity=Quantity.IT_POWER_KW, site=site)
    if util is None:
        raise DomainError("the site has no utilization_fraction series.", field="site")
    if it is None:
        raise DomainError("the site has no it_power_kw series.", field="site")
    step = max(util.resolution_s, it.resolution_s)
    u = timeseries_resampled(series=util, start=start, end=end, resolution_s=step).values
    p = timeseries_resampled(series=it, start=start, end=end, resolution_s=step).values
    both = u.notna() & p.notna()
    u, p = u[both], p[both]
    days = u.index.floor("D")
    unique_days = days.unique().sort_values()
    if len(unique_days) < 2 or len(u) < 4 * segments:
        raise DomainError(
            "too little overlapping utilisation and IT power data: need two days or more.", field="start"
        )
    n_test = max(1, len(unique_days) // 4)
    rated = float(site.it_capacity_kw)
    try:
        model, report = compute_power.fit_holdout(
            u.to_numpy(),
            p.to_numpy() / rated,
            np.asarray(days),
            test_days=np.asarray(unique_days[-n_test:]),
            segments=segments,
        )
    except ValueError as exc:
        raise DomainError(str(exc), field="site") from exc
    fields = {
        "knots_utilization": model.to_json()["knots_utilization"],
        "power_at_knots": model.to_json()["power_at_knots"],
        "rated_it_kw": rated,
        "mae": report.mae,
        "rmse": report.rmse,
        "mape_pct": report.mape_pct,
        "r2": report.r2 if math.isfinite(report.r2) else 0.0,
        "n_train": report.n_train,
        "n_test": report.n_test,
        "source": f"{util} vs {it}, {start:%Y-%m-%d}..{end:%Y-%m-%d}, last {n_test} day(s) held out",
    }
    stored, _ = ComputePowerModel.objects.update_or_create(site=site, defaults=fields)
    return stored
