"""Writes of the VTN, and the Python API the layers above (dispatch) publish setpoints and signals with.

Every write takes the ``caller`` (:class:`~apps.openadr.access.VtnCaller`; ``None`` = the system itself, e.g.
dispatch) and a request body in the spec's camelCase shape, validated against openadr3.yaml
(:mod:`apps.openadr.schemas`). Rules and where they come from:

- ids, ``createdDateTime`` and ``modificationDateTime`` are the VTN's; ``id``, both date-times and
  ``objectType`` in a body are ignored (Definition.md §"Object Metadata", §"POST and PUT"); "now" is
  :func:`apps.core.clock.now`.
- who writes what: openadr3.yaml ``securitySchemes.oAuth2ClientCredentials`` scopes — programs and events:
  business logic only (``write_programs``, ``write_events``); reports: VENs only (``write_reports``); vens,
  resources and subscriptions: both (``write_vens``, ``write_subscriptions``), a VEN only its own objects.
- only business logic writes targets of vens and resources (§"Object Privacy": "Only BL clients may write
  targets to ven and resource objects"); a VEN that sends different targets gets 403.
- names: ``programName`` unique in the VTN, ``venName`` unique in the VTN, ``resourceName`` unique per ven
  (§"Object names") → 409 on a duplicate. Event and report names need not be unique.
- a reference to an object that does not exist (or that the caller cannot read) → 409 (openadr3.yaml
  ``components.responses.conflict``: "a violation of a foreign key constraint"); deleting a program that still
  has events → 409.

Errors: :class:`~apps.core.errors.NotPermitted` (403), :class:`~apps.core.errors.ConflictError` (409),
``ValidationError`` / :class:`~apps.core.errors.DomainError` (400).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.accounts.choices import ApiClientRole
from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site, SiteCredential
from apps.core import clock
from apps.core.errors import ConflictError, DomainError, NotPermitted
from apps.core.models import MarketZone
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import timeseries_list
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create

from . import readings, schemas
from .access import VtnCaller
from .models import (
    Event,
    EventTarget,
    Program,
    ProgramTarget,
    Report,
    Resource,
    ResourceTarget,
    Subscription,
    Ven,
    VenTarget,
)
from .selectors import (
    event_by_key,
    event_list,
    object_pk,
    program_list,
    site_target,
    site_targets,
    target_scope,
    ven_for_client,
    zone_target,
)
from .timing import duration_iso, format_datetime, lifespan_end

M = TypeVar("M", bound=models.Model)

#: Site enrolment statuses in which a site may have a VEN (it is in, or about to join, the portfolio).
ENROLLED_STATUSES = frozenset({EnrolmentStatus.APPROVED, EnrolmentStatus.ACTIVE})
#: Program used by :func:`openadr_event_publish` when none is given.
DISPATCH_PROGRAM_NAME = "vpp-dispatch"
#: Program used by :func:`openadr_signal_publish` when none is given.
SIGNALS_PROGRAM_NAME = "vpp-signals"
MAX_PRIORITY = 2**31 - 1
#: Target prefixes the VTN maintains on ven objects (:func:`apps.openadr.selectors.site_targets`).
RESERVED_TARGET_PREFIXES = ("site-", "zone-")
MAX_KEY_LENGTH = 200
_METADATA = ("id", "createdDateTime", "modificationDateTime", "objectType")


# --- helpers -----------------------------------------------------------------------------------------------


def _require_bl(caller: VtnCaller | None, action: str) -> None:
    if caller is not None and not caller.is_bl:
        raise NotPermitted(f"Only business logic may {action} (openadr3.yaml security scopes).")


def _require_ven(caller: VtnCaller | None, action: str) -> VtnCaller:
    if caller is None or not caller.is_ven:
        raise NotPermitted(f"Only VENs may {action} (openadr3.yaml scope write_reports).")
    return caller


def _without_metadata(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    return {key: value for key, value in data.items() if key not in _METADATA}


def _save(obj: M, conflict: str, field: str | None = None) -> M:
    """Save in a savepoint; a unique-constraint race becomes a 409 instead of breaking the transaction."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ConflictError(conflict, field=field) from exc
    return obj


def _index_targets(rows: Any, fk: str, owner: models.Model, targets: list[str] | None) -> None:
    rows.objects.filter(**{fk: owner}).delete()
    rows.objects.bulk_create([rows(**{fk: owner, "value": value}) for value in dict.fromkeys(targets or [])])


def _stamp(obj: Any, *, created: bool) -> None:
    now = clock.now()
    if created:
        obj.created_date_time = now
    obj.modification_date_time = now


def _same_targets(given: list[str] | None, stored: list[str] | None) -> bool:
    return given is None or set(given) == set(stored or [])


# --- programs ----------------------------------------------------------------------------------------------


def _program_apply(program: Program, data: dict[str, Any]) -> None:
    program.program_name = data["programName"]
    program.interval_period = data.get("intervalPeriod")
    program.program_descriptions = data.get("programDescriptions")
    program.payload_descriptors = data.get("payloadDescriptors")
    program.attributes = data.get("attributes")
    program.targets = data.get("targets")


