from django.contrib import admin

from .models import Delivery, DeliveryCheck, DispatchPlan, Setpoint, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("site", "url", "is_active")
    exclude = ("secret",)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = (
        "site",
        "channel",
        "status",
        "attempts",
        "last_error",
        "delivered_at",
        "acknowledged_at",
    )
    exclude = ("idempotency_key",)


@admin.register(DispatchPlan)
class DispatchPlanAdmin(admin.ModelAdmin):
    list_display = (
        "activation",
        "version",
        "status",
        "requested_kw",
        "planned_kw",
        "solve_seconds",
        "created_at",
    )
    list_filter = ("status",)
    inlines = [DeliveryInline]


@admin.register(Setpoint)
class SetpointAdmin(admin.ModelAdmin):
    list_display = ("plan", "site", "start", "baseline_kw", "target_kw", "import_cap_kw", "battery_kw")
    list_select_related = ("plan", "site")
    show_full_result_count = False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("plan", "site", "channel", "status", "attempts", "delivered_at", "acknowledged_at")
    list_filter = ("status", "channel")


@admin.register(DeliveryCheck)
class DeliveryCheckAdmin(admin.ModelAdmin):
    list_display = ("activation", "interval_start", "planned_kw", "metered_kw", "shortfall_kw", "action")
