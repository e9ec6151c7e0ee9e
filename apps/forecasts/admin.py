from django.contrib import admin

from .models import ForecastRun, ForecastValue, ModelSelection, TrainedModel


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


@admin.register(ModelSelection)
class ModelSelectionAdmin(admin.ModelAdmin):
    """Model selections with their progress (one step per candidate) while the Celery task runs."""

    list_display = (
        "series",
        "selected_at",
        "status",
        "progress_pct",
        "stage",
        "winner",
        "switched",
        "train_days",
    )
    list_filter = ("status", "switched", "winner")
    readonly_fields = ("progress_pct", "stage", "scores", "reason", "error")
    date_hierarchy = "selected_at"
