"""Wire representations of VTN objects: ``objectMetadata`` + the request properties, camelCase, as in
openadr3.yaml ``components.schemas`` (``program``, ``event``, ``ven``, ``resource``, ``report``,
``subscription``). Optional properties that are unset are left out (Definition.md §"Required and optional
properties": "A VTN may provide representations of an object that do not include optional properties that have
their default value")."""

from __future__ import annotations

from typing import Any

from .models import Event, OpenAdrObject, Program, Report, Resource, Subscription, Ven
from .selectors import TargetScope, shown_targets
from .timing import format_datetime


def _metadata(obj: OpenAdrObject, object_type: str) -> dict[str, Any]:
    return {
        "id": obj.object_id,
        "createdDateTime": format_datetime(obj.created_date_time),
        "modificationDateTime": format_datetime(obj.modification_date_time),
        "objectType": object_type,
    }


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def program_repr(program: Program, scope: TargetScope | None = None) -> dict[str, Any]:
    """``program`` (openadr3.yaml), with targets hidden per ``scope``."""
    return _compact(
        {
            **_metadata(program, "PROGRAM"),
            "programName": program.program_name,
            "intervalPeriod": program.interval_period,
            "programDescriptions": program.program_descriptions,
            "payloadDescriptors": program.payload_descriptors,
            "attributes": program.attributes,
            "targets": shown_targets(program.targets, scope),
        }
    )


def event_repr(event: Event, scope: TargetScope | None = None) -> dict[str, Any]:
    """``event`` (openadr3.yaml), with targets hidden per ``scope``."""
    return _compact(
        {
            **_metadata(event, "EVENT"),
            "programID": str(event.program_id),
            "eventName": event.event_name or None,
            "duration": event.duration or None,
            "priority": event.priority,
            "targets": shown_targets(event.targets, scope),
            "reportDescriptors": event.report_descriptors,
            "payloadDescriptors": event.payload_descriptors,
            "intervalPeriod": event.interval_period,
            "intervals": event.intervals,
        }
    )


def ven_repr(ven: Ven) -> dict[str, Any]:
    """``ven`` (openadr3.yaml). ``objectType`` is ``VEN`` (objectMetadata; the spec's ``ven`` schema also
    inherits ``BlVenRequest.objectType``, a contradiction the VTN resolves in favour of objectMetadata)."""
    return _compact(
        {
            **_metadata(ven, "VEN"),
            "clientID": ven.client_id,
            "venName": ven.ven_name,
            "targets": ven.targets,
            "attributes": ven.attributes,
        }
    )


def resource_repr(resource: Resource) -> dict[str, Any]:
    """``resource`` (openadr3.yaml); ``objectType`` is ``RESOURCE`` (see :func:`ven_repr`)."""
    return _compact(
        {
            **_metadata(resource, "RESOURCE"),
            "clientID": resource.client_id,
            "resourceName": resource.resource_name,
            "venID": str(resource.ven_id),
            "targets": resource.targets,
            "attributes": resource.attributes,
        }
    )


def report_repr(report: Report) -> dict[str, Any]:
    """``report`` (openadr3.yaml)."""
    return _compact(
        {
            **_metadata(report, "REPORT"),
            "eventID": report.event_ref,
            "clientName": report.client_name,
            "clientID": report.client_id,
            "reportName": report.report_name or None,
            "payloadDescriptors": report.payload_descriptors,
            "resources": report.resources,
        }
    )


def subscription_repr(subscription: Subscription) -> dict[str, Any]:
    """``subscription`` (openadr3.yaml)."""
    return _compact(
        {
            **_metadata(subscription, "SUBSCRIPTION"),
            "clientName": subscription.client_name,
            "clientID": subscription.client_id,
            "programID": str(subscription.program_id) if subscription.program_id else None,
            "objectOperations": subscription.object_operations,
            "targets": subscription.targets,
        }
    )
