"""Admin: owner contracts (the aggregator's fee) and programs' baseline terms are edited here; settlement runs are
read-only audit records."""

from django.contrib import admin

from .models import BaselineTerms, OwnerContract, RunInterval, SettlementRun, SiteSettlement


@admin.register(OwnerContract)
class OwnerContractAdmin(admin.ModelAdmin):
    list_display = ("owner", "fee_pct", "reference", "updated_at")
    search_fields = ("owner__name", "reference")


@admin.register(BaselineTerms)
class BaselineTermsAdmin(admin.ModelAdmin):
    list_display = (
        "program",
        "exclude_weekends",
        "exclude_holidays",
        "days",
        "high_x",
        "high_y",
        "adjustment",
    )
    list_select_related = ("program",)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RunIntervalInline(admin.TabularInline):
    model = RunInterval
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
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
