"""FilterSet of the time-series list: by owner key, site (the site's own and its assets' series), zone,
battery, PV array, quantity and name."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from apps.core.api.filters import StrictFilterSet
from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries


class TimeSeriesFilter(StrictFilterSet):
    owner = django_filters.CharFilter(
        field_name="owner_key", help_text='owner key, e.g. "site:12" or "zone:PJM_DOM"'
    )
    site = django_filters.NumberFilter(method="filter_site", help_text="series of the site and of its assets")
    zone = django_filters.CharFilter(
        field_name="market_zone_id", help_text="market zone code, e.g. CAISO_NP15"
    )
    battery = django_filters.NumberFilter(field_name="battery_id")
    pv_array = django_filters.NumberFilter(field_name="pv_array_id")
    quantity = django_filters.MultipleChoiceFilter(choices=Quantity.choices)
    name = django_filters.CharFilter(field_name="name")

    class Meta:
        model = TimeSeries
        fields = ["owner", "site", "zone", "battery", "pv_array", "quantity", "name"]

    def filter_site(self, queryset: QuerySet[TimeSeries], name: str, value: int) -> QuerySet[TimeSeries]:
        return queryset.filter(Q(site_id=value) | Q(battery__site_id=value) | Q(pv_array__site_id=value))