def _program_save(program: Program, *, created: bool) -> Program:
    clash = Program.objects.filter(program_name=program.program_name).exclude(pk=program.pk).first()
    if clash is not None:
        raise ConflictError(
            f"a program named '{program.program_name}' exists (id {clash.pk}).", field="programName"
        )
    _stamp(program, created=created)
    _save(program, f"a program named '{program.program_name}' exists.", "programName")
    _index_targets(ProgramTarget, "program", program, program.targets)
    return program


def program_create(*, caller: VtnCaller | None, data: Any) -> Program:
    """Create a program from a ``programRequest`` body (business logic only). 409 on a duplicate name."""
    _require_bl(caller, "create programs")
    body = schemas.validate(_without_metadata(data), "programRequest")
    program = Program()
    _program_apply(program, body)
    with transaction.atomic():
        return _program_save(program, created=True)


def program_update(*, caller: VtnCaller | None, program: Program, data: Any) -> Program:
    """Replace a program with a ``programRequest`` body (business logic only). 409 on a duplicate name."""
    _require_bl(caller, "update programs")
    body = schemas.validate(_without_metadata(data), "programRequest")
    _program_apply(program, body)
    with transaction.atomic():
        return _program_save(program, created=False)


def program_delete(*, caller: VtnCaller | None, program: Program) -> Program:
    """Delete a program (business logic only). 409 while it still has events. Returns the deleted program."""
    _require_bl(caller, "delete programs")
    count = program.events.count()
    if count:
        raise ConflictError(f"the program still has {count} event(s); delete them first.")
    pk = program.pk
    try:
        with transaction.atomic():
            program.delete()
    except models.ProtectedError as exc:
        raise ConflictError("the program still has events; delete them first.") from exc
    program.pk = pk
    return program


def program_ensure(*, program_name: str, **fields: Any) -> Program:
    """The program named ``program_name``, created (by the system) with ``fields`` (camelCase
    ``programRequest`` properties) when missing. Idempotent and safe under concurrency."""
    existing = Program.objects.filter(program_name=program_name).first()
    if existing is not None:
        return existing
    try:
        return program_create(caller=None, data={"programName": program_name, **fields})
    except ConflictError:
        return Program.objects.get(program_name=program_name)


# --- events ------------------------------------------------------------------------------------------------


def _event_body(data: Any) -> dict[str, Any]:
    body = schemas.validate(_without_metadata(data), "eventRequest")
    schemas.validate_payloads(
        body.get("intervals"), enumeration_name="event-interval-payloads", prefix="intervals"
    )
    return body


def _event_apply(event: Event, body: dict[str, Any]) -> None:
    program_id = body["programID"]
    program = Program.objects.filter(pk=object_pk(program_id) or 0).first()
    if program is None:
        raise ConflictError(f"there is no program with id '{program_id}'.", field="programID")
    event.program = program
    event.event_name = body.get("eventName") or ""
    event.duration = body.get("duration") or ""
    event.priority = body.get("priority")
    if event.priority is not None and event.priority > MAX_PRIORITY:
        raise ValidationError({"priority": [f"must be at most {MAX_PRIORITY}."]})
    event.targets = body.get("targets")
    event.report_descriptors = body.get("reportDescriptors")
    event.payload_descriptors = body.get("payloadDescriptors")
    event.interval_period = body.get("intervalPeriod")
    event.intervals = body.get("intervals")
    try:
        event.ends_at = lifespan_end(event.interval_period, event.intervals, event.duration or None)
    except (ValueError, OverflowError) as exc:
        raise ValidationError({"intervals": [f"the event's timing cannot be resolved: {exc}"]}) from exc


def _event_save(event: Event, *, created: bool) -> Event:
    _stamp(event, created=created)
    _save(event, f"an event with publish key '{event.publish_key}' exists.")
    _index_targets(EventTarget, "event", event, event.targets)
    return event


def event_create(*, caller: VtnCaller | None, data: Any, publish_key: str | None = None) -> Event:
    """Create an event from an ``eventRequest`` body (business logic only).

    Payload values of enumerated types are checked (e.g. ``IMPORT_CAPACITY_LIMIT`` ≥ 0). ``programID`` must
    name an existing program (else 409).
    """
    _require_bl(caller, "create events")
    body = _event_body(data)
    event = Event(publish_key=publish_key)
    _event_apply(event, body)
    with transaction.atomic():
        return _event_save(event, created=True)


def event_update(*, caller: VtnCaller | None, event: Event, data: Any) -> Event:
    """Replace an event with an ``eventRequest`` body (business logic only)."""
    _require_bl(caller, "update events")
    body = _event_body(data)
    _event_apply(event, body)
    with transaction.atomic():
        return _event_save(event, created=False)


def event_delete(*, caller: VtnCaller | None, event: Event) -> Event:
    """Delete an event (business logic only; User Guide §7.9: deleting is how an event is cancelled). Reports
    answering it are kept (their ``eventID`` stays). Returns the deleted event."""
    _require_bl(caller, "delete events")
    pk = event.pk
    event.delete()
    event.pk = pk
    return event


