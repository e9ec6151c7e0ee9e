"""Writes for markets: bids (save, submit), awards, and the aggregator's bidding cycle (draft before gate
closure, submit at the submit lead)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.principal import Principal
from apps.core import clock
from apps.core.errors import ConflictError

from ..choices import BidStatus, EventStatus
from ..models import Award, AwardInterval, Bid, BidInterval, Event
from ..rules import IntervalOffer, bid_errors
from .events import EPS, _notify, _require_operator, event_gate_is_closed, events_close_due_gates, rules_of


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

    from ..bidding import bid_plan

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
