"""Admin of the VTN's objects: read-only views for support (writes go through the VTN API or the services, which
validate against the spec and keep the target index in step)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Event, Program, Report, Resource, Subscription, Ven


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
    list_display = ("id", "client_name", "client_id", "program", "modification_date_time")
    search_fields = ("client_name", "client_id")