# --- vens --------------------------------------------------------------------------------------------------


def _request_kind(data: Any, caller: VtnCaller | None, *, bl_kind: str, ven_kind: str) -> dict[str, Any]:
    """The body with ``objectType`` set to the request schema's discriminator: kept when it is one of the two
    request types, else inferred from the caller's role (§"POST and PUT": a VTN ignores ``objectType``)."""
    if not isinstance(data, dict):
        return data
    body = {key: value for key, value in data.items() if key not in _METADATA[:3]}
    if body.get("objectType") not in (bl_kind, ven_kind):
        body["objectType"] = ven_kind if caller is not None and caller.is_ven else bl_kind
    return body


def _ven_site(client_id: str) -> Site:
    credential = (
        SiteCredential.objects.select_related("site", "api_client")
        .filter(
            api_client__client_id=client_id, api_client__role=ApiClientRole.VEN, api_client__is_active=True
        )
        .first()
    )
    if credential is None:
        raise DomainError(
            f"'{client_id}' is not the client id of an active VEN API client bound to a site "
            "(manage.py create_api_client --role ven --site SITE).",
            field="clientID",
        )
    return credential.site


def _ven_save(ven: Ven, *, created: bool, site_changed: bool = False) -> Ven:
    if (created or site_changed) and ven.site.enrolment_status not in ENROLLED_STATUSES:
        raise ConflictError(
            f"site '{ven.site}' is {ven.site.enrolment_status}; only approved or active sites have a VEN."
        )
    checks = [
        (Ven.objects.filter(ven_name=ven.ven_name), f"a ven named '{ven.ven_name}' exists", "venName"),
        (
            Ven.objects.filter(client_id=ven.client_id),
            f"client '{ven.client_id}' already has a ven",
            "clientID",
        ),
        (Ven.objects.filter(site=ven.site), f"site '{ven.site}' already has a ven", "clientID"),
    ]
    for qs, message, field in checks:
        clash = qs.exclude(pk=ven.pk).first()
        if clash is not None:
            raise ConflictError(f"{message} (id {clash.pk}).", field=field)
    ven.targets = list(dict.fromkeys([*_own_targets(ven.targets, ven.site), *site_targets(ven.site)]))
    _stamp(ven, created=created)
    _save(ven, f"a ven named '{ven.ven_name}' or for client '{ven.client_id}' exists.", "venName")
    _index_targets(VenTarget, "ven", ven, ven.targets)
    return ven


def _own_targets(targets: list[str] | None, site: Site) -> list[str]:
    """``targets`` without reserved ones (``site-…``, ``zone-…``) of other sites and zones: those are the VTN's
    and follow the site, so that a ven moved to another client or copied from another never keeps them."""
    own = set(site_targets(site))
    return [t for t in targets or [] if t in own or not t.startswith(RESERVED_TARGET_PREFIXES)]


def _ven_body(caller: VtnCaller | None, data: Any) -> dict[str, Any]:
    body = _request_kind(data, caller, bl_kind="BL_VEN_REQUEST", ven_kind="VEN_VEN_REQUEST")
    schema = "BlVenRequest" if body.get("objectType") == "BL_VEN_REQUEST" else "VenVenRequest"
    return schemas.validate(body, schema)


def _bl_client_id(body: dict[str, Any]) -> str:
    """The ``clientID`` business logic names in a ven body. A ``VenVenRequest`` (valid without it) sent by
    business logic has none: 400, not a crash (found by tests/reliability/test_openadr_fuzz.py).

    Raises:
        DomainError: no ``clientID``.
    """
    client_id = body.get("clientID")
    if not client_id:
        raise DomainError(
            "business logic names the ven's clientID (a BlVenRequest); VEN_VEN_REQUEST is for a VEN itself.",
            field="clientID",
        )
    return str(client_id)


def ven_create(*, caller: VtnCaller | None, data: Any) -> Ven:
    """Register a VEN: a ven object for one enrolled site.

    Business logic sends a ``BlVenRequest``; its ``clientID`` must be a VEN API client bound to a site (400
    otherwise). A VEN registers itself with a ``VenVenRequest``: ``clientID`` and site come from its token, and
    it may not set targets (403). The site must be approved or active, and may have one ven (409). The VTN adds
    the site's and its zone's targets (:func:`apps.openadr.selectors.site_targets`).
    """
    body = _ven_body(caller, data)
    if caller is not None and caller.is_ven:
        if body.get("clientID") not in (None, caller.client_id):
            raise NotPermitted("A VEN may only register itself (clientID is taken from its token).")
        if body.get("targets"):
            raise NotPermitted(
                "Only business logic may set the targets of a ven (Definition.md §Object Privacy)."
            )
        assert caller.site is not None
        ven = Ven(client_id=caller.client_id, site=caller.site, targets=[])
    else:
        client_id = _bl_client_id(body)
        ven = Ven(client_id=client_id, site=_ven_site(client_id), targets=body.get("targets"))
    ven.ven_name = body["venName"]
    ven.attributes = body.get("attributes")
    with transaction.atomic():
        return _ven_save(ven, created=True)


