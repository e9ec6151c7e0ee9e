"""Reads for dispatch, scoped: staff see everything; a site owner sees deliveries to its own sites (a
site-bound client only its site); market operators see none."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
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
    from django.db import connection

    from .choices import PlanKind, PlanStatus

    columns = ["baseline_kw", "target_kw", "battery_kw", "kind"]
    if connection.vendor == "postgresql":
        return _setpoint_frame_packed(principal, site_id, start, end, columns)
    rows = list(
        setpoint_list(principal=principal)
        .filter(site_id=site_id, start__gte=start, start__lt=end)
        .exclude(plan__status=PlanStatus.FAILED)
        .values_list("start", "baseline_kw", "target_kw", "battery_kw", "plan__kind", "plan__version")
    )
    if not rows:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], tz="UTC", name="start"))
    frame = pd.DataFrame.from_records(rows, columns=["start", *columns, "version"])
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["rank"] = (frame["kind"] == PlanKind.ACTIVATION).astype(int)
    frame = frame.sort_values(["start", "rank", "version"]).drop_duplicates("start", keep="last")
    return frame.set_index("start")[columns]


#: One setpoint packed by :func:`_setpoint_frame_packed`: start (timestamptz µs since 2000-01-01 UTC), rank
#: (1 = activation plan, 0 = schedule), plan version, baseline, target and battery kW; big-endian.
_PACKED_SETPOINT = np.dtype(
    [
        ("start", ">i8"),
        ("rank", ">i4"),
        ("version", ">i4"),
        ("baseline_kw", ">f8"),
        ("target_kw", ">f8"),
        ("battery_kw", ">f8"),
    ]
)
_PG_EPOCH_OFFSET_US = 946_684_800 * 1_000_000


def _setpoint_frame_packed(
    principal: Principal, site_id: int, start: datetime, end: datetime, columns: list[str]
) -> pd.DataFrame:
    """:func:`setpoint_frame` on PostgreSQL: the scoped queryset's rows packed by the server into one binary
    value and decoded by numpy (a year of 15-minute setpoints without a Python object per row)."""
    from django.db import connection
    from django.db.models import BinaryField, Case, F, Func, IntegerField, Value, When

    from .choices import PlanKind, PlanStatus

    def send(expression: Any, function: str) -> Func:
        return Func(expression, function=function, output_field=BinaryField())

    rank = Case(
        When(plan__kind=PlanKind.ACTIVATION, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    rows = (
        setpoint_list(principal=principal)
        .filter(site_id=site_id, start__gte=start, start__lt=end)
        .exclude(plan__status=PlanStatus.FAILED)
        .annotate(
            packed=Func(
                send(F("start"), "timestamptz_send"),
                send(rank, "int4send"),
                send(F("plan__version"), "int4send"),
                send(F("baseline_kw"), "float8send"),
                send(F("target_kw"), "float8send"),
                send(F("battery_kw"), "float8send"),
                template="%(expressions)s",
                arg_joiner=" || ",
                output_field=BinaryField(),
            )
        )
        .values_list("packed", flat=True)
        .order_by("start", "id")
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT string_agg(packed, ''::bytea) FROM ({sql}) AS rows", params)
        payload = cursor.fetchone()[0]
    if not payload:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], tz="UTC", name="start"))
    packed = np.frombuffer(bytes(payload), dtype=_PACKED_SETPOINT)
    frame = pd.DataFrame(
        {
            "start": packed["start"].astype(np.int64) + _PG_EPOCH_OFFSET_US,
            "rank": packed["rank"].astype(np.int64),
            "version": packed["version"].astype(np.int64),
            **{name: packed[name].astype(np.float64) for name in ("baseline_kw", "target_kw", "battery_kw")},
        }
    )
    frame = frame.sort_values(["start", "rank", "version"], kind="stable").drop_duplicates(
        "start", keep="last"
    )
    frame["kind"] = np.where(frame["rank"] == 1, PlanKind.ACTIVATION.value, PlanKind.SCHEDULE.value)
    index = pd.DatetimeIndex(frame["start"].to_numpy().astype("datetime64[us]"), name="start").tz_localize(
        "UTC"
    )
    return frame.set_index(index)[columns]
