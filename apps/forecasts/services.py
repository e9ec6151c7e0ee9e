"""Writes for forecasts: store a run and its values atomically and idempotently."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db import transaction

from apps.telemetry.models import TimeSeries

from .choices import RunKind, RunStatus
from .models import ForecastRun, ForecastValue, TrainedModel


@dataclass(frozen=True)
class RunSpec:
    """Identity and provenance of a forecast run."""

    model_name: str
    model_version: str
    issued_at: datetime
    kind: str = RunKind.DAY_AHEAD
    training_start: datetime | None = None
    training_end: datetime | None = None
    metrics: dict | None = None


def forecast_run_store(
    *, series: TimeSeries, spec: RunSpec, values: pd.DataFrame, duration_s: float | None = None
) -> ForecastRun:
    """Store a successful run of ``series`` with its quantiles, all or nothing.

    ``values``: DataFrame indexed by interval start (tz-aware), columns ``p10``, ``p50``, ``p90`` in the series'
    unit, at the series' resolution. Quantiles are made non-crossing by sorting each row (Chernozhukov,
    Fernández-Val & Galichon 2010, "Quantile and probability curves without crossing"). Idempotent: a run with
    the same series, model, kind and issue time is replaced.

    Raises:
        ValueError: empty values, a naive index, missing columns, non-finite values, or values issued after
            the horizon they forecast starts (a forecast must not be issued after the fact).
    """
    missing = {"p10", "p50", "p90"} - set(values.columns)
    if missing:
        raise ValueError(f"values lack column(s): {sorted(missing)}")
    if values.empty:
        raise ValueError("a forecast run needs at least one value")
    index = pd.DatetimeIndex(values.index)
    if index.tz is None:
        raise ValueError("the values' index must be timezone-aware")
    quantiles = np.sort(values[["p10", "p50", "p90"]].to_numpy(dtype=float), axis=1)
    if not np.isfinite(quantiles).all():
        raise ValueError("forecast values must be finite")
    index = index.tz_convert("UTC")
    horizon_start = index.min().to_pydatetime()
    horizon_end = (index.max() + pd.Timedelta(seconds=series.resolution_s)).to_pydatetime()
    with transaction.atomic():
        ForecastRun.objects.filter(
            series=series, model_name=spec.model_name, kind=spec.kind, issued_at=spec.issued_at
        ).delete()
        run = ForecastRun.objects.create(
            series=series,
            kind=spec.kind,
            model_name=spec.model_name,
            model_version=spec.model_version,
            issued_at=spec.issued_at,
            horizon_start=horizon_start,
            horizon_end=horizon_end,
            resolution_s=series.resolution_s,
            training_start=spec.training_start,
            training_end=spec.training_end,
            metrics=spec.metrics or {},
            status=RunStatus.SUCCEEDED,
            duration_s=duration_s,
        )
        ForecastValue.objects.bulk_create(
            [
                ForecastValue(run=run, start=start.to_pydatetime(), p10=row[0], p50=row[1], p90=row[2])
                for start, row in zip(index, quantiles, strict=True)
            ],
            batch_size=2000,
        )
    return run


def forecast_run_fail(
    *, series: TimeSeries, spec: RunSpec, error: str, horizon: tuple[datetime, datetime]
) -> ForecastRun:
    """Record a failed run (so the dashboard shows it) without values."""
    run, _ = ForecastRun.objects.update_or_create(
        series=series,
        model_name=spec.model_name,
        kind=spec.kind,
        issued_at=spec.issued_at,
        defaults={
            "model_version": spec.model_version,
            "horizon_start": horizon[0],
            "horizon_end": horizon[1],
            "resolution_s": series.resolution_s,
            "status": RunStatus.FAILED,
            "error": error[:5000],
        },
    )
    return run


LOAD_MODEL_NAME = "gbm_load"
LOAD_MODEL_VERSION = "1"
#: Days of history the day-ahead load model trains on (plus a week for its lag features).
TRAIN_DAYS = 21
#: A trained model is reused for this long, then retrained on the latest history.
RETRAIN_EVERY = timedelta(days=7)


def _series_timezone(series: TimeSeries) -> str:
    site = (
        series.site
        or (series.battery.site if series.battery else None)
        or (series.pv_array.site if series.pv_array else None)
    )
    if site is not None:
        return site.timezone
    return series.market_zone.timezone if series.market_zone else "UTC"


def forecast_day_ahead(
    *,
    series_id: int,
    issue_time: datetime,
    train_days: int = TRAIN_DAYS,
    retrain_every: timedelta = RETRAIN_EVERY,
) -> ForecastRun:
    """Day-ahead forecast of a load series (e.g. a site's IT power): trained on the stored values known at
    ``issue_time`` (``forecasting.LoadForecaster``: gradient boosting on calendar, holiday and lag features,
    quantiles p10/p50/p90), for the next local day, stored as a run whose belief time is ``issue_time``.

    The fitted model is persisted (:class:`~apps.forecasts.models.TrainedModel`) and reused, with the newest
    history, until it is ``retrain_every`` old; a model trained after ``issue_time`` is never used.

    Raises:
        TimeSeries.DoesNotExist: unknown series.
        ValueError: fewer than ``train_days`` + 8 days of history before ``issue_time``.
    """
    import time as _time

    from apps.telemetry.selectors import datapoints_series
    from forecasting import DayAheadSchedule, LoadForecaster

    series = TimeSeries.objects.select_related("site", "battery__site", "pv_array__site", "market_zone").get(
        pk=series_id
    )
    first = pd.Timestamp(issue_time) - pd.Timedelta(days=train_days + 8)
    history = datapoints_series(series=series, start=first, end=issue_time)
    step = pd.Timedelta(seconds=series.resolution_s)
    needed = (train_days + 7) * pd.Timedelta(days=1) / step
    if len(history) < 0.8 * needed:
        raise ValueError(f"not enough history for {series}: {len(history)} points, need about {int(needed)}")
    grid = pd.date_range(first, pd.Timestamp(issue_time) - step, freq=step, tz="UTC")
    history = history.reindex(grid)
    t0 = _time.perf_counter()
    stored = (
        TrainedModel.objects.filter(
            series=series,
            model_name=LOAD_MODEL_NAME,
            model_version=LOAD_MODEL_VERSION,
            trained_at__lte=issue_time,
            trained_at__gt=issue_time - retrain_every,
        )
        .order_by("-trained_at")
        .first()
    )
    if stored is not None:
        model = pickle.loads(bytes(stored.artifact))
        training_start, training_end = stored.training_start, stored.training_end
    else:
        model = LoadForecaster(
            DayAheadSchedule(tz=_series_timezone(series), freq=step), exclude_features=("day_of_year",)
        )
        model.fit(history, fit_time=pd.Timestamp(issue_time), train_days=train_days)
        training_start, training_end = first.to_pydatetime(), issue_time
        TrainedModel.objects.create(
            series=series,
            model_name=LOAD_MODEL_NAME,
            model_version=LOAD_MODEL_VERSION,
            trained_at=issue_time,
            training_start=training_start,
            training_end=training_end,
            artifact=pickle.dumps(model),
        )
    values = model.predict(pd.Timestamp(issue_time), history=history)[["p10", "p50", "p90"]]
    spec = RunSpec(
        model_name=LOAD_MODEL_NAME,
        model_version=LOAD_MODEL_VERSION,
        issued_at=issue_time,
        training_start=training_start,
        training_end=training_end,
        metrics={"reused_model_trained_at": stored.trained_at.isoformat()} if stored else {},
    )
    return forecast_run_store(series=series, spec=spec, values=values, duration_s=_time.perf_counter() - t0)
