"""Writes of the green-power app: contracts, work units and work done, and fitting a site's compute-power model
(stored by the forecasts app, :mod:`apps.forecasts.compute_power`).

Every write validates first and raises :class:`~apps.core.errors.DomainError` naming the field and the reason;
batches are all-or-nothing (nothing is written when any row is refused).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils.dateparse import parse_datetime

from apps.accounts.principal import Principal
from apps.accounts.selectors import organisation_get_by_id
from apps.assets.models import Site
from apps.assets.selectors import site_list_by_ids
from apps.core import clock
from apps.core.errors import DomainError, NotPermitted
from apps.core.selectors import market_zone_get
from apps.forecasts import compute_power as forecast_compute_power
from apps.forecasts.models import ComputePowerModel

from .choices import ContractKind
from .models import GreenContract, WorkDone, WorkUnitDefinition


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
        owner = organisation_get_by_id(organisation_id=owner_id)  # type: ignore[assignment]
        if owner is None:
            raise DomainError("no such organisation.", field="owner")
    if kind not in ContractKind.values:
        raise DomainError(f"kind must be one of {', '.join(ContractKind.values)}.", field="kind")
    market_zone = market_zone_get(code=zone)
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
    sites = site_list_by_ids(site_ids=site_ids)
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
    """Fit the site's utilisation → IT power model on its telemetry and store it with its held-out error
    (:func:`apps.forecasts.compute_power.compute_model_fit`: the site's utilisation and main IT power series over
    ``[start, end)``, power as a fraction of IT capacity, the last quarter of the days held out).
    ``principal=None`` is the system (commands, jobs). The fit time recorded is the product clock's now.

    Raises:
        DomainError: no series, too little overlapping data, or a bad ``segments``; NotPermitted.
    """
    if principal is not None:
        _require_writer(principal)
    return forecast_compute_power.compute_model_fit(
        site=site, start=start, end=end, segments=segments, fitted_at=clock.now()
    )
