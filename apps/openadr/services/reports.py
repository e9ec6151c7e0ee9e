"""Writes of report objects (``reportRequest``, VENs only) and their readings into telemetry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.errors import ConflictError, NotPermitted
from apps.telemetry.choices import Quantity, StateSource
from apps.telemetry.selectors import timeseries_list
from apps.telemetry.services import datapoints_ingest, site_state_report, timeseries_get_or_create

from .. import readings, schemas
from ..access import VtnCaller
from ..models import Event, Report
from ..selectors import event_list, object_pk, target_scope, ven_for_client
from ..state import report_state, report_state_errors
from ..timing import duration_iso
from ._common import _require_ven, _stamp, _without_metadata
from .notify import notification_record


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


def report_state_store(*, caller: VtnCaller, report: Report) -> bool:
    """Store the site state a report carries (:mod:`apps.openadr.state`) through
    :func:`apps.telemetry.services.site_state_report` (source ``openadr``); returns whether it carried one.

    Raises:
        ValidationError: a bad state entry, named by its path in the report.
    """
    assert caller.site is not None
    found = report_state({"resources": report.resources}, caller.site)
    if found is None:
        return False
    data, paths = found
    try:
        site_state_report(principal=caller.principal, site=caller.site, data=data, source=StateSource.OPENADR)
    except ValidationError as exc:
        raise report_state_errors(exc, paths) from exc
    return True


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
    """Store a VEN's report (``reportRequest``), write its USAGE/DEMAND readings to telemetry and the site state
    it carries (:func:`report_state_store`), all or nothing: a refused reading or state entry refuses the report
    (400) and nothing is written.

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
        report_state_store(caller=ven_caller, report=report)
        notification_record(object_type="REPORT", operation="CREATE", obj=report)
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
        report_state_store(caller=ven_caller, report=report)
        report.save()
        notification_record(object_type="REPORT", operation="UPDATE", obj=report)
    return report


def report_delete(*, caller: VtnCaller | None, report: Report) -> Report:
    """Delete a VEN's own report. Telemetry written from it stays (it was measured)."""
    ven_caller = _require_ven(caller, "delete reports")
    if report.client_id != ven_caller.client_id:
        raise NotPermitted("A VEN may only delete its own reports.")
    pk = report.pk
    report.delete()
    report.pk = pk
    notification_record(object_type="REPORT", operation="DELETE", obj=report)
    return report
