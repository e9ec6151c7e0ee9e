"""Filters of the settlement API."""

from __future__ import annotations

import django_filters

from apps.core.api.filters import StrictFilterSet
from apps.settlement.models import SettlementRun, SiteSettlement


class SettlementRunFilter(StrictFilterSet):
    program = django_filters.CharFilter(field_name="event__program__code")

    class Meta:
        model = SettlementRun
        fields = ["event", "status", "version", "program"]


class PerformanceFilter(StrictFilterSet):
    program = django_filters.CharFilter(field_name="event__program__code")

    class Meta:
        model = SettlementRun
        fields = ["event", "program"]


class SiteSettlementFilter(StrictFilterSet):
    event = django_filters.NumberFilter(field_name="run__event_id")
    program = django_filters.CharFilter(field_name="run__event__program__code")

    class Meta:
        model = SiteSettlement
        fields = ["event", "program", "site", "owner", "month"]
