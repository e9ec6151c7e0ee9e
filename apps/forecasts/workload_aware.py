"""The workload-aware IT demand forecast (issue #21): where a site reports the jobs it knows
(:class:`~apps.telemetry.models.KnownJob` in its state), its IT demand forecast is the known work plus a forecast
of new arrivals with quantiles (:func:`forecasting.jobs.workload_aware_forecast`); else today's model stands.

Known work at an issue time: the jobs of the site's latest state at or before it (at most :data:`STATE_MAX_AGE`
old), each at its ``power_kw`` from its earliest start for ``duration_h`` (a job reported by energy only: its
``energy_kwh`` spread over one hour from its earliest start). New arrivals: the IT demand not known at issue —
for each past day ``d`` (from the first whose whole window lies before the issue time, up to
:data:`HISTORY_DAYS`), the stored demand over the window shifted ``d`` days back minus the known work of the
state at the issue time shifted likewise; the per-time-of-day 10/50/90 % quantiles of those days. At least
:data:`MIN_HISTORY_DAYS` such days are needed, else :func:`workload_aware_values` returns ``None``.

The run is stored under model :data:`WORKLOAD_AWARE_MODEL` at the same issue time and kind as today's model's
run and after it, so :func:`apps.forecasts.selectors.forecast_known_at` (what planning, re-plans and the
forecast-settled baseline read) returns it; the fallback run stays stored for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity
from apps.telemetry.models import TimeSeries
from forecasting.jobs import arrival_power_kw, workload_aware_forecast

from .models import ForecastRun, ForecastValue

WORKLOAD_AWARE_MODEL = "workload-aware"
HISTORY_DAYS = 28
MIN_HISTORY_DAYS = 7
#: a state older than this at the issue time does not count as the site's known work
STATE_MAX_AGE = timedelta(hours=1)


def known_jobs_kw(jobs: Sequence, index: pd.DatetimeIndex) -> np.ndarray:
    """Mean kW over each interval of ``index`` (regular UTC grid) of ``jobs`` (known-job entries: ``power_kw``,
    ``duration_h``, ``energy_kwh``, ``earliest_start``), as in the module docstring. Shape ``(len(index),)``."""
    if not jobs:
        return np.zeros(len(index))
    frame = pd.DataFrame(
        {
            "submitted": pd.to_datetime([j.earliest_start for j in jobs], utc=True),
            "num_gpus": [j.power_kw if j.duration_h else j.energy_kwh for j in jobs],
            "runtime_min": [(j.duration_h if j.duration_h else 1.0) * 60.0 for j in jobs],
        }
    )
    return arrival_power_kw(frame, index, kw_per_gpu=1.0).to_numpy()


def _state_jobs(site_id: int, at: datetime) -> tuple | None:
    from apps.telemetry.selectors import site_state_latest

    state = site_state_latest(site=site_id, at=at)
    if state is None or state.reported_at < at - STATE_MAX_AGE:
        return None
    return state.known_jobs


def workload_aware_values(
    *, series: TimeSeries, issue_time: datetime, index: pd.DatetimeIndex
) -> tuple[pd.DataFrame, int] | None:
    """(p10/p50/p90 kW on ``index``, number of known jobs) of the workload-aware forecast of ``series`` issued
    at ``issue_time``; ``None`` when it does not apply: not a site's IT demand series, no known jobs reported
    at issue, or fewer than :data:`MIN_HISTORY_DAYS` past days with both a state and stored demand."""
    from apps.telemetry.selectors import datapoints_series

    if series.site_id is None or series.quantity != Quantity.IT_POWER_KW or series.name != IT_DEMAND_SERIES:
        return None
    jobs = _state_jobs(series.site_id, issue_time)
    if not jobs or len(index) < 2:
        return None
    step = index[1] - index[0]
    first_day = max(math.ceil((index[-1] + step - pd.Timestamp(issue_time)) / pd.Timedelta(days=1)), 1)
    demand = datapoints_series(
        series=series, start=index[0] - pd.Timedelta(days=first_day + HISTORY_DAYS), end=issue_time
    )
    parts = []
    for d in range(first_day, first_day + HISTORY_DAYS):
        shift = pd.Timedelta(days=d)
        window = index - shift
        past_jobs = _state_jobs(series.site_id, pd.Timestamp(issue_time) - shift)
        actual = demand.reindex(window)
        if past_jobs is None or actual.isna().mean() > 0.2:
            continue
        parts.append(actual - known_jobs_kw(past_jobs, window))
    if len(parts) < MIN_HISTORY_DAYS:
        return None
    history = pd.concat(parts).sort_index().dropna()
    values = workload_aware_forecast(
        known_kw=known_jobs_kw(jobs, index), history=history, index=index, days=first_day + HISTORY_DAYS
    )
    return values.clip(lower=0.0), len(jobs)


def workload_aware_store(*, fallback: ForecastRun) -> ForecastRun:
    """Store the workload-aware run beside ``fallback`` (today's model's run of an IT demand series: same
    series, issue time, kind and horizon) and return it, or return ``fallback`` when it does not apply."""
    from .services import RunSpec, forecast_run_store

    if fallback.model_name == WORKLOAD_AWARE_MODEL:
        return fallback
    starts = ForecastValue.objects.filter(run=fallback).order_by("start").values_list("start", flat=True)
    index = pd.DatetimeIndex(list(starts))
    if len(index) < 2:
        return fallback
    index = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
    found = workload_aware_values(series=fallback.series, issue_time=fallback.issued_at, index=index)
    if found is None:
        return fallback
    values, n_jobs = found
    spec = RunSpec(
        model_name=WORKLOAD_AWARE_MODEL,
        model_version="1",
        issued_at=fallback.issued_at,
        kind=fallback.kind,
        metrics={"known_jobs": n_jobs, "fallback_model": fallback.model_name},
    )
    return forecast_run_store(series=fallback.series, spec=spec, values=values)