def ven_update(*, caller: VtnCaller | None, ven: Ven, data: Any) -> Ven:
    """Replace a ven object. A VEN may update only its own, and may not change its targets or clientID (403);
    business logic may change both (a new ``clientID`` moves the ven to that client's site)."""
    body = _ven_body(caller, data)
    if caller is not None and caller.is_ven:
        if ven.client_id != caller.client_id:
            raise NotPermitted("A VEN may only update its own ven object.")
        if body.get("clientID") not in (None, ven.client_id):
            raise NotPermitted("A VEN cannot change its clientID.")
        if not _same_targets(body.get("targets"), ven.targets):
            raise NotPermitted(
                "Only business logic may change the targets of a ven (Definition.md §Object Privacy)."
            )
    site_changed = False
    if caller is None or caller.is_bl:
        client_id = _bl_client_id(body)
        if client_id != ven.client_id:
            site = _ven_site(client_id)
            site_changed = site.pk != ven.site_id
            ven.site, ven.client_id = site, client_id
        ven.targets = body.get("targets")
    ven.ven_name = body["venName"]
    ven.attributes = body.get("attributes")
    with transaction.atomic():
        return _ven_save(ven, created=False, site_changed=site_changed)


def ven_delete(*, caller: VtnCaller | None, ven: Ven) -> Ven:
    """Delete a ven object and its resources (business logic only). Its reports are kept."""
    _require_bl(caller, "delete vens")
    pk = ven.pk
    ven.delete()
    ven.pk = pk
    return ven


# --- resources ---------------------------------------------------------------------------------------------


def _resource_body(caller: VtnCaller | None, data: Any) -> dict[str, Any]:
    body = _request_kind(data, caller, bl_kind="BL_RESOURCE_REQUEST", ven_kind="VEN_RESOURCE_REQUEST")
    schema = "BlResourceRequest" if body.get("objectType") == "BL_RESOURCE_REQUEST" else "VenResourceRequest"
    return schemas.validate(body, schema)


def _resource_apply(caller: VtnCaller | None, resource: Resource, body: dict[str, Any]) -> None:
    ven_qs = Ven.objects.all()
    if caller is not None and caller.is_ven:
        ven_qs = ven_qs.filter(client_id=caller.client_id)
        if body.get("clientID") not in (None, caller.client_id):
            raise NotPermitted("A VEN may only write resources of its own ven.")
        if not _same_targets(body.get("targets") or None, resource.targets):
            raise NotPermitted(
                "Only business logic may set the targets of a resource (Definition.md §Object Privacy)."
            )
    ven = ven_qs.filter(pk=object_pk(body["venID"]) or 0).first()
    if ven is None:
        raise ConflictError(f"there is no ven with id '{body['venID']}' for this client.", field="venID")
    if resource.pk is not None and ven.pk != resource.ven_id:
        raise DomainError("a resource cannot move to another ven.", field="venID")
    if (caller is None or caller.is_bl) and body.get("clientID") not in (None, ven.client_id):
        raise DomainError(f"clientID must be the ven's ('{ven.client_id}').", field="clientID")
    resource.ven = ven
    resource.client_id = ven.client_id
    resource.resource_name = body["resourceName"]
    resource.attributes = body.get("attributes")
    if caller is None or caller.is_bl:
        targets = body.get("targets")
        resource.targets = None if targets is None else _own_targets(targets, ven.site)


def _resource_save(resource: Resource, *, created: bool) -> Resource:
    clash = (
        Resource.objects.filter(ven=resource.ven, resource_name=resource.resource_name)
        .exclude(pk=resource.pk)
        .first()
    )
    if clash is not None:
        raise ConflictError(
            f"ven {resource.ven_id} has a resource named '{resource.resource_name}' (id {clash.pk}).",
            field="resourceName",
        )
    _stamp(resource, created=created)
    _save(resource, f"the ven has a resource named '{resource.resource_name}'.", "resourceName")
    _index_targets(ResourceTarget, "resource", resource, resource.targets)
    return resource


def resource_create(*, caller: VtnCaller | None, data: Any) -> Resource:
    """Create a resource of a ven (``BlResourceRequest`` / ``VenResourceRequest``). A VEN only under its own
    ven and without targets (403); ``venID`` must name a ven the caller can write (409)."""
    body = _resource_body(caller, data)
    resource = Resource(targets=None)
    _resource_apply(caller, resource, body)
    with transaction.atomic():
        return _resource_save(resource, created=True)


def resource_update(*, caller: VtnCaller | None, resource: Resource, data: Any) -> Resource:
    """Replace a resource (same rules as :func:`resource_create`; it stays with its ven)."""
    body = _resource_body(caller, data)
    _resource_apply(caller, resource, body)
    with transaction.atomic():
        return _resource_save(resource, created=False)


