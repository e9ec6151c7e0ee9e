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

from .models import Delivery, DeliveryCheck, DispatchPlan, ReplanRun, Setpoint, WebhookEndpoint


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


def check_outcome(check: DeliveryCheck) -> str:
    """What a closed-loop check found, in words, from its stored figures: "no meter data yet", "within tolerance"
    (shortfall at most max(5 % of the planned reduction, 100 kW), the re-dispatch threshold of
    :func:`apps.dispatch.services.delivery_check`), or "short by N kW" followed by what was done — a re-dispatch,
    why it was impossible, or that the activation had no interval left to re-dispatch into."""
    from .services import MIN_SHORTFALL_KW, SHORTFALL_TOLERANCE

    if check.metered_kw is None:
        return "no meter data yet"
    tolerance = max(SHORTFALL_TOLERANCE * check.planned_kw, MIN_SHORTFALL_KW)
    if check.shortfall_kw <= tolerance:
        return "within tolerance"
    acted = (
        check.action
        if check.action.startswith("re-dispatch")
        else "last interval: nothing left to re-dispatch"
    )
    return f"short by {check.shortfall_kw:,.0f} kW; {acted}"


def setpoint_at(*, site_id: int, moment: datetime) -> Setpoint | None:
    """The setpoint of ``site_id`` covering ``moment`` in the newest active plan (the latest decision: a
    re-dispatch over its activation's plan, an activation plan over the day-ahead schedule, an intraday re-plan
    over both once it includes the activation), or ``None``."""
    from .choices import PlanStatus

    return (
        Setpoint.objects.filter(
            site_id=site_id, start__lte=moment, end__gt=moment, plan__status=PlanStatus.ACTIVE
        )
        .select_related("plan")
        .order_by("-plan__created_at", "-plan_id")  # the latest decision wins
        .first()
    )


def setpoints_in_force(
    *, site_ids: list[int], start: datetime, end: datetime
) -> dict[tuple[int, datetime], tuple[float, float, dict]]:
    """(site id, interval start) → (target kW, battery kW, workload actions) of the setpoint that applies to each
    interval starting
    in ``[start, end)`` — the newest active plan's, as :func:`setpoint_at` chooses — in one query."""
    from .choices import PlanStatus

    rows = (
        Setpoint.objects.filter(
            site_id__in=site_ids, start__gte=start, start__lt=end, plan__status=PlanStatus.ACTIVE
        )
        .order_by("plan__created_at", "plan_id")
        .values_list("site_id", "start", "target_kw", "battery_kw", "workloads")
    )
    # newest last: it wins
    return {(site, t): (target, battery, workloads) for site, t, target, battery, workloads in rows}


def replan_run_latest() -> ReplanRun | None:
    """The most recent intraday re-plan run, or ``None``."""
    return ReplanRun.objects.order_by("-slot").first()


