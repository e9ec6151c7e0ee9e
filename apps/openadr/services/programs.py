"""Writes of program objects (openadr3.yaml ``programRequest``); business logic only."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from apps.core.errors import ConflictError

from .. import schemas
from ..access import VtnCaller
from ..models import Program, ProgramTarget
from ._common import _index_targets, _require_bl, _save, _stamp, _without_metadata
from .notify import notification_record


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
    notification_record(object_type="PROGRAM", operation="CREATE" if created else "UPDATE", obj=program)
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
    notification_record(object_type="PROGRAM", operation="DELETE", obj=program)
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
