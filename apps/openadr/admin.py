"""Admin of the VTN's objects: read-only views for support (writes go through the VTN API or the services, which
validate against the spec and keep the target index in step)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Event,
    Notification,
    NotificationDelivery,
    Program,
    Report,
    Resource,
    Subscription,
    Ven,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ("id", "program_name", "targets", "modification_date_time")
    search_fields = ("program_name",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "event_name",
        "program",
        "targets",
        "ends_at",
        "publish_key",
        "modification_date_time",
    )
    list_filter = ("program",)
    search_fields = ("event_name", "publish_key")


@admin.register(Ven)
class VenAdmin(ReadOnlyAdmin):
    list_display = ("id", "ven_name", "client_id", "site", "targets")
    search_fields = ("ven_name", "client_id")
    raw_id_fields = ("site",)


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdmin):
    list_display = ("id", "resource_name", "ven", "targets")
    search_fields = ("resource_name",)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "report_name", "client_name", "event_ref", "telemetry_points", "created_date_time")
    search_fields = ("client_name", "client_id", "event_ref")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "client_name", "client_id", "client_role", "program", "modification_date_time")
    search_fields = ("client_name", "client_id")


class DeliveryInline(admin.TabularInline):
    model = NotificationDelivery
    fields = (
        "subscription_ref",
        "client_id",
        "callback_url",
        "status",
        "attempts",
        "last_status_code",
        "sent_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Changes told to subscribers (webhooks) and the MQTT broker, with their deliveries."""

    list_display = ("id", "operation", "object_type", "object_ref", "created_at", "fanned_out_at")
    list_filter = ("object_type", "operation")
    search_fields = ("object_ref",)
    inlines = [DeliveryInline]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: one notification to one callback, its attempts and last answer. The subscription's
    bearer token is not shown."""

    list_display = (
        "id",
        "notification",
        "client_id",
        "callback_url",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "sent_at",
    )
    list_filter = ("status",)
    search_fields = ("client_id", "callback_url", "subscription_ref")
    exclude = ("bearer_token",)
    raw_id_fields = ("notification",)
