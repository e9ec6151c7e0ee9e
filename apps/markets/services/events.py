"""Writes for markets: programs and the event life cycle (announce, cancel, gate closure, completion), and the
rules and permission checks the other service modules share.

Every status change is a conditional UPDATE on the expected status (a step taken twice or concurrently
happens once); illegal steps raise :class:`~apps.core.errors.ConflictError` with the reason (HTTP 409).
Time comes from :func:`apps.core.clock.now`, so a replay runs on simulated time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.principal import Principal
from apps.core import clock
from apps.core.errors import ConflictError, NotPermitted

from ..choices import ActivationStatus, EventStatus
from ..models import Activation, Event, Program
from ..rules import ProgramRules, event_request_errors, event_window_errors

EPS = 1e-6


def rules_of(program: Program) -> ProgramRules:
    """The checkable rules of ``program``."""
    return ProgramRules(
        min_bid_kw=program.min_bid_kw,
        bid_granularity_kw=program.bid_granularity_kw,
        notice_minutes=program.notice_minutes,
        min_duration_minutes=program.min_duration_minutes,
        max_duration_minutes=program.max_duration_minutes,
        gate_closure_lead_minutes=program.gate_closure_lead_minutes,
        settlement_interval_minutes=program.settlement_interval_minutes,
        price_cap_per_mwh=program.price_cap_per_mwh,
    )


def _require_operator(principal: Principal, program: Program | None = None) -> None:
    if not (principal.is_market_operator and principal.can_write):
        raise NotPermitted("Only a market operator's admins and staff may do this.")
    if program is not None and program.operator_id != principal.org.pk:
        raise NotPermitted("This program belongs to another market operator.")


def program_create(*, principal: Principal, data: dict[str, Any]) -> Program:
    """Create a program run by the caller's market-operator organisation."""
    _require_operator(principal)
    return Program.objects.create(operator=principal.org, **data)


def program_update(*, principal: Principal, program: Program, data: dict[str, Any]) -> Program:
    """Change a program's rules; rules of events already announced are those stored at announcement."""
    _require_operator(principal, program)
    for key, value in data.items():
        setattr(program, key, value)
    program.save()
    return program


def event_announce(
    *,
    principal: Principal,
    program: Program,
    start: datetime,
    end: datetime,
    requested_kw: float,
    reference_price_per_mwh: float | None = None,
) -> Event:
    """Announce an event of ``program`` in ``[start, end)``; gate closure = start − the program's lead time.

    Raises:
        NotPermitted: not the program's operator.
        ValidationError: the window breaks the program's rules (alignment, duration, notice, gate closure), or
            ``requested_kw`` is not above 0 and at least the program's ``min_bid_kw``.
        ConflictError: the program is inactive.
    """
    _require_operator(principal, program)
    if not program.is_active:
        raise ConflictError(f"program '{program.code}' is inactive.")
    now = clock.now()
    errors = event_window_errors(rules_of(program), start=start, end=end, now=now)
    errors |= event_request_errors(rules_of(program), requested_kw=requested_kw)
    if errors:
        raise ValidationError(errors)
    return Event.objects.create(
        program=program,
        start=start,
        end=end,
        requested_kw=requested_kw,
        announced_at=now,
        gate_closure_at=start - timedelta(minutes=program.gate_closure_lead_minutes),
        reference_price_per_mwh=reference_price_per_mwh,
    )


def _move(event: Event, *, allowed: Sequence[str], to: str, what: str, **extra: Any) -> Event:
    """Conditional UPDATE of the event's status; 409 naming the current status when not allowed."""
    updated = Event.objects.filter(pk=event.pk, status__in=list(allowed)).update(
        status=to, updated_at=clock.now(), **extra
    )
    if updated != 1:
        current = Event.objects.filter(pk=event.pk).values_list("status", flat=True).first()
        raise ConflictError(f"cannot {what} an event that is {current}.")
    event.refresh_from_db()
    return event


def event_cancel(*, principal: Principal, event: Event, reason: str) -> Event:
    """Cancel an event before it is active (announced, gate closed or awarded)."""
    _require_operator(principal, event.program)
    return _move(
        event,
        allowed=[EventStatus.ANNOUNCED, EventStatus.GATE_CLOSED, EventStatus.AWARDED],
        to=EventStatus.CANCELLED,
        what="cancel",
        cancel_reason=reason,
    )


def event_gate_is_closed(event: Event, *, now: datetime | None = None) -> bool:
    """True once the gate closure time has passed or the event moved past ``announced``."""
    return event.status != EventStatus.ANNOUNCED or (now or clock.now()) >= event.gate_closure_at


def event_close_gate(*, event: Event) -> Event:
    """Close the gate of an announced event whose gate-closure time has passed (beat or the operator).

    Raises:
        ConflictError: before the gate-closure time, or the event is not announced.
    """
    if clock.now() < event.gate_closure_at:
        raise ConflictError(
            f"the gate closes at {event.gate_closure_at.isoformat()}; it cannot close earlier."
        )
    return _move(event, allowed=[EventStatus.ANNOUNCED], to=EventStatus.GATE_CLOSED, what="close the gate of")


def events_close_due_gates() -> int:
    """Close every announced event whose gate-closure time has passed; returns how many were closed."""
    return Event.objects.filter(status=EventStatus.ANNOUNCED, gate_closure_at__lte=clock.now()).update(
        status=EventStatus.GATE_CLOSED, updated_at=clock.now()
    )


def events_complete_finished() -> int:
    """Complete active events whose window has ended; their open activations end at the window's end."""
    now = clock.now()
    finished = list(
        Event.objects.filter(status=EventStatus.ACTIVE, end__lte=now).values_list("pk", flat=True)
    )
    with transaction.atomic():
        for event in Event.objects.filter(pk__in=finished):
            Activation.objects.filter(event=event, status=ActivationStatus.ACTIVE).update(
                status=ActivationStatus.ENDED, end=event.end
            )
        count = Event.objects.filter(pk__in=finished, status=EventStatus.ACTIVE).update(
            status=EventStatus.COMPLETED, updated_at=now
        )
    return count


def _notify(setting: str, *args: object) -> None:
    """After commit, send ``args`` to the task named by the setting ``setting`` (dispatch), by name, so markets
    does not import the layers above it. An empty setting sends nothing."""
    task_name = getattr(settings, setting, "")
    if not task_name:
        return
    from celery import current_app

    transaction.on_commit(lambda: current_app.send_task(task_name, args=list(args), queue="dispatch"))
