"""Reads for markets, scoped to the caller.

A market operator sees only its own programs, their events and activations, and the bids made to them —
bids only once the gate has closed (sealed until then). The aggregator sees every program and event and
its own bids. Site owners see programs and events (public market information) but no bids.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.core import clock

from .choices import EventStatus
from .models import Activation, Award, AwardInterval, Bid, BidInterval, Event, Program


def program_list(*, principal: Principal) -> QuerySet[Program]:
    qs = Program.objects.select_related("zone", "operator")
    if principal.is_market_operator:
        return qs.filter(operator=principal.organisation)
    if principal.organisation is None:
        return qs.none()
    return qs


def event_list(*, principal: Principal) -> QuerySet[Event]:
    return Event.objects.filter(program__in=program_list(principal=principal)).select_related("program__zone")


def bid_list(*, principal: Principal) -> QuerySet[Bid]:
    qs = Bid.objects.select_related("event__program", "bidder").prefetch_related("intervals")
    if principal.is_market_operator:
        sealed = Q(event__status=EventStatus.ANNOUNCED) & Q(event__gate_closure_at__gt=clock.now())
        return qs.filter(event__program__operator=principal.organisation).exclude(sealed)
    if principal.is_aggregator:
        return qs.filter(bidder=principal.organisation)
    return qs.none()


def award_list(*, principal: Principal) -> QuerySet[Award]:
    """Awards visible to ``principal`` with their intervals: the aggregator's own, a market operator's programs'
    (awards are posted after gate closure, so nothing sealed shows), none for anyone else."""
    qs = Award.objects.select_related("bid__event").prefetch_related("intervals")
    if principal.is_market_operator:
        return qs.filter(bid__event__program__operator=principal.organisation)
    if principal.is_aggregator:
        return qs.filter(bid__bidder=principal.organisation)
    return qs.none()


def activation_list(*, principal: Principal) -> QuerySet[Activation]:
    return Activation.objects.filter(event__in=event_list(principal=principal)).select_related("event")


def events_gate_closing_between(*, start, end) -> QuerySet[Event]:
    """Announced events whose gate closes in ``[start, end)`` (the bidding cycle's work list)."""
    return Event.objects.filter(
        status=EventStatus.ANNOUNCED, gate_closure_at__gte=start, gate_closure_at__lt=end
    )


# System-job reads for dispatch (no caller scoping)


def activation_get_for_dispatch(*, activation_id: int) -> Activation:
    """One activation with its event, program and zone (what planning reads), for the dispatch worker.

    Raises:
        Activation.DoesNotExist: unknown id.
    """
    return Activation.objects.select_related("event__program__zone").get(pk=activation_id)


def event_get_for_dispatch(*, event_id: int) -> Event:
    """One event with its program and zone, for preparing its plan at award.

    Raises:
        Event.DoesNotExist: unknown id.
    """
    return Event.objects.select_related("program__zone").get(pk=event_id)


def event_awarded_max_kw(*, event_id: int) -> float:
    """The largest awarded kW over every award interval of the event's bids; 0.0 when nothing was awarded."""
    from .models import AwardInterval

    awarded = AwardInterval.objects.filter(award__bid__event_id=event_id).values_list("awarded_kw", flat=True)
    return float(max(awarded, default=0.0))


def activation_list_started_with_plans(*, now: datetime) -> QuerySet[Activation]:
    """Activations started before ``now`` that dispatch has planned (at least one dispatch plan), with their
    event and program: the closed loop's work list."""
    return (
        Activation.objects.filter(start__lt=now, dispatch_plans__isnull=False)
        .distinct()
        .select_related("event__program")
    )


# System-job reads (no caller scoping)


def event_list_committed_between(
    *, start: datetime, end: datetime, include_completed: bool = False
) -> list[Event]:
    """Awarded or active events overlapping ``[start, end)`` (what the portfolio has promised), with their
    program, zone and activations (ordered by start); ``include_completed`` adds the completed ones (what it
    promised over a past period)."""
    statuses = [EventStatus.AWARDED, EventStatus.ACTIVE] + (
        [EventStatus.COMPLETED] if include_completed else []
    )
    return list(
        Event.objects.filter(status__in=statuses, start__lt=end, end__gt=start)
        .select_related("program__zone")
        .prefetch_related("activations")
        .order_by("start", "pk")
    )


def event_get_locked(*, event_id: int) -> Event:
    """The event ``event_id`` with its program and zone, locked (``SELECT … FOR UPDATE``) until the caller's
    transaction ends; for a job that must not run twice at once on the same event (settlement).

    Raises:
        Event.DoesNotExist: unknown event.
    """
    return Event.objects.select_for_update().select_related("program__zone").get(pk=event_id)


def event_list_awarded_ended_between(*, bidder: Organisation, start: datetime, end: datetime) -> list[Event]:
    """Events that ended in ``[start, end]`` (both inclusive), not cancelled, with an award to ``bidder``, each
    once, with program and zone loaded (the settlement beat's candidates)."""
    return list(
        Event.objects.filter(end__lte=end, end__gte=start, bids__bidder=bidder, bids__award__isnull=False)
        .exclude(status=EventStatus.CANCELLED)
        .select_related("program__zone")
        .distinct()
    )


def award_get_for_bidder(*, event_id: int, bidder: Organisation) -> Award | None:
    """``bidder``'s award on the event (its bid loaded), or ``None``."""
    return Award.objects.filter(bid__event_id=event_id, bid__bidder=bidder).select_related("bid").first()


def award_interval_kw(*, award_id: int) -> dict[datetime, float]:
    """Awarded kW of each interval of the award, by interval start."""
    return dict(AwardInterval.objects.filter(award_id=award_id).values_list("start", "awarded_kw"))


def bid_interval_prices_per_mwh(*, bid_id: int) -> dict[datetime, float]:
    """Offered price per MWh of each interval of the bid, by interval start."""
    return dict(BidInterval.objects.filter(bid_id=bid_id).values_list("start", "price_per_mwh"))


def activation_list_for_event(*, event_id: int) -> list[Activation]:
    """The event's activations, by start (then id)."""
    return list(Activation.objects.filter(event_id=event_id).order_by("start", "pk"))


def activation_first_with_signal(*, event_id: int) -> Activation | None:
    """The event's first activation (by start, then id) that carries a regulation signal, or ``None``."""
    return Activation.objects.filter(event_id=event_id, signal__isnull=False).order_by("start", "pk").first()


def activation_windows_of_site_before(
    *, site_id: int, before: datetime
) -> list[tuple[datetime, datetime | None]]:
    """``(start, end)`` of each activation that started before ``before`` and dispatched ``site_id`` (the site has
    a setpoint in one of its plans); ``end`` is ``None`` for an open activation."""
    return list(
        Activation.objects.filter(dispatch_plans__setpoints__site_id=site_id, start__lt=before)
        .distinct()
        .values_list("start", "end")
    )


def event_exists(*, event_id: int) -> bool:
    """Whether an event with id ``event_id`` exists (any program, any status)."""
    return Event.objects.filter(pk=event_id).exists()


def program_list_active_of_operator(*, operator_slug: str, zone_id: str) -> QuerySet[Program]:
    """The active programs that operator ``operator_slug`` runs in market zone ``zone_id`` (system reads, e.g. the
    market simulator choosing the program it announces events in)."""
    return Program.objects.filter(operator__slug=operator_slug, zone_id=zone_id, is_active=True)