def regulation_setpoints_between(*, site_id: int, start: datetime, end: datetime) -> list[Setpoint]:
    """The regulation setpoints of ``site_id`` overlapping ``[start, end)`` (those whose ``workloads`` carry a
    ``"regulation"`` order, :mod:`apps.dispatch.regulation`), in active plans, by start; where several cover the
    same interval, the newest plan's. A site follows them on top of any other setpoint in force."""
    from .choices import PlanStatus

    rows = (
        Setpoint.objects.filter(
            site_id=site_id,
            start__lt=end,
            end__gt=start,
            plan__status=PlanStatus.ACTIVE,
            workloads__has_key="regulation",
        )
        .order_by("start", "-plan__created_at", "-plan_id")
        .only("start", "end", "workloads")
    )
    picked: dict[datetime, Setpoint] = {}
    for row in rows:
        picked.setdefault(row.start, row)
    return list(picked.values())


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

    from .choices import PlanKind

    columns = ["baseline_kw", "target_kw", "battery_kw", "kind"]
    if connection.vendor == "postgresql":
        return _setpoint_frame_packed(principal, site_id, start, end, columns)
    rows = list(
        _ranked_setpoints(principal, site_id, start, end)[0].values_list(
            "start", "baseline_kw", "target_kw", "battery_kw", "plan__kind", "plan__version"
        )
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


def _ranked_setpoints(
    principal: Principal, site_id: int, start: datetime, end: datetime
) -> tuple[QuerySet[Setpoint], Any]:
    """The site's setpoints in ``[start, end)`` visible to ``principal`` from plans that did not fail, and the
    expression ranking an activation plan's setpoint (1) above the day-ahead schedule's (0)."""
    from django.db.models import Case, IntegerField, Value, When

    from .choices import PlanKind, PlanStatus

    rank = Case(
        When(plan__kind=PlanKind.ACTIVATION, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    scoped = (
        setpoint_list(principal=principal)
        .filter(site_id=site_id, start__gte=start, start__lt=end)
        .exclude(plan__status=PlanStatus.FAILED)
    )
    return scoped, rank


def _setpoint_frame_packed(
    principal: Principal, site_id: int, start: datetime, end: datetime, columns: list[str]
) -> pd.DataFrame:
    """:func:`setpoint_frame` on PostgreSQL: the scoped queryset's rows packed by the server into one binary
    value and decoded by numpy (a year of 15-minute setpoints without a Python object per row)."""
    from django.db import connection
    from django.db.models import BinaryField, F, Func

    from .choices import PlanKind

    def send(expression: Any, function: str) -> Func:
        return Func(expression, function=function, output_field=BinaryField())

    scoped, rank = _ranked_setpoints(principal, site_id, start, end)
    rows = (
        scoped.annotate(
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


def setpoint_frame_bucketed(
    *, principal: Principal, site_id: int, start: datetime, end: datetime, bucket_s: int
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """:func:`setpoint_frame` averaged into buckets of ``bucket_s`` seconds aligned to the Unix epoch (UTC), for
    charts over long ranges. Each interval's setpoint is first chosen as in :func:`setpoint_frame` (activation
    over schedule, then the newest plan version, then the setpoint stored last), then averaged per bucket. On
    PostgreSQL both steps run in the database over the caller's scoped queryset (``DISTINCT ON`` then
    ``date_bin … GROUP BY``); elsewhere with pandas.

    Returns:
        ``(frame, activation_starts)``: ``frame`` indexed by bucket start (UTC, sorted) with float columns
        ``baseline_kw``, ``target_kw``, ``battery_kw`` (bucket means, kW; + = consumption / charging), empty when
        there is no setpoint or the site is outside the caller's scope; ``activation_starts``: the sorted starts
        (UTC) of the native intervals where an activation plan's setpoint was chosen (to shade events exactly).

    Raises:
        ValueError: ``bucket_s`` is not a positive number of seconds.
    """
    from django.db import connection

    from apps.telemetry.selectors import BUCKET_ORIGIN

    from .choices import PlanKind

    if bucket_s <= 0:
        raise ValueError("bucket_s must be a positive number of seconds.")
    columns = ["baseline_kw", "target_kw", "battery_kw"]
    empty_index = pd.DatetimeIndex([], tz="UTC", name="start")
    if connection.vendor != "postgresql":
        native = setpoint_frame(principal=principal, site_id=site_id, start=start, end=end)
        if native.empty:
            return pd.DataFrame(columns=columns, index=empty_index, dtype=float), empty_index
        grouped = native[columns].astype(float).groupby(native.index.floor(f"{bucket_s}s")).mean()
        grouped.index = grouped.index.rename("start").as_unit("us")
        activation = pd.DatetimeIndex(native.index[native["kind"] == PlanKind.ACTIVATION], name="start")
        return grouped, activation.as_unit("us")
    scoped, rank = _ranked_setpoints(principal, site_id, start, end)
    rows = scoped.annotate(rank=rank).values_list("id", "start", "rank", "plan__version", *columns).order_by()
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH scoped (id, start, rank, version, baseline_kw, target_kw, battery_kw) AS "
            f"({sql}), chosen AS (SELECT DISTINCT ON (start) * FROM scoped "
            "ORDER BY start, rank DESC, version DESC, id DESC) "
            "SELECT date_bin(make_interval(secs => %s), start, %s::timestamptz) AS bucket, "
            "avg(baseline_kw), avg(target_kw), "
            "avg(battery_kw), array_agg(start ORDER BY start) FILTER (WHERE rank = 1) "
            "FROM chosen GROUP BY bucket ORDER BY bucket",
            [*params, bucket_s, BUCKET_ORIGIN],
        )
        fetched = cursor.fetchall()
    if not fetched:
        return pd.DataFrame(columns=columns, index=empty_index, dtype=float), empty_index
    index = pd.DatetimeIndex([r[0] for r in fetched], name="start")
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    frame = pd.DataFrame([r[1:4] for r in fetched], columns=columns, index=index.as_unit("us")).astype(float)
    starts = [t for r in fetched if r[4] for t in r[4]]
    activation = pd.DatetimeIndex(starts, name="start")
    activation = activation.tz_localize("UTC") if activation.tz is None else activation.tz_convert("UTC")
    return frame, activation.as_unit("us")


# System-job reads (no caller scoping)


def setpoint_rows_for_event(*, event_id: int) -> list[tuple[int, datetime, float, float, int, int]]:
    """Every setpoint of every dispatch plan of the event's activations, as
    ``(site_id, start, baseline_kw, target_kw, plan version, activation id)``, by start, activation, version."""
    return list(
        Setpoint.objects.filter(plan__activation__event_id=event_id)
        .values_list("site_id", "start", "baseline_kw", "target_kw", "plan__version", "plan__activation_id")
        .order_by("start", "plan__activation_id", "plan__version")
    )
