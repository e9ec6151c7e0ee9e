from django.contrib import admin

from .models import ForecastRun, ForecastValue, TrainedModel


@admin.register(ForecastRun)
class ForecastRunAdmin(admin.ModelAdmin):
    list_display = ("series", "kind", "model_name", "model_version", "issued_at", "horizon_start", "status")
    list_filter = ("status", "kind", "model_name")
    date_hierarchy = "issued_at"


@admin.register(ForecastValue)
class ForecastValueAdmin(admin.ModelAdmin):
    list_display = ("run", "start", "p10", "p50", "p90")
    list_select_related = ("run__series",)
    show_full_result_count = False


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("series", "model_name", "model_version", "trained_at", "training_start", "training_end")
    exclude = ("artifact",)
