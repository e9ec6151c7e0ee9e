"""Reads of forecasts, including "what was known at time T" (belief-time queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db.models import Exists, OuterRef, QuerySet

from apps.telemetry.choices import IT_DEMAND_SERIES
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import timeseries_list_active_site_load, timeseries_list_zone_signals

from .choices import RunKind, RunStatus
from .models import ForecastRun, ForecastValue, ModelSelection

#: A model selection is current for this long; the beat re-selects after it (issue #21).
SELECT_EVERY = timedelta(days=7)


def forecast_known_at(
    *,
    series: TimeSeries,
    start: datetime,
    end: datetime,
    belief_time: datetime,
    model_name: str | None = None,
) -> pd.DataFrame:
    """Quantiles of ``series`` for ``[start, end)`` as known at ``belief_time``: for each interval, the value of
    the latest successful run issued at or before ``belief_time`` (FlexMeasures' belief-time semantics). Between
    runs issued at the same time the day-ahead run wins over an intraday update (its model is the one trained for
    that window), then the run stored last.

    Returns:
        DataFrame indexed by interval start (UTC), columns ``p10``, ``p50``, ``p90`` and ``issued_at``; intervals
        no run covered are absent.
    """
    runs = ForecastRun.objects.filter(
        series=series,
        status=RunStatus.SUCCEEDED,
        issued_at__lte=belief_time,
        horizon_start__lt=end,
        horizon_end__gt=start,
    )
    if model_name:
        runs = runs.filter(model_name=model_name)
    rows = (
        ForecastValue.objects.filter(run__in=runs, start__gte=start, start__lt=end)
        .order_by("start", "-run__issued_at", "run__kind", "-run__pk")
        .values_list("start", "p10", "p50", "p90", "run__issued_at")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["start", "p10", "p50", "p90", "issued_at"])
    if frame.empty:
        return frame.set_index(pd.DatetimeIndex([], tz="UTC", name="start"))
    frame = frame.drop_duplicates("start", keep="first")
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    return frame.set_index("start")


def forecast_run_list(*, series_ids: list[int] | None = None) -> QuerySet[ForecastRun]:
    """Runs, newest first, optionally of some series."""
    qs = ForecastRun.objects.select_related("series")
    return qs.filter(series_id__in=series_ids) if series_ids is not None else qs


def forecast_latest_run(*, series: TimeSeries) -> ForecastRun | None:
    """The newest successful run of ``series``."""
    return (
        ForecastRun.objects.filter(series=series, status=RunStatus.SUCCEEDED).order_by("-issued_at").first()
    )


@dataclass(frozen=True)
class Expected:
    """An expected profile over a horizon: ``values`` (``steps``,) in the series' unit and where it came from
    (``forecast:<model>@<issued>``, ``seasonal_naive``, ``actual``, ``nominal`` or ``none``)."""

    values: np.ndarray
    source: str


def _grid(start: datetime, steps: int, resolution_s: int) -> pd.DatetimeIndex:
    return pd.date_range(
        pd.Timestamp(start).tz_convert("UTC"), periods=steps, freq=pd.Timedelta(seconds=resolution_s)
    )


#: Names of the site IT-power series that get load forecasts: the metered one and the demand as it arrives.
IT_LOAD_NAMES = ("", IT_DEMAND_SERIES)


def _on_grid(series: pd.Series, grid: pd.DatetimeIndex, native_s: int) -> np.ndarray:
    """Values of ``series`` (native resolution ``native_s``) on ``grid``: a coarser native value holds over its own
    interval; finer values are averaged over each grid interval. Always a fresh writable array (pandas may hand
    back a read-only view, and callers fill gaps in place)."""
    if series.empty:
        return np.full(len(grid), np.nan)
    step = grid[1] - grid[0] if len(grid) > 1 else pd.Timedelta(seconds=native_s)
    ordered = series.sort_index()
    ordered = ordered[~ordered.index.duplicated(keep="last")]
    if pd.Timedelta(seconds=native_s) > step:
        tolerance = pd.Timedelta(seconds=native_s) - pd.Timedelta(microseconds=1)
        return ordered.reindex(grid, method="ffill", tolerance=tolerance).to_numpy(dtype=float, copy=True)
    return ordered.resample(step).mean().reindex(grid).to_numpy(dtype=float, copy=True)


def series_expected(
    *,
    series: TimeSeries | None,
    start: datetime,
    steps: int,
    resolution_s: int,
    belief_time: datetime,
    quantile: str = "p50",
    nominal: float | None = None,
    use_actuals: bool = False,
) -> Expected:
    """What ``series`` is expected to be over ``steps`` intervals of ``resolution_s`` from ``start``, as known at
    ``belief_time``.

    Order of preference: (1) actual stored values when ``use_actuals`` (prices and carbon of a day-ahead market
    are published before the day); (2) the ``quantile`` of the latest forecast issued at or before
    ``belief_time``; (3) seasonal naive — the same time one week earlier from stored actuals, provided they lie
    before ``belief_time``; (4) ``nominal`` (a constant); gaps left after (2)/(3) are filled by (3) then (4).

    Raises:
        ValueError: ``quantile`` is not one of p10, p50, p90.
    """
    if quantile not in ("p10", "p50", "p90"):
        raise ValueError("quantile must be p10, p50 or p90")
    from apps.telemetry.selectors import datapoints_series

    grid = _grid(start, steps, resolution_s)
    native = series.resolution_s if series is not None else resolution_s
    # read from the start of the native interval that contains the horizon's start (an hourly value at 10:00
    # covers a horizon starting at 10:15)
    read_start = grid[0].floor(pd.Timedelta(seconds=native)) if native > resolution_s else grid[0]
    end = grid[-1] + pd.Timedelta(seconds=resolution_s)
    values = np.full(steps, np.nan)
    sources: list[str] = []
    if series is not None and use_actuals:
        values = _on_grid(datapoints_series(series=series, start=read_start, end=end), grid, native)
        sources.append("actual")
    if series is not None and np.isnan(values).any():
        known = forecast_known_at(series=series, start=read_start, end=end, belief_time=belief_time)
        if not known.empty:
            forecast = _on_grid(known[quantile], grid, native)
            fill = np.isnan(values) & ~np.isnan(forecast)
            values[fill] = forecast[fill]
            issued = known["issued_at"].max()
            sources.append(f"forecast@{pd.Timestamp(issued).isoformat()}")
    if series is not None and np.isnan(values).any():
        week = pd.Timedelta(days=7)
        history_end = min(end - week, pd.Timestamp(belief_time))
        past = datapoints_series(series=series, start=read_start - week, end=history_end)
        if not past.empty:
            naive = _on_grid(past.set_axis(past.index + week), grid, native)
            fill = np.isnan(values) & ~np.isnan(naive)
            values[fill] = naive[fill]
            sources.append("seasonal_naive")
    if np.isnan(values).any() and nominal is not None:
        values[np.isnan(values)] = nominal
        sources.append("nominal")
    return Expected(values=values, source="+".join(sources) or "none")


def _without_run_at(series: QuerySet[TimeSeries], issue_time: datetime, kind: str) -> QuerySet[TimeSeries]:
    """``series`` that have no run of ``kind`` issued at ``issue_time`` (any status: a running claim or a failed
    run counts, so a cycle does not enqueue a series twice), in the one query of ``series``."""
    runs = ForecastRun.objects.filter(series=OuterRef("pk"), issued_at=issue_time, kind=kind)
    return series.filter(~Exists(runs)).order_by("pk")


def _site_load_series() -> QuerySet[TimeSeries]:
    return timeseries_list_active_site_load(names=IT_LOAD_NAMES)


def _at_ten_local(issue_time: datetime, tz: str | None) -> bool:
    from zoneinfo import ZoneInfo

    local = issue_time.astimezone(ZoneInfo(tz or "UTC"))
    return local.hour == 10 and local.minute == 0


def load_series_due(*, issue_time: datetime) -> list[int]:
    """Site IT-power series (metered, and demand as it arrives) of active sites whose local time at
    ``issue_time`` is 10:00 and that have no day-ahead run issued at that time yet. One query."""
    rows = _without_run_at(_site_load_series(), issue_time, RunKind.DAY_AHEAD).values_list(
        "pk", "site__timezone"
    )
    return [pk for pk, tz in rows if _at_ten_local(issue_time, tz)]


def intraday_series_due(*, issue_time: datetime) -> list[int]:
    """Site IT-power series (metered, and demand as it arrives) of active sites with no intraday update issued
    at ``issue_time`` yet. One query."""
    return list(
        _without_run_at(_site_load_series(), issue_time, RunKind.INTRADAY).values_list("pk", flat=True)
    )


def zone_series_due(*, issue_time: datetime) -> list[int]:
    """Main (unnamed) price and carbon-intensity series of the market zones whose local time at ``issue_time``
    is 10:00 (before the day-ahead market closes) and that have no day-ahead run issued at that time yet."""
    zone_series = timeseries_list_zone_signals()
    rows = _without_run_at(zone_series, issue_time, RunKind.DAY_AHEAD).values_list(
        "pk", "market_zone__timezone"
    )
    return [pk for pk, tz in rows if _at_ten_local(issue_time, tz)]


#: One forecast value packed by :data:`_PACKED_FORECAST_SQL`: interval start and issue time (timestamptz, µs
#: since 2000-01-01 UTC) and the three quantiles (float8), all big-endian.
_PACKED_FORECAST = np.dtype(
    [("start", ">i8"), ("issued", ">i8"), ("p10", ">f8"), ("p50", ">f8"), ("p90", ">f8")]
)
_PACKED_FORECAST_SQL = (
    "SELECT string_agg(timestamptz_send(v.start) || timestamptz_send(r.issued_at) || float8send(v.p10) "
    "|| float8send(v.p50) || float8send(v.p90), ''::bytea ORDER BY v.start, r.issued_at DESC, r.kind, r.id DESC) "
    "FROM forecasts_forecastvalue v JOIN forecasts_forecastrun r ON r.id = v.run_id "
    "WHERE r.series_id = %s AND r.status = %s AND r.issued_at <= %s AND r.horizon_start < %s "
    "AND r.horizon_end > %s AND v.start >= %s AND v.start < %s"
)
#: Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
_PG_EPOCH_OFFSET_US = 946_684_800 * 1_000_000


def forecast_bands(
    *, series: TimeSeries, start: datetime, end: datetime, belief_time: datetime
) -> pd.DataFrame:
    """The same frame as :func:`forecast_known_at` (without a model filter), read fast enough for a year of
    15-minute values on a page: on PostgreSQL the server packs the rows into one binary value that numpy decodes
    (no Python object per row, as :func:`apps.telemetry.selectors.datapoints_series`); elsewhere it is
    :func:`forecast_known_at`.

    Returns:
        DataFrame indexed by interval start (UTC), columns ``p10``, ``p50``, ``p90`` (the series' unit) and
        ``issued_at``; for each interval the latest successful run issued at or before ``belief_time``.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return forecast_known_at(series=series, start=start, end=end, belief_time=belief_time)
    with connection.cursor() as cursor:
        cursor.execute(
            _PACKED_FORECAST_SQL, [series.pk, RunStatus.SUCCEEDED, belief_time, end, start, start, end]
        )
        payload = cursor.fetchone()[0]
    if not payload:
        empty = pd.DatetimeIndex([], tz="UTC", name="start")
        return pd.DataFrame(
            {name: pd.Series(dtype=float) for name in ("p10", "p50", "p90", "issued_at")}, index=empty
        )
    packed = np.frombuffer(bytes(payload), dtype=_PACKED_FORECAST)
    starts = packed["start"].astype(np.int64) + _PG_EPOCH_OFFSET_US
    keep = np.r_[True, starts[1:] != starts[:-1]]  # rows sorted by start, newest issue first
    index = pd.DatetimeIndex(starts[keep].astype("datetime64[us]"), name="start").tz_localize("UTC")
    issued = pd.DatetimeIndex(
        (packed["issued"][keep].astype(np.int64) + _PG_EPOCH_OFFSET_US).astype("datetime64[us]")
    ).tz_localize("UTC")
    return pd.DataFrame(
        {
            "p10": packed["p10"][keep].astype(np.float64),
            "p50": packed["p50"][keep].astype(np.float64),
            "p90": packed["p90"][keep].astype(np.float64),
            "issued_at": issued,
        },
        index=index,
    )


_BUCKETED_FORECAST_SQL = (
    "WITH chosen AS (SELECT DISTINCT ON (v.start) v.start, v.p10, v.p50, v.p90 "
    "FROM forecasts_forecastvalue v JOIN forecasts_forecastrun r ON r.id = v.run_id "
    "WHERE r.series_id = %s AND r.status = %s AND r.issued_at <= %s AND r.horizon_start < %s "
    "AND r.horizon_end > %s AND v.start >= %s AND v.start < %s "
    "ORDER BY v.start, r.issued_at DESC, r.kind, r.id DESC) "
    "SELECT date_bin(make_interval(secs => %s), start, %s::timestamptz) AS bucket, "
    "avg(p10), avg(p50), avg(p90) "
    "FROM chosen GROUP BY bucket ORDER BY bucket"
)


def forecast_bands_bucketed(
    *, series: TimeSeries, start: datetime, end: datetime, belief_time: datetime, bucket_s: int
) -> pd.DataFrame:
    """:func:`forecast_known_at` (without a model filter) averaged into buckets of ``bucket_s`` seconds aligned to
    the Unix epoch (UTC), for charts over long ranges. Each interval's value is first chosen as in
    :func:`forecast_known_at` (latest successful run issued at or before ``belief_time``; on a tie the day-ahead
    run, then the run stored last), then the quantiles are averaged per bucket. On PostgreSQL both steps run in
    the database (``DISTINCT ON`` then ``date_bin … GROUP BY``: one row per bucket is returned); elsewhere with
    pandas.

    Returns:
        DataFrame indexed by bucket start (UTC, named ``start``, sorted), float columns ``p10``, ``p50``, ``p90``
        (means in the series' unit); buckets no run covered are absent.

    Raises:
        ValueError: ``bucket_s`` is not a positive number of seconds.
    """
    from django.db import connection

    from apps.telemetry.selectors import BUCKET_ORIGIN

    if bucket_s <= 0:
        raise ValueError("bucket_s must be a positive number of seconds.")
    columns = ["p10", "p50", "p90"]
    if connection.vendor == "postgresql":
        params = (series.pk, RunStatus.SUCCEEDED, belief_time, end, start, start, end)
        with connection.cursor() as cursor:
            cursor.execute(_BUCKETED_FORECAST_SQL, (*params, bucket_s, BUCKET_ORIGIN))
            rows = cursor.fetchall()
        index = pd.DatetimeIndex([r[0] for r in rows], name="start")
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        return pd.DataFrame([r[1:] for r in rows], columns=columns, index=index.as_unit("us")).astype(float)
    known = forecast_known_at(series=series, start=start, end=end, belief_time=belief_time)
    if known.empty:
        return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], tz="UTC", name="start"), dtype=float)
    grouped = known[columns].astype(float).groupby(known.index.floor(f"{bucket_s}s")).mean()
    grouped.index = grouped.index.rename("start").as_unit("us")
    return grouped


