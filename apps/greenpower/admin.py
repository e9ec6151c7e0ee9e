from django.contrib import admin

from apps.forecasts.models import ComputePowerModel

from .models import GreenContract, WorkUnitDefinition


@admin.register(GreenContract)
class GreenContractAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "kind", "zone", "price_per_mwh", "currency", "term_start", "term_end")
    list_filter = ("kind", "zone")


@admin.register(WorkUnitDefinition)
class WorkUnitDefinitionAdmin(admin.ModelAdmin):
    list_display = ("site", "name", "full_rate_per_hour")


@admin.register(ComputePowerModel)
class ComputePowerModelAdmin(admin.ModelAdmin):
    list_display = ("site", "rated_it_kw", "mae", "mape_pct", "r2", "fitted_at", "updated_at")
    readonly_fields = ("knots_utilization", "power_at_knots")
