"""Reads for dispatch, scoped: staff see everything; a site owner sees deliveries to its own sites (a
site-bound client only its site); market operators see none."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
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


def setpoint_list(*, principal: Principal) -> QuerySet[Setpoint]:
    """Setpoints visible to ``principal``: all for the aggregator, those of its own sites for a site owner (a
    site-bound client only its site), none for anyone else."""
    qs = Setpoint.objects.select_related("plan")
    if principal.is_aggregator:
        return qs
    if principal.is_site_owner:
        return qs.filter(site__in=site_list(principal=principal))
    return qs.none()


def setpoint_frame(*, principal: Principal, site_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """The setpoints ``site_id`` was asked to follow over ``[start, end)``: per interval start, the one of the
    newest version of an activation plan if any covers it (activations take precedence over the day-ahead
    schedule while they last, :class:`~apps.dispatch.models.DispatchPlan`), else the day-ahead schedule's.
    Failed plans are left out; superseded versions only count where no newer version covers the interval.

    Returns:
        DataFrame indexed by interval start (UTC, sorted) with float columns ``baseline_kw``, ``target_kw``,
        ``battery_kw`` (kW; + = consumption / charging) and the string column ``kind`` (``schedule`` or
        ``activation``); empty (same columns) when the site had no setpoint, or is outside the caller's scope.
    """
    from .choices import PlanKind, PlanStatus

    rows = list(
        setpoint_list(principal=principal)
        .filter(site_id=site_id, start__gte=start, start__lt=end)
        .exclude(plan__status=PlanStatus.FAILED)
        .values_list("start", "baseline_kw", "target_kw", "battery_kw", "plan__kind", "plan__version")
    )
    columns = ["baseline_kw", "target_kw", "battery_kw", "kind"]
    if not rows:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], tz="UTC", name="start"))
    frame = pd.DataFrame.from_records(rows, columns=["start", *columns, "version"])
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["rank"] = (frame["kind"] == PlanKind.ACTIVATION).astype(int)
    frame = frame.sort_values(["start", "rank", "version"]).drop_duplicates("start", keep="last")
    return frame.set_index("start")[columns]
