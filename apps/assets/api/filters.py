"""FilterSets of the asset registry."""

import django_filters

from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from apps.core.api.filters import StrictFilterSet


class SiteFilter(StrictFilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    owner = django_filters.CharFilter(field_name="owner__slug")

    class Meta:
        model = Site
        fields = ["name", "owner", "market_zone", "enrolment_status"]


class WorkloadClassFilter(StrictFilterSet):
    class Meta:
        model = WorkloadClass
        fields = ["site", "kind", "interruptible"]


class BatteryFilter(StrictFilterSet):
    class Meta:
        model = Battery
        fields = ["site"]


class PVArrayFilter(StrictFilterSet):
    class Meta:
        model = PVArray
        fields = ["site"]
