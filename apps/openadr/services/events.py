"""Writes of event objects (openadr3.yaml ``eventRequest``); business logic only."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.errors import ConflictError

from .. import schemas
from ..access import VtnCaller
from ..models import Event, EventTarget, Program
from ..selectors import object_pk
from ..timing import lifespan_end
from ._common import MAX_PRIORITY, _index_targets, _require_bl, _save, _stamp, _without_metadata
from .notify import notification_record


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
    notification_record(object_type="EVENT", operation="CREATE" if created else "UPDATE", obj=event)
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
    notification_record(object_type="EVENT", operation="DELETE", obj=event)
    return event