def resource_delete(*, caller: VtnCaller | None, resource: Resource) -> Resource:
    """Delete a resource (business logic, or the VEN owning it)."""
    if caller is not None and caller.is_ven and resource.client_id != caller.client_id:
        raise NotPermitted("A VEN may only delete its own resources.")
    pk = resource.pk
    resource.delete()
    resource.pk = pk
    return resource


# --- reports -----------------------------------------------------------------------------------------------


def _report_body(data: Any) -> dict[str, Any]:
    body = schemas.validate(_without_metadata(data), "reportRequest")
    for r, resource in enumerate(body["resources"]):
        schemas.validate_payloads(
            resource["intervals"], enumeration_name="report-payloads", prefix=f"resources[{r}].intervals"
        )
    return body


def _report_event(caller: VtnCaller, event_id: str) -> Event:
    scope = target_scope(caller=caller)
    event = event_list(caller=caller, scope=scope).filter(pk=object_pk(event_id) or 0).first()
    if event is None:
        raise ConflictError(f"there is no event with id '{event_id}' for this VEN.", field="eventID")
    return event


def report_ingest(*, caller: VtnCaller, report: Report, event: Event | None) -> int:
    """Write the power readings of ``report`` to its site's ``site_power_kw`` series (see
    :mod:`apps.openadr.readings`); returns the number of data points written (new or changed values).

    The site's series (name ``""``) is used at its resolution, or created at the resolution of the shortest
    reading. Existing points at the same starts are replaced (telemetry upserts).

    Raises:
        ValidationError: readings that cannot be placed in time, or that telemetry refuses (e.g. out of range).
    """
    assert caller.site is not None
    body = {"resources": report.resources, "payloadDescriptors": report.payload_descriptors}
    pieces = readings.report_pieces(body, event)
    if not pieces:
        return 0
    site = caller.site
    series = (
        timeseries_list(principal=caller.principal)
        .filter(site=site, quantity=Quantity.SITE_POWER_KW, name="")
        .first()
    )
    if series is None:
        step = readings.smallest_step(pieces)
        if 86400 % step:
            raise ValidationError(
                {
                    "resources": [
                        f"readings of {step} s cannot start a site series: the step must divide a day."
                    ]
                }
            )
        series, _ = timeseries_get_or_create(
            owner=site,
            quantity=Quantity.SITE_POWER_KW,
            resolution=duration_iso(timedelta(seconds=step)),
            source="OpenADR 3 reports of the site's VEN",
        )
    power = readings.site_power(body, pieces, series.resolution_s)
    try:
        result = datapoints_ingest(series=series, rows=power, principal=caller.principal)
    except ValidationError as exc:
        raise ValidationError(
            {"resources": [f"telemetry refused the readings: {m}" for m in exc.messages]}
        ) from exc
    return result.created + result.updated


def _report_apply(caller: VtnCaller, report: Report, body: dict[str, Any]) -> Event:
    event = _report_event(caller, body["eventID"])
    report.event = event
    report.event_ref = str(event.pk)
    report.program_ref = str(event.program_id)
    report.ven = ven_for_client(client_id=caller.client_id)
    report.client_id = caller.client_id
    report.client_name = body["clientName"]
    report.report_name = body.get("reportName") or ""
    report.payload_descriptors = body.get("payloadDescriptors")
    report.resources = body["resources"]
    return event


def report_create(*, caller: VtnCaller | None, data: Any) -> Report:
    """Store a VEN's report (``reportRequest``) and write its USAGE/DEMAND readings to telemetry, all or
    nothing: a refused reading refuses the report (400) and nothing is written.

    VENs only (403 for business logic); ``eventID`` must name an event the VEN can read (409).
    """
    ven_caller = _require_ven(caller, "create reports")
    body = _report_body(data)
    report = Report()
    with transaction.atomic():
        event = _report_apply(ven_caller, report, body)
        _stamp(report, created=True)
        report.save()
        report.telemetry_points = report_ingest(caller=ven_caller, report=report, event=event)
        report.save(update_fields=["telemetry_points"])
    return report


def report_update(*, caller: VtnCaller | None, report: Report, data: Any) -> Report:
    """Replace a VEN's own report; its readings are written to telemetry again (values replaced)."""
    ven_caller = _require_ven(caller, "update reports")
    if report.client_id != ven_caller.client_id:
        raise NotPermitted("A VEN may only update its own reports.")
    body = _report_body(data)
    with transaction.atomic():
        event = _report_apply(ven_caller, report, body)
        _stamp(report, created=False)
        report.telemetry_points = report_ingest(caller=ven_caller, report=report, event=event)
        report.save()
    return report


def report_delete(*, caller: VtnCaller | None, report: Report) -> Report:
    """Delete a VEN's own report. Telemetry written from it stays (it was measured)."""
    ven_caller = _require_ven(caller, "delete reports")
    if report.client_id != ven_caller.client_id:
        raise NotPermitted("A VEN may only delete its own reports.")
    pk = report.pk
    report.delete()
    report.pk = pk
    return report


# --- subscriptions -----------------------------------------------------------------------------------------


