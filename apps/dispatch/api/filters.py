"""FilterSets of the dispatch API. They narrow a queryset the view has already scoped to the caller
(:mod:`apps.dispatch.selectors`), so a filter can never widen what a caller sees. Related objects are filtered
by id, so an id outside the caller's scope narrows the list to nothing rather than telling whether it exists.
Bad values are a 400 naming the parameter."""

from __future__ import annotations

import django_filters

from apps.core.api.filters import StrictFilterSet
from apps.dispatch.models import Delivery, DispatchPlan


class DeliveryFilter(StrictFilterSet):
    """Deliveries by site id, plan id, status, channel and the plan's activation id."""

    site = django_filters.NumberFilter(field_name="site_id", label="site id")
    plan = django_filters.NumberFilter(field_name="plan_id", label="plan id")
    activation = django_filters.NumberFilter(field_name="plan__activation_id", label="activation id")

    class Meta:
        model = Delivery
        fields = ["site", "plan", "status", "channel", "activation"]


class PlanFilter(StrictFilterSet):
    """Plans by activation id, status, kind, and the time they take effect (``valid_from``, half-open window)."""

    activation = django_filters.NumberFilter(field_name="activation_id", label="activation id")
    valid_from_after = django_filters.IsoDateTimeFilter(
        field_name="valid_from", lookup_expr="gte", label="taking effect at or after (ISO 8601)"
    )
    valid_from_before = django_filters.IsoDateTimeFilter(
        field_name="valid_from", lookup_expr="lt", label="taking effect before (ISO 8601)"
    )

    class Meta:
        model = DispatchPlan
        fields = ["activation", "status", "kind", "valid_from_after", "valid_from_before"]
