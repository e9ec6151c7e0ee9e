"""Admin of the time-series store. Data points are read-only and only listed for one series at a time, so that
the admin never counts or loads a whole table of millions of rows."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from .models import DataPoint, QueuedWork, SiteState, SiteStateBattery, TimeSeries


@admin.register(TimeSeries)
class TimeSeriesAdmin(admin.ModelAdmin):
    list_display = ("id", "owner_key", "quantity", "name", "unit", "resolution", "source")
    list_filter = ("quantity", "resolution", "market_zone")
    search_fields = ("owner_key", "name", "source")
    readonly_fields = ("owner_key", "unit", "resolution_s", "created_at", "updated_at")
    raw_id_fields = ("site", "battery", "pv_array")

    def get_readonly_fields(self, request: HttpRequest, obj: TimeSeries | None = None) -> Any:
        """Owner, quantity and resolution are fixed once a series exists: its points depend on them."""
        fixed = ("site", "battery", "pv_array", "market_zone", "quantity", "resolution")
        return self.readonly_fields + (fixed if obj is not None else ())


class SeriesFilter(admin.SimpleListFilter):
    """Pick one series; without a choice the list is empty (never the whole table)."""

    title = "series"
    parameter_name = "series__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(s.pk), str(s)) for s in TimeSeries.objects.order_by("owner_key", "quantity", "name")[:200]
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(series_id=self.value())
        return queryset.none()


class EstimatedCountPaginator(Paginator):
    """Skips ``COUNT(*)`` over a huge series: reports at most 10 000 rows (pages beyond stay reachable by URL)."""

    @cached_property
    def count(self) -> int:
        return cast(QuerySet, self.object_list)[:10_000].count()


@admin.register(DataPoint)
class DataPointAdmin(admin.ModelAdmin):
    list_display = ("series", "start", "value")
    list_filter = (SeriesFilter,)
    list_select_related = ("series",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = ("series", "start", "value")
    date_hierarchy = None
    ordering = ("-start",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DataPoint | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: DataPoint | None = None) -> bool:
        return False


class SiteStateBatteryInline(admin.TabularInline):
    model = SiteStateBattery
    extra = 0
    raw_id_fields = ("battery",)


class QueuedWorkInline(admin.TabularInline):
    model = QueuedWork
    extra = 0
    raw_id_fields = ("workload_class",)


@admin.register(SiteState)
class SiteStateAdmin(admin.ModelAdmin):
    """Reported site states, read-only: a state is what the site said at the time (written by
    :func:`apps.telemetry.services.site_state_report`, which validates it)."""

    list_display = ("site", "reported_at", "received_at", "source", "it_load_kw")
    list_filter = ("source",)
    list_select_related = ("site",)
    raw_id_fields = ("site",)
    date_hierarchy = "reported_at"
    inlines = (SiteStateBatteryInline, QueuedWorkInline)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SiteState | None = None) -> bool:
        return False
