"""Admin: owner contracts (the aggregator's fee) are edited here; settlement runs are read-only audit records."""

from django.contrib import admin

from .models import OwnerContract, RunInterval, SettlementRun, SiteSettlement


@admin.register(OwnerContract)
class OwnerContractAdmin(admin.ModelAdmin):
    list_display = ("owner", "fee_pct", "reference", "updated_at")
    search_fields = ("owner__name", "reference")


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class RunIntervalInline(admin.TabularInline):
    model = RunInterval
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(SettlementRun)
class SettlementRunAdmin(_ReadOnly):
    list_display = (
        "event",
        "version",
        "status",
        "currency",
        "performance_factor",
        "net_revenue",
        "aggregator_fees",
        "settled_at",
    )
    list_filter = ("status", "baseline_method")
    list_select_related = ("event__program",)
    inlines = [RunIntervalInline]


@admin.register(SiteSettlement)
class SiteSettlementAdmin(_ReadOnly):
    list_display = ("run", "site", "owner", "month", "delivered_kwh", "revenue_share", "fee", "owner_payout")
    list_filter = ("month", "run__status")
    list_select_related = ("run__event__program", "site", "owner")
