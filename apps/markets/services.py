"""Writes for markets: programs, the event life cycle, bids, awards and activations.

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

from .choices import REGULATION_PRODUCTS, ActivationStatus, BidStatus, EventStatus
from .models import Activation, Award, AwardInterval, Bid, BidInterval, Event, Program
from .rules import IntervalOffer, ProgramRules, bid_errors, event_request_errors, event_window_errors

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


def bid_save(
    *,
    event: Event,
    bidder_id: int,
    offers: Sequence[IntervalOffer],
    method: str = "",
    submit: bool = False,
    overridden_by: str = "",
) -> Bid:
    """Create or replace the bidder's bid for ``event`` (draft, or submitted when ``submit``).

    Idempotent per (event, bidder): a second call replaces the intervals of the same bid. A submitted bid can
    be replaced until gate closure.

    Raises:
        ConflictError: the gate has closed (a bid after gate closure), or the event is no longer open.
        ValidationError: the intervals break the program's rules (field paths ``intervals[i].…``).
    """
    now = clock.now()
    if event_gate_is_closed(event, now=now):
        raise ConflictError(
            f"the gate closed at {event.gate_closure_at.isoformat()}; bids are no longer accepted."
        )
    errors = bid_errors(rules_of(event.program), offers, event_start=event.start, event_end=event.end)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        bid, _ = Bid.objects.select_for_update().get_or_create(event=event, bidder_id=bidder_id)
        if bid.status not in (BidStatus.DRAFT, BidStatus.SUBMITTED):
            raise ConflictError(f"the bid is {bid.status} and can no longer change.")
        bid.intervals.all().delete()
        BidInterval.objects.bulk_create(
            BidInterval(
                bid=bid, start=o.start, end=o.end, quantity_kw=o.quantity_kw, price_per_mwh=o.price_per_mwh
            )
            for o in offers
        )
        bid.method = method or bid.method
        if overridden_by:
            bid.overridden_by = overridden_by
        if submit:
            bid.status = BidStatus.SUBMITTED
            bid.submitted_at = now
        bid.save()
    return bid


def bid_submit(*, bid: Bid) -> Bid:
    """Submit a draft bid (after staff review); 409 after gate closure or if it is not a draft."""
    if event_gate_is_closed(bid.event):
        raise ConflictError(
            f"the gate closed at {bid.event.gate_closure_at.isoformat()}; the bid cannot be submitted."
        )
    updated = Bid.objects.filter(pk=bid.pk, status=BidStatus.DRAFT).update(
        status=BidStatus.SUBMITTED, submitted_at=clock.now()
    )
    if updated != 1:
        raise ConflictError(f"the bid is {Bid.objects.get(pk=bid.pk).status}, not a draft.")
    bid.refresh_from_db()
    return bid


def award_post(
    *,
    principal: Principal,
    event: Event,
    bid: Bid,
    clearing_price_per_mwh: float,
    intervals: Sequence[tuple[datetime, float]],
) -> Award:
    """Award (part of) a submitted bid: ``intervals`` are ``(start, awarded_kw)`` of the bid's intervals.

    Raises:
        NotPermitted: not the event's operator.
        ConflictError: an award before gate closure, a bid that was not submitted or is already awarded, an
            award above the bid, or an interval the bid does not have.
    """
    _require_operator(principal, event.program)
    if bid.event_id != event.pk:
        raise ValidationError({"bid": "the bid belongs to another event."})
    if not event_gate_is_closed(event):
        raise ConflictError("an award before gate closure is not allowed; bids are still open.")
    if event.status == EventStatus.ANNOUNCED:
        events_close_due_gates()
        event.refresh_from_db()
    if event.status not in (EventStatus.GATE_CLOSED, EventStatus.AWARDED):
        raise ConflictError(f"cannot award an event that is {event.status}.")
    offered = {i.start: i.quantity_kw for i in bid.intervals.all()}
    with transaction.atomic():
        if Bid.objects.select_for_update().get(pk=bid.pk).status != BidStatus.SUBMITTED:
            raise ConflictError(f"the bid is {bid.status}; only a submitted bid can be awarded.")
        if Award.objects.filter(bid=bid).exists():
            raise ConflictError("this bid has already been awarded.")
        for i, (start, kw) in enumerate(intervals):
            if start not in offered:
                raise ConflictError(f"intervals[{i}]: the bid has no interval starting {start.isoformat()}.")
            if kw > offered[start] + EPS:
                raise ConflictError(
                    f"intervals[{i}]: an award above the bid ({kw:g} kW awarded, {offered[start]:g} kW offered)."
                )
        award = Award.objects.create(bid=bid, clearing_price_per_mwh=clearing_price_per_mwh)
        step = timedelta(minutes=event.program.settlement_interval_minutes)
        AwardInterval.objects.bulk_create(
            AwardInterval(award=award, start=start, end=start + step, awarded_kw=kw)
            for start, kw in intervals
        )
        full = all(abs(dict(intervals).get(s, 0.0) - q) <= EPS for s, q in offered.items())
        Bid.objects.filter(pk=bid.pk).update(
            status=BidStatus.ACCEPTED if full else BidStatus.PARTIALLY_ACCEPTED
        )
        Event.objects.filter(pk=event.pk, status=EventStatus.GATE_CLOSED).update(status=EventStatus.AWARDED)
        _notify("VPP_AWARD_TASK", event.pk)
    event.refresh_from_db()
    return award


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


def _notify(setting: str, *args: object) -> None:
    """After commit, send ``args`` to the task named by the setting ``setting`` (dispatch), by name, so markets
    does not import the layers above it. An empty setting sends nothing."""
    task_name = getattr(settings, setting, "")
    if not task_name:
        return
    from celery import current_app

    transaction.on_commit(lambda: current_app.send_task(task_name, args=list(args), queue="dispatch"))


def _notify_activation(activation: Activation) -> None:
    _notify("VPP_ACTIVATION_TASK", activation.pk)


#: The bidding cycle drafts a bid this long before gate closure; staff may review or override it until
#: :data:`BID_SUBMIT_LEAD` before gate closure, when it is submitted.
BID_DRAFT_LEAD = timedelta(minutes=60)
BID_SUBMIT_LEAD = timedelta(minutes=15)


def bid_prepare(*, event_id: int) -> Bid | None:
    """Draft the aggregator's bid for an announced event from the flexibility envelope (see
    :mod:`apps.markets.bidding`). Idempotent: an existing bid (draft, overridden or submitted) is left alone.

    Returns the bid, or ``None`` when the portfolio has nothing to offer or the gate has closed.
    """
    from apps.accounts.selectors import aggregator_organisation

    from .bidding import bid_plan

    event = Event.objects.select_related("program__zone").get(pk=event_id)
    bidder = aggregator_organisation()
    if bidder is None or event_gate_is_closed(event):
        return None
    existing = Bid.objects.filter(event=event, bidder=bidder).first()
    if existing is not None:
        return existing
    plan = bid_plan(event=event, belief_time=clock.now())
    if plan is None:
        return None
    return bid_save(event=event, bidder_id=bidder.pk, offers=plan.offers, method=plan.method)


def bids_submit_due() -> int:
    """Submit every draft bid whose gate closes within :data:`BID_SUBMIT_LEAD`; returns how many."""
    now = clock.now()
    due = Bid.objects.filter(
        status=BidStatus.DRAFT,
        event__status=EventStatus.ANNOUNCED,
        event__gate_closure_at__gt=now,
        event__gate_closure_at__lte=now + BID_SUBMIT_LEAD,
    )
    submitted = 0
    for bid in due.select_related("event"):
        try:
            bid_submit(bid=bid)
            submitted += 1
        except ConflictError:
            continue
    return submitted


def events_needing_bids() -> list[int]:
    """Announced events whose gate closes within :data:`BID_DRAFT_LEAD` and which have no bid yet."""
    now = clock.now()
    return list(
        Event.objects.filter(
            status=EventStatus.ANNOUNCED,
            gate_closure_at__gt=now,
            gate_closure_at__lte=now + BID_DRAFT_LEAD,
            bids__isnull=True,
        ).values_list("pk", flat=True)
    )
