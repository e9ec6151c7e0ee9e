"""FilterSets of the markets API. They narrow a queryset the view has already scoped to the caller
(:mod:`apps.markets.selectors`), so a filter can never widen what a caller sees.

Related objects are filtered by id (a number), not by a lookup of the object, so an id outside the caller's
scope narrows the list to nothing rather than telling whether it exists. Time windows are half-open like every interval here: ``window_start``/``window_end`` keep the rows whose
``[start, end)`` overlaps ``[window_start, window_end)``. Bad values are a 400 naming the parameter.
"""

from __future__ import annotations

from datetime import datetime

import django_filters
from django.db.models import Q, QuerySet

from apps.core.api.filters import StrictFilterSet
from apps.markets.choices import Product
from apps.markets.models import Activation, Bid, Event, Program


class ProgramFilter(StrictFilterSet):
    """Programs by zone code, product and whether they are active."""

    class Meta:
        model = Program
        fields = ["zone", "product", "is_active"]


class EventFilter(StrictFilterSet):
    """Events by status, program id, zone code, product and time window."""

    program = django_filters.NumberFilter(field_name="program_id", label="program id")
    zone = django_filters.CharFilter(field_name="program__zone_id", label="market zone code")
    product = django_filters.ChoiceFilter(field_name="program__product", choices=Product.choices)
    window_start = django_filters.IsoDateTimeFilter(
        field_name="end", lookup_expr="gt", label="events ending after (ISO 8601)"
    )
    window_end = django_filters.IsoDateTimeFilter(
        field_name="start", lookup_expr="lt", label="events starting before (ISO 8601)"
    )

    class Meta:
        model = Event
        fields = ["program", "status", "zone", "product", "window_start", "window_end"]


class BidFilter(StrictFilterSet):
    """Bids by event id, status and the event's program id."""

    event = django_filters.NumberFilter(field_name="event_id", label="event id")
    program = django_filters.NumberFilter(field_name="event__program_id", label="program id")

    class Meta:
        model = Bid
        fields = ["event", "status", "program"]


class ActivationFilter(StrictFilterSet):
    """Activations by event id, status, the event's program id and time window (an open activation, no end yet,
    counts as running on)."""

    event = django_filters.NumberFilter(field_name="event_id", label="event id")
    program = django_filters.NumberFilter(field_name="event__program_id", label="program id")
    window_start = django_filters.IsoDateTimeFilter(method="_ends_after", label="activations ending after")
    window_end = django_filters.IsoDateTimeFilter(
        field_name="start", lookup_expr="lt", label="activations starting before (ISO 8601)"
    )

    class Meta:
        model = Activation
        fields = ["event", "status", "program", "window_start", "window_end"]

    def _ends_after(self, queryset: QuerySet[Activation], name: str, value: datetime) -> QuerySet[Activation]:
        return queryset.filter(Q(end__gt=value) | Q(end__isnull=True))
