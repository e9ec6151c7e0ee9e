"""Writes for markets: activations (post, end); posting one notifies dispatch after commit."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.principal import Principal
from apps.core import clock
from apps.core.errors import ConflictError

from ..choices import REGULATION_PRODUCTS, ActivationStatus, EventStatus
from ..models import Activation, Event
from .events import _notify, _require_operator


def activation_post(
    *,
    principal: Principal,
    event: Event,
    activation_id: str,
    start: datetime,
    end: datetime | None = None,
    kw: float | None = None,
    signal: list[float] | None = None,
    signal_resolution_seconds: int | None = None,
) -> Activation:
    """Activate an awarded event. The operator's ``activation_id`` is an idempotency key: the same id twice is
    one activation (the second request gets 409 naming the existing one).

    Raises:
        ConflictError: the event is not awarded (or already completed/cancelled), or a duplicate activation id.
        ValidationError: neither ``kw`` nor a regulation ``signal``; a window outside the event.
    """
    _require_operator(principal, event.program)
    existing = Activation.objects.filter(operator=principal.organisation, activation_id=activation_id).first()
    if existing is not None:
        raise ConflictError(f"duplicate activation id '{activation_id}': it is activation {existing.pk}.")
    event.refresh_from_db()  # decide on the stored status, not on a caller's possibly stale copy
    if event.status not in (EventStatus.AWARDED, EventStatus.ACTIVE):
        raise ConflictError(
            f"cannot activate an event that is {event.status}; only awarded events can be activated."
        )
    is_regulation = event.program.product in REGULATION_PRODUCTS
    if is_regulation and not signal:
        raise ValidationError({"signal": "a regulation activation needs a setpoint signal."})
    if not is_regulation and kw is None:
        raise ValidationError({"kw": "an activation needs the called kW."})
    if signal and any(not -1.0 <= s <= 1.0 for s in signal):
        raise ValidationError({"signal": "signal values are fractions in [-1, 1]."})
    if not event.start <= start < event.end:
        raise ValidationError({"start": "the activation must start inside the event window."})
    if end is not None and not start < end <= event.end:
        raise ValidationError({"end": "the activation must end after it starts and within the event window."})
    with transaction.atomic():
        activation = Activation.objects.create(
            event=event,
            operator=principal.org,
            activation_id=activation_id,
            start=start,
            end=end,
            kw=kw,
            signal=signal,
            signal_resolution_seconds=signal_resolution_seconds,
        )
        Event.objects.filter(pk=event.pk, status=EventStatus.AWARDED).update(status=EventStatus.ACTIVE)
        _notify_activation(activation)
    return activation


def activation_end(
    *, principal: Principal, activation: Activation, end: datetime | None = None
) -> Activation:
    """End an active activation at ``end`` (default: now, clipped to the event window)."""
    _require_operator(principal, activation.event.program)
    end = min(end or clock.now(), activation.event.end)
    if end <= activation.start:
        raise ValidationError({"end": "the activation must end after it starts."})
    updated = Activation.objects.filter(pk=activation.pk, status=ActivationStatus.ACTIVE).update(
        status=ActivationStatus.ENDED, end=end
    )
    if updated != 1:
        raise ConflictError("the activation has already ended.")
    activation.refresh_from_db()
    return activation


def _notify_activation(activation: Activation) -> None:
    _notify("VPP_ACTIVATION_TASK", activation.pk)