def _subscription_apply(caller: VtnCaller | None, subscription: Subscription, data: Any) -> None:
    body = schemas.validate(_without_metadata(data), "subscriptionRequest")
    for i, operation in enumerate(body["objectOperations"]):
        if not operation["callbackUrl"].lower().startswith("https://"):
            raise ValidationError(
                {f"objectOperations[{i}].callbackUrl": ["must be an https:// URL (Definition.md §Webhooks)."]}
            )
    program = None
    if body.get("programID") is not None:
        programs = Program.objects.all()
        if caller is not None:
            programs = program_list(caller=caller, scope=target_scope(caller=caller))
        program = programs.filter(pk=object_pk(body["programID"]) or 0).first()
        if program is None:
            raise ConflictError(f"there is no program with id '{body['programID']}'.", field="programID")
    subscription.client_name = body["clientName"]
    subscription.program = program
    subscription.object_operations = body["objectOperations"]
    subscription.targets = body.get("targets")


def subscription_create(*, caller: VtnCaller | None, data: Any) -> Subscription:
    """Store a subscription (``subscriptionRequest``) of the caller. Callback URLs must be https. Notifications
    are not sent by this VTN yet."""
    subscription = Subscription(client_id=caller.client_id if caller else "system")
    _subscription_apply(caller, subscription, data)
    _stamp(subscription, created=True)
    subscription.save()
    return subscription


def subscription_update(*, caller: VtnCaller | None, subscription: Subscription, data: Any) -> Subscription:
    """Replace a subscription (business logic any, a VEN its own)."""
    if caller is not None and caller.is_ven and subscription.client_id != caller.client_id:
        raise NotPermitted("A VEN may only update its own subscriptions.")
    _subscription_apply(caller, subscription, data)
    _stamp(subscription, created=False)
    subscription.save()
    return subscription


def subscription_delete(*, caller: VtnCaller | None, subscription: Subscription) -> Subscription:
    """Delete a subscription (business logic any, a VEN its own)."""
    if caller is not None and caller.is_ven and subscription.client_id != caller.client_id:
        raise NotPermitted("A VEN may only delete its own subscriptions.")
    pk = subscription.pk
    subscription.delete()
    subscription.pk = pk
    return subscription


# --- Python API for dispatch -------------------------------------------------------------------------------

#: An interval to publish: ``(start, duration, {payload type: value or [values]})``.
IntervalSpec = tuple[datetime, timedelta, Mapping[str, Any]]

#: Units of the payload types published by :func:`openadr_event_publish` (``eventPayloadDescriptor.units``).
SETPOINT_UNITS = {"IMPORT_CAPACITY_LIMIT": "KW", "DISPATCH_SETPOINT": "KW", "EXPORT_CAPACITY_LIMIT": "KW"}


@dataclass(frozen=True)
class SitePublication:
    """One site's setpoints for :func:`openadr_events_ensure_many` (fields as in :func:`openadr_event_ensure`)."""

    key: str | None
    site: Site
    intervals: Sequence[IntervalSpec]
    event_name: str | None = None
    priority: int | None = None


def _check_values(kind: str, values: list[Any], path: str) -> None:
    """Values of an enumerated payload type (Definition.md §"Event Payload Enumerations"): numbers where the
    enumeration says so, ≥ its minimum; always finite (JSON has no NaN)."""
    if not values:
        raise DomainError("a payload needs at least one value.", field=path)
    items = (schemas.enumeration("event-interval-payloads").get(kind) or {}).get("items") or {}
    for k, value in enumerate(values):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and not math.isfinite(value):
            raise DomainError("values must be finite numbers.", field=f"{path}[{k}]")
        if items.get("type") in ("number", "integer") and not number:
            raise DomainError(f"{kind} values are numbers.", field=f"{path}[{k}]")
        if number and "minimum" in items and value < items["minimum"]:
            raise DomainError(f"{kind} values are at least {items['minimum']}.", field=f"{path}[{k}]")


def _intervals_body(intervals: Sequence[IntervalSpec]) -> list[dict[str, Any]]:
    if not intervals:
        raise DomainError("an event needs at least one interval.", field="intervals")
    out = []
    for i, (start, duration, payloads) in enumerate(intervals):
        if timezone.is_naive(start):
            raise DomainError("interval starts must be timezone-aware.", field=f"intervals[{i}].start")
        if duration <= timedelta(0):
            raise DomainError("interval durations must be positive.", field=f"intervals[{i}].duration")
        if not payloads:
            raise DomainError("an interval needs at least one payload.", field=f"intervals[{i}].payloads")
        body = []
        for j, (kind, value) in enumerate(payloads.items()):
            values = list(value) if isinstance(value, list | tuple) else [value]
            _check_values(kind, values, f"intervals[{i}].payloads[{j}].values")
            body.append({"type": kind, "values": values})
        period = {"start": format_datetime(start), "duration": duration_iso(duration)}
        out.append({"id": i, "intervalPeriod": period, "payloads": body})
    return out


