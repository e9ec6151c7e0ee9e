"""Reads of forecasts, including "what was known at time T" (belief-time queries)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from django.db.models import QuerySet

from apps.telemetry.models import TimeSeries

from .choices import RunStatus
from .models import ForecastRun, ForecastValue


def forecast_known_at(
    *,
    series: TimeSeries,
    start: datetime,
    end: datetime,
    belief_time: datetime,
    model_name: str | None = None,
) -> pd.DataFrame:
    """Quantiles of ``series`` for ``[start, end)`` as known at ``belief_time``: for each interval, the value of
    the latest successful run issued at or before ``belief_time`` (FlexMeasures' belief-time semantics).

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
        .order_by("start", "-run__issued_at")
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
