"""Filters of the settlement API."""

from __future__ import annotations

import django_filters

from apps.settlement.models import SettlementRun, SiteSettlement


class SettlementRunFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="event__program__code")

    class Meta:
        model = SettlementRun
        fields = ["event", "status", "version", "program"]


class PerformanceFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="event__program__code")

    class Meta:
        model = SettlementRun
        fields = ["event", "program"]


class SiteSettlementFilter(django_filters.FilterSet):
    event = django_filters.NumberFilter(field_name="run__event_id")
    program = django_filters.CharFilter(field_name="run__event__program__code")

    class Meta:
        model = SiteSettlement
        fields = ["event", "program", "site", "owner", "month"]