def _draft(
    *,
    program: Program,
    targets: list[str],
    intervals: list[dict[str, Any]],
    descriptors: list[dict[str, Any]],
    event_name: str | None,
    priority: int | None,
    key: str | None,
    ends_at: datetime | None = None,
) -> Event:
    """An unsaved event built by the system (its body is correct by construction: no schema round trip)."""
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise DomainError(f"a publish key has 1–{MAX_KEY_LENGTH} characters.", field="key")
    if priority is not None and not 0 <= priority <= MAX_PRIORITY:
        raise DomainError(f"priority is 0 (highest) … {MAX_PRIORITY}.", field="priority")
    event = Event(
        program=program,
        event_name=(event_name if event_name is not None else key) or "",
        priority=priority,
        targets=targets,
        payload_descriptors=descriptors or None,
        intervals=intervals,
        publish_key=key,
    )
    event.ends_at = ends_at if ends_at is not None else lifespan_end(None, intervals, None)
    return event


_PUBLISHED_FIELDS = (
    "program_id",
    "event_name",
    "priority",
    "targets",
    "payload_descriptors",
    "intervals",
    "ends_at",
)


def _ensure_many(drafts: list[Event]) -> list[tuple[Event, bool]]:
    """Create the drafts, or update the events already published under their keys when they differ; a few
    queries for any number of events. Returns ``(event, created)`` in the drafts' order."""
    keys = [d.publish_key for d in drafts if d.publish_key is not None]
    if len(keys) != len(set(keys)):
        raise DomainError("publish keys must be unique within one call.", field="key")
    now = clock.now()
    with transaction.atomic():
        existing = {e.publish_key: e for e in Event.objects.select_for_update().filter(publish_key__in=keys)}
        results: list[tuple[Event, bool]] = []
        new: list[Event] = []
        changed: list[Event] = []
        for draft in drafts:
            event = existing.get(draft.publish_key) if draft.publish_key is not None else None
            if event is None:
                draft.created_date_time = draft.modification_date_time = now
                new.append(draft)
                results.append((draft, True))
                continue
            if any(getattr(event, f) != getattr(draft, f) for f in _PUBLISHED_FIELDS):
                for field in _PUBLISHED_FIELDS:
                    setattr(event, field, getattr(draft, field))
                event.modification_date_time = now
                changed.append(event)
            results.append((event, False))
        try:  # no savepoint of its own: on a clash the whole block rolls back and the caller retries
            Event.objects.bulk_create(new)
        except IntegrityError as exc:
            raise ConflictError("a concurrent publish used one of these keys; retry.", field="key") from exc
        if changed:
            Event.objects.bulk_update(changed, ["program", *_PUBLISHED_FIELDS[1:], "modification_date_time"])
            EventTarget.objects.filter(event__in=changed).delete()
        EventTarget.objects.bulk_create(
            [EventTarget(event=e, value=t) for e in [*new, *changed] for t in dict.fromkeys(e.targets or [])]
        )
    return results


def _ensure_with_retry(drafts: list[Event]) -> list[tuple[Event, bool]]:
    try:
        return _ensure_many(drafts)
    except ConflictError:  # a concurrent call created one of the keys first: now it exists, so update it
        return _ensure_many(drafts)


def _setpoint_draft(program: Program, publication: SitePublication) -> Event:
    kinds = dict.fromkeys(kind for _, _, payloads in publication.intervals for kind in payloads)
    descriptors = [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": kind, "units": SETPOINT_UNITS[kind]}
        for kind in kinds
        if kind in SETPOINT_UNITS
    ]
    return _draft(
        program=program,
        targets=[site_target(publication.site)],
        intervals=_intervals_body(publication.intervals),
        descriptors=descriptors,
        event_name=publication.event_name,
        priority=publication.priority,
        key=publication.key,
        ends_at=max(start + duration for start, duration, _ in publication.intervals),
    )


def openadr_event_publish(
    *,
    site: Site,
    intervals: Sequence[IntervalSpec],
    program: Program | None = None,
    event_name: str | None = None,
    priority: int | None = None,
) -> Event:
    """Publish setpoints for one site as an OpenADR event targeted at the site's VEN.

    Args:
        site: the site; the event's target is :func:`~apps.openadr.selectors.site_target` (``site-<id>``),
            which the site's VEN always holds, so a VEN that registers later still receives it.
        intervals: ``[(start, duration, {payload type: value or [values]})]`` with aware ``start`` and positive
            ``duration``. Payload types: ``IMPORT_CAPACITY_LIMIT`` (site import cap) and ``DISPATCH_SETPOINT``
            (absolute consumption), both in **kW** and ≥ 0 (Definition.md §"Event Payload Enumerations");
            ``EXPORT_CAPACITY_LIMIT`` in kW; other enumerated or private types are passed as given. Several
            values in one payload are consecutive equal sub-intervals (User Guide §7.3).
        program: the OpenADR program; default :data:`DISPATCH_PROGRAM_NAME` (created on first use).
        event_name: the event's name (free text, need not be unique).
        priority: 0 is the highest.

    Returns:
        the new :class:`~apps.openadr.models.Event` (``event.object_id`` is its spec id).

    Raises:
        DomainError: naive start, non-positive duration, no interval, payload or value, a value that is not a
            finite number where the enumeration wants one, or below its minimum (e.g. a negative setpoint).
    """
    event, _ = openadr_event_ensure(
        key=None, site=site, intervals=intervals, program=program, event_name=event_name, priority=priority
    )
    return event


