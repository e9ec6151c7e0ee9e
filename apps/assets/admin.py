from django.contrib import admin

from .models import Battery, EnrolmentTransition, PVArray, Site, SiteCredential, WorkloadClass


class WorkloadClassInline(admin.TabularInline):
    model = WorkloadClass
    extra = 0
    filter_horizontal = ("migratable_to",)
    fk_name = "site"


class BatteryInline(admin.TabularInline):
    model = Battery
    extra = 0


class PVArrayInline(admin.TabularInline):
    model = PVArray
    extra = 0


class EnrolmentTransitionInline(admin.TabularInline):
    model = EnrolmentTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "user", "reason", "at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "market_zone", "it_capacity_kw", "pue", "enrolment_status")
    list_filter = ("enrolment_status", "market_zone", "owner")
    search_fields = ("name", "owner__name")
    readonly_fields = ("enrolment_status", "status_reason", "created_at", "updated_at")
    inlines = [WorkloadClassInline, BatteryInline, PVArrayInline, EnrolmentTransitionInline]


@admin.register(WorkloadClass)
class WorkloadClassAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "kind", "share_pct", "max_delay_h", "interruptible")
    list_filter = ("kind", "interruptible")
    filter_horizontal = ("migratable_to",)


@admin.register(Battery)
class BatteryAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "energy_capacity_kwh", "max_discharge_kw", "backup_reserve_kwh")


@admin.register(PVArray)
class PVArrayAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "dc_capacity_kwp", "ac_limit_kw", "tilt_deg", "azimuth_deg")


@admin.register(EnrolmentTransition)
class EnrolmentTransitionAdmin(admin.ModelAdmin):
    list_display = ("site", "from_status", "to_status", "actor", "at")
    list_filter = ("to_status",)
    readonly_fields = ("site", "from_status", "to_status", "actor", "user", "reason", "at")


@admin.register(SiteCredential)
class SiteCredentialAdmin(admin.ModelAdmin):
    list_display = ("api_client", "site")
