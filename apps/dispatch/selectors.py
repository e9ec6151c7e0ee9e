"""Reads for dispatch, scoped: staff see everything; a site owner sees deliveries to its own sites (a
site-bound client only its site); market operators see none."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.accounts.principal import Principal
from apps.assets.selectors import site_list

from .models import Delivery, DeliveryCheck, DispatchPlan, Setpoint, WebhookEndpoint


def delivery_list(*, principal: Principal) -> QuerySet[Delivery]:
    qs = Delivery.objects.select_related("plan__activation__event", "site")
    if principal.is_aggregator:
        return qs
    if principal.is_site_owner:
        return qs.filter(site__in=site_list(principal=principal))
    return qs.none()


def plan_list(*, principal: Principal) -> QuerySet[DispatchPlan]:
    qs = DispatchPlan.objects.select_related("activation__event__program")
    return qs if principal.is_aggregator else qs.none()


def webhook_list(*, principal: Principal) -> QuerySet[WebhookEndpoint]:
    if principal.is_aggregator:
        return WebhookEndpoint.objects.select_related("site")
    if principal.is_site_owner:
        return WebhookEndpoint.objects.filter(site__in=site_list(principal=principal)).select_related("site")
    return WebhookEndpoint.objects.none()


def check_list(*, activation_id: int) -> QuerySet[DeliveryCheck]:
    return DeliveryCheck.objects.filter(activation_id=activation_id).order_by("interval_start")


def setpoint_at(*, site_id: int, moment: datetime) -> Setpoint | None:
    """The setpoint of ``site_id`` covering ``moment`` in the newest active plan, or ``None``."""
    from .choices import PlanStatus

    return (
        Setpoint.objects.filter(
            site_id=site_id, start__lte=moment, end__gt=moment, plan__status=PlanStatus.ACTIVE
        )
        .select_related("plan")
        .order_by("-plan__version", "-plan__created_at")
        .first()
    )


def deliveries_pending_for(*, site_id: int) -> QuerySet[Delivery]:
    """Deliveries to a site not yet acknowledged (delivered or still pending)."""
    from .choices import DeliveryStatus

    return Delivery.objects.filter(
        site_id=site_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.DELIVERED]
    )
