"""FilterSets of the asset registry."""

import django_filters

from apps.assets.models import Battery, PVArray, Site, WorkloadClass


class SiteFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    owner = django_filters.CharFilter(field_name="owner__slug")

    class Meta:
        model = Site
        fields = ["name", "owner", "market_zone", "enrolment_status"]


class WorkloadClassFilter(django_filters.FilterSet):
    class Meta:
        model = WorkloadClass
        fields = ["site", "kind", "interruptible"]


class BatteryFilter(django_filters.FilterSet):
    class Meta:
        model = Battery
        fields = ["site"]


class PVArrayFilter(django_filters.FilterSet):
    class Meta:
        model = PVArray
        fields = ["site"]
