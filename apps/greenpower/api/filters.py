"""FilterSets of the green-power list endpoints: contracts by site, zone, kind and term; work units by site and
by the window in which they reported work done. They only narrow the caller's scoped queryset."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from apps.core.api.filters import StrictFilterSet
from apps.greenpower.choices import ContractKind
from apps.greenpower.models import GreenContract, WorkUnitDefinition


class GreenContractFilter(StrictFilterSet):
    """``site``: contracts that list the site; ``zone``: market-zone code; ``kind``; ``active_on``: the term
    includes that UTC date; ``term_from``/``term_to``: the term overlaps ``[term_from, term_to]`` (dates)."""

    site = django_filters.NumberFilter(
        field_name="sites", distinct=True, help_text="contracts listing this site"
    )
    zone = django_filters.CharFilter(field_name="zone_id", help_text="market zone code, e.g. CAISO_NP15")
    kind = django_filters.ChoiceFilter(choices=ContractKind.choices)
    active_on = django_filters.DateFilter(method="filter_active_on", help_text="term includes this date")
    term_from = django_filters.DateFilter(
        field_name="term_end", lookup_expr="gte", help_text="term ends on/after"
    )
    term_to = django_filters.DateFilter(
        field_name="term_start", lookup_expr="lte", help_text="term starts on/before"
    )

    class Meta:
        model = GreenContract
        fields = ["site", "zone", "kind", "active_on", "term_from", "term_to"]

    def filter_active_on(
        self, queryset: QuerySet[GreenContract], name: str, value: Any
    ) -> QuerySet[GreenContract]:
        return queryset.filter(term_start__lte=value, term_end__gte=value)


class WorkUnitFilter(StrictFilterSet):
    """``site``: the site's work unit; ``window_start``/``window_end`` (ISO 8601, half-open ``[start, end)``): work
    units that reported work done in that window (either bound may be left out)."""

    site = django_filters.NumberFilter(field_name="site_id")
    window_start = django_filters.IsoDateTimeFilter(method="filter_window", help_text="work done at or after")
    window_end = django_filters.IsoDateTimeFilter(method="filter_window", help_text="work done before")

    class Meta:
        model = WorkUnitDefinition
        fields = ["site", "window_start", "window_end"]

    def filter_window(
        self, queryset: QuerySet[WorkUnitDefinition], name: str, value: Any
    ) -> QuerySet[WorkUnitDefinition]:
        """Both bounds in one ``filter()`` call, so one work-done row must lie inside the whole window."""
        if name == "window_end" and self.form.cleaned_data.get("window_start") is not None:
            return queryset  # already applied with window_start
        bounds: dict[str, Any] = {}
        start = self.form.cleaned_data.get("window_start")
        end = self.form.cleaned_data.get("window_end")
        if start is not None:
            bounds["work_done__start__gte"] = start
        if end is not None:
            bounds["work_done__start__lt"] = end
        return queryset.filter(**bounds).distinct()
