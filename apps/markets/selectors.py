"""Reads for markets, scoped to the caller.

A market operator sees only its own programs, their events and activations, and the bids made to them —
bids only once the gate has closed (sealed until then). The aggregator sees every program and event and
its own bids. Site owners see programs and events (public market information) but no bids.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from apps.accounts.principal import Principal
from apps.core import clock

from .choices import EventStatus
from .models import Activation, Award, Bid, Event, Program


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
