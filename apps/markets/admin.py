"""Admin for markets. Staff review and may override a draft bid's intervals before it is submitted."""

from django.contrib import admin, messages

from apps.accounts.audit import audit_record
from apps.accounts.models import AuditAction
from apps.core.errors import DomainError

from . import services
from .choices import BidStatus
from .models import Activation, Award, AwardInterval, Bid, BidInterval, Event, Program


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "operator",
        "zone",
        "product",
        "min_bid_kw",
        "gate_closure_lead_minutes",
        "is_active",
    )
    list_filter = ("product", "zone", "is_active")
    search_fields = ("name", "code")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("__str__", "program", "start", "end", "requested_kw", "gate_closure_at", "status")
    list_filter = ("status", "program__zone", "program__product")
    date_hierarchy = "start"


class BidIntervalInline(admin.TabularInline):
    model = BidInterval
    extra = 0


@admin.register(Bid)
class BidAdmin(admin.ModelAdmin):
    list_display = ("event", "bidder", "status", "submitted_at", "overridden_by")
    list_filter = ("status",)
    inlines = [BidIntervalInline]
    readonly_fields = ("status", "submitted_at", "overridden_by")
    actions = ["submit_bids"]

    def save_formset(self, request, form, formset, change):
        """A staff edit of a draft's intervals is an override: recorded with who made it."""
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            Bid.objects.filter(pk=form.instance.pk).update(overridden_by=request.user.get_username())
            intervals = BidInterval.objects.filter(bid=form.instance).order_by("start")
            audit_record(
                actor=request.user,
                action=AuditAction.BID_OVERRIDE,
                target=form.instance,
                details={
                    "event": form.instance.event_id,
                    "changed": len(formset.changed_objects),
                    "added": len(formset.new_objects),
                    "deleted": len(formset.deleted_objects),
                    "intervals": [
                        {
                            "start": i.start.isoformat(),
                            "end": i.end.isoformat(),
                            "quantity_kw": float(i.quantity_kw),
                            "price_per_mwh": float(i.price_per_mwh),
                        }
                        for i in intervals
                    ],
                },
            )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.status == BidStatus.DRAFT)

    @admin.action(description="Submit the selected draft bids")
    def submit_bids(self, request, queryset):
        for bid in queryset:
            try:
                services.bid_submit(bid=bid)
            except DomainError as exc:
                self.message_user(request, f"{bid}: {exc.reason}", messages.ERROR)


class AwardIntervalInline(admin.TabularInline):
    model = AwardInterval
    extra = 0


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    list_display = ("bid", "clearing_price_per_mwh", "created_at")
    inlines = [AwardIntervalInline]


@admin.register(Activation)
class ActivationAdmin(admin.ModelAdmin):
    list_display = ("activation_id", "event", "start", "end", "kw", "status")
    list_filter = ("status",)
