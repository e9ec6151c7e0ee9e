"""Write of a site's live state (:func:`site_state_report`), re-exported from :mod:`apps.telemetry.services`.

One validation for every way a state arrives (REST ``POST /sites/{id}/state/``, an OpenADR report, the
simulated site): the whole report is checked first and a refusal names every bad field
(``queue[2].deadline``); only then is it stored, in one transaction. Nothing is written on any error.

Who may report (as for site telemetry): the site owner's admins and staff, and the site's own VEN (an API client
of role ``ven`` bound to the site); ``principal=None`` is the system (the simulated site, jobs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.choices import ApiClientRole
from apps.accounts.principal import Principal
from apps.assets.models import Battery, Site, WorkloadClass
from apps.assets.selectors import site_ids_bound_to_client
from apps.core import clock
from apps.core.errors import NotPermitted

from .choices import StateSource
from .known_jobs import known_job
from .site_state_fields import Errors
from .site_state_fields import moment as _moment
from .site_state_fields import number as _number
from .site_state_fields import workload_class as _workload_class
from .state_models import KnownJob, QueuedWork, SiteState, SiteStateBattery

#: A state may be stamped this far ahead of the product clock (clock skew between the site and the product).
CLOCK_SKEW = timedelta(seconds=5)


def site_state_require_reporter(*, principal: Principal | None, site: Site) -> None:
    """Refuse a caller who may not report ``site``'s state (see the module docstring).

    Raises:
        NotPermitted: aggregator staff, viewers, market operators, or an API client bound to another site.
    """
    if principal is None:
        return
    if not (principal.is_site_owner and principal.organisation == site.owner):
        raise NotPermitted("Only the site's owner or its own VEN may report its state.")
    bound = site_ids_bound_to_client(api_client_id=principal.api_client.pk) if principal.api_client else []
    if bound and site.pk not in bound:
        raise NotPermitted("This API client is bound to another site.")
    if not (principal.can_write or (principal.role == ApiClientRole.VEN and site.pk in bound)):
        raise NotPermitted(
            "Only the site owner's admins and staff, or the site's own VEN, may report its state."
        )


def _rows(errors: Errors, name: str, value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        errors.setdefault(name, []).append("must be a list.")
        return []
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, Mapping):
            errors.setdefault(f"{name}[{i}]", []).append("must be an object.")
        else:
            rows.append(row)
    return rows if len(rows) == len(value) else []


def _batteries(errors: Errors, site: Site, rows: list[Mapping[str, Any]]) -> list[SiteStateBattery]:
    own = {b.pk: b for b in site.batteries.all()}
    out, seen = [], set()
    for i, row in enumerate(rows):
        path = f"batteries[{i}]"
        ref = row.get("battery")
        battery = ref if isinstance(ref, Battery) else own.get(ref) if isinstance(ref, int) else None
        if battery is None or battery.site_id != site.pk:
            errors.setdefault(f"{path}.battery", []).append(f"{ref!r} is not a battery of site {site.pk}.")
            continue
        if battery.pk in seen:
            errors.setdefault(f"{path}.battery", []).append(f"battery {battery.pk} is reported twice.")
            continue
        seen.add(battery.pk)
        soc = _number(errors, f"{path}.soc_kwh", row.get("soc_kwh"), unit="kWh")
        if soc is not None and soc > battery.energy_capacity_kwh + 1e-9:
            errors.setdefault(f"{path}.soc_kwh", []).append(
                f"{soc:g} kWh exceeds the battery's energy capacity of {battery.energy_capacity_kwh:g} kWh."
            )
        elif soc is not None:
            out.append(SiteStateBattery(battery=battery, soc_kwh=soc))
    return out


def _queue_entry(errors: Errors, path: str, row: Mapping[str, Any], classes: list[WorkloadClass]) -> Any:
    ref = row.get("workload_class")
    workload = _workload_class(classes, ref)
    if workload is None:
        errors.setdefault(f"{path}.workload_class", []).append(
            f"{ref!r} is not a workload class of this site."
        )
    elif not workload.is_deferrable:
        errors.setdefault(f"{path}.workload_class", []).append(
            f"'{workload.name}' is not deferrable (no maximum delay): only deferrable classes queue work."
        )
        workload = None
    energy = _number(errors, f"{path}.energy_kwh", row.get("energy_kwh"), unit="kWh")
    arrived = _moment(errors, f"{path}.arrived_at", row.get("arrived_at"))
    deadline = _moment(errors, f"{path}.deadline", row.get("deadline"))
    if arrived is not None and deadline is not None and deadline < arrived:
        errors.setdefault(f"{path}.deadline", []).append(
            f"{deadline.isoformat()} is before the work's arrival at {arrived.isoformat()}."
        )
        return None
    job_id = row.get("job_id") or ""
    if not isinstance(job_id, str) or len(job_id) > 200:
        errors.setdefault(f"{path}.job_id", []).append("must be a string of at most 200 characters.")
        return None
    if workload is None or energy is None or arrived is None or deadline is None:
        return None
    return QueuedWork(
        workload_class=workload, energy_kwh=energy, arrived_at=arrived, deadline=deadline, job_id=job_id
    )


def site_state_report(
    *, principal: Principal | None, site: Site, data: Mapping[str, Any], source: str = StateSource.REST
) -> SiteState:
    """Validate and store one state report of ``site``; returns the stored :class:`SiteState`.

    ``data``: ``reported_at`` (aware datetime: the time the state describes, not after the product clock
    :func:`apps.core.clock.now` plus :data:`CLOCK_SKEW`), ``it_load_kw`` (≥ 0, kW), ``batteries``: a list of
    ``{"battery": Battery or pk, "soc_kwh": ≥ 0 and ≤ its energy capacity}``, ``queue``: a list of
    ``{"workload_class": WorkloadClass, pk or name, "energy_kwh": ≥ 0, "arrived_at", "deadline" (aware,
    deadline ≥ arrival), "job_id": optional str}``; the workload class must be the site's and deferrable
    (``max_delay_h`` set: only deferrable classes queue work, DESIGN.md domain model); ``known_jobs``: a list
    of the jobs the site knows of and has not finished (:mod:`apps.telemetry.known_jobs` for their fields).

    Raises:
        NotPermitted: the caller may not report this site's state (:func:`site_state_require_reporter`).
        ValidationError: every bad field, keyed by its path (``queue[2].deadline``); nothing is stored.
    """
    site_state_require_reporter(principal=principal, site=site)
    errors: Errors = {}
    reported_at = _moment(errors, "reported_at", data.get("reported_at"))
    now = clock.now()
    if reported_at is not None and reported_at > now + CLOCK_SKEW:
        errors.setdefault("reported_at", []).append(
            f"{reported_at.isoformat()} is in the future (the product clock says {now.isoformat()})."
        )
    it_load = _number(errors, "it_load_kw", data.get("it_load_kw"), unit="kW")
    batteries = _batteries(errors, site, _rows(errors, "batteries", data.get("batteries")))
    classes = list(site.workload_classes.all())
    queue = [
        _queue_entry(errors, f"queue[{i}]", row, classes)
        for i, row in enumerate(_rows(errors, "queue", data.get("queue")))
    ]
    seen: set[str] = set()
    parsed = [
        known_job(errors, f"known_jobs[{i}]", row, classes, seen)
        for i, row in enumerate(_rows(errors, "known_jobs", data.get("known_jobs")))
    ]
    known = [job for job in parsed if job is not None]  # a refused row has named its field in errors
    if errors:
        raise ValidationError(errors)
    assert reported_at is not None and it_load is not None
    with transaction.atomic():
        state = SiteState.objects.create(
            site=site, reported_at=reported_at, received_at=now, source=source, it_load_kw=it_load
        )
        for child in [*batteries, *queue, *known]:
            child.state = state
        SiteStateBattery.objects.bulk_create(batteries)
        QueuedWork.objects.bulk_create(queue)
        KnownJob.objects.bulk_create(known)
    return state