def openadr_event_ensure(
    *,
    key: str | None,
    site: Site,
    intervals: Sequence[IntervalSpec],
    program: Program | None = None,
    event_name: str | None = None,
    priority: int | None = None,
) -> tuple[Event, bool]:
    """Idempotent :func:`openadr_event_publish` keyed by ``key`` (1–200 characters, e.g. ``"plan-17-v2-site-4"``).

    The first call creates the event (named ``key`` unless ``event_name`` is given); a later call with the same
    key returns the same event, updated in place when its intervals, name, priority or program differ (its
    ``modificationDateTime`` then moves; VENs see the new values on their next read). Safe under concurrency
    (the key is unique). ``key=None`` always creates.

    Returns:
        ``(event, created)``.
    """
    program = program or program_ensure(program_name=DISPATCH_PROGRAM_NAME)
    draft = _setpoint_draft(program, SitePublication(key, site, intervals, event_name, priority))
    (result,) = _ensure_with_retry([draft])
    return result


def openadr_events_ensure_many(
    *, publications: Sequence[SitePublication], program: Program | None = None
) -> list[tuple[Event, bool]]:
    """:func:`openadr_event_ensure` for many sites at once (one activation's plan), in a handful of queries
    whatever their number. Keys must be unique within the call. Returns ``(event, created)`` per publication,
    in order. All or nothing: a refused publication refuses the call."""
    program = program or program_ensure(program_name=DISPATCH_PROGRAM_NAME)
    drafts = []
    for index, publication in enumerate(publications):
        try:
            drafts.append(_setpoint_draft(program, publication))
        except DomainError as exc:
            raise DomainError(exc.reason, field=f"publications[{index}].{exc.field}") from exc
    return _ensure_with_retry(drafts)


def dispatch_event_publish(
    *,
    site: Site,
    intervals: Sequence[IntervalSpec],
    event_name: str,
    program: Program | None = None,
    priority: int | None = None,
) -> Event:
    """:func:`openadr_event_ensure` keyed by ``event_name`` (the name apps.dispatch calls it by): publishing the
    same delivery twice leaves one event, updated in place if its setpoints changed. Returns the event."""
    event, _ = openadr_event_ensure(
        key=event_name,
        site=site,
        intervals=intervals,
        program=program,
        event_name=event_name,
        priority=priority,
    )
    return event


def openadr_event_withdraw(*, key: str) -> bool:
    """Delete the event published under ``key`` (cancellation, User Guide §7.9); ``False`` if there is none."""
    event = event_by_key(key=key)
    if event is None:
        return False
    event_delete(caller=None, event=event)
    return True


def openadr_signal_publish(
    *,
    zone: MarketZone,
    signal: str,
    intervals: Sequence[tuple[datetime, timedelta, float]],
    program: Program | None = None,
    key: str | None = None,
    event_name: str | None = None,
) -> Event:
    """Publish a price or carbon signal for every VEN of a market zone (target ``zone-<code>``).

    Args:
        zone: the market zone; its VENs (sites in the zone) hold its target.
        signal: ``"PRICE"`` or ``"GHG"``.
        intervals: ``[(start, duration, value)]``. PRICE values in the zone's **currency per MWh** (DESIGN.md
            convention), published as OpenADR PRICE per kWh (value / 1000, descriptor ``units="KWH"``,
            ``currency`` = the zone's); GHG values in **gCO2/kWh** (descriptor ``units="GHG"``, g/kWh per the
            units enumeration), ≥ 0.
        program: default :data:`SIGNALS_PROGRAM_NAME` (created on first use).
        key: idempotency key as in :func:`openadr_event_ensure`.
        event_name: defaults to the key.

    Raises:
        DomainError: an unknown signal, or bad intervals or values as in :func:`openadr_event_publish`.
    """
    if signal == "PRICE":
        descriptor = {
            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            "payloadType": "PRICE",
            "units": "KWH",
            "currency": zone.currency,
        }
        scale = 1.0 / 1000.0
    elif signal == "GHG":
        descriptor = {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "GHG", "units": "GHG"}
        scale = 1.0
    else:
        raise DomainError(f"unknown signal '{signal}'; use PRICE or GHG.", field="signal")
    specs: list[IntervalSpec] = [
        (start, duration, {signal: value * scale}) for start, duration, value in intervals
    ]
    draft = _draft(
        program=program or program_ensure(program_name=SIGNALS_PROGRAM_NAME),
        targets=[zone_target(zone)],
        intervals=_intervals_body(specs),
        descriptors=[descriptor],
        event_name=event_name,
        priority=None,
        key=key,
    )
    ((event, _),) = _ensure_with_retry([draft])
    return event