def model_selection_current(*, series: TimeSeries, at: datetime) -> ModelSelection | None:
    """The newest succeeded selection of ``series`` made at or before ``at`` and less than :data:`SELECT_EVERY`
    before it; None when there is none."""
    return (
        ModelSelection.objects.filter(
            series=series,
            status=RunStatus.SUCCEEDED,
            selected_at__lte=at,
            selected_at__gt=at - SELECT_EVERY,
        )
        .order_by("-selected_at")
        .first()
    )


def model_selections_due(*, now: datetime) -> list[int]:
    """Ids of the series forecast day-ahead in the last :data:`SELECT_EVERY` (a succeeded run) whose model has
    no current selection at ``now``, sorted. Two queries."""
    forecast = set(
        ForecastRun.objects.filter(
            kind=RunKind.DAY_AHEAD,
            status=RunStatus.SUCCEEDED,
            issued_at__gt=now - SELECT_EVERY,
            issued_at__lte=now,
        ).values_list("series_id", flat=True)
    )
    current = set(
        ModelSelection.objects.filter(
            status=RunStatus.SUCCEEDED, selected_at__lte=now, selected_at__gt=now - SELECT_EVERY
        ).values_list("series_id", flat=True)
    )
    return sorted(forecast - current)


def model_selection_latest(*, series: TimeSeries) -> ModelSelection | None:
    """The newest succeeded model selection of ``series`` (what its day-ahead forecasts use now), or None."""
    return (
        ModelSelection.objects.filter(series=series, status=RunStatus.SUCCEEDED)
        .order_by("-selected_at")
        .first()
    )
