"""Writes for forecasts: store a run and its values atomically and idempotently, and claim a run before it is
computed so that two workers never forecast the same series for the same belief time.

The fitted models (recipes, training, retraining) live in :mod:`apps.forecasts.training`; their public names are
re-exported here.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.telemetry.models import TimeSeries

from .choices import RunKind, RunStatus
from .models import ForecastRun, ForecastValue
from .training import (
    INTRADAY_MAX_LEAD,
    INTRADAY_MODEL_NAME,
    KEEP_TRAINED,
    LOAD_MODEL_NAME,
    LOAD_MODEL_VERSION,
    RECIPES,
    RETRAIN_EVERY,
    TRAIN_DAYS,
    ZONE_RECIPES,
    ZONE_TRAIN_DAYS,
    ModelRecipe,
    series_get,
    series_history,
    trained_model_current,
    trained_model_fit,
    trained_model_retrain,
    trained_models_retrain_stale,
    trained_models_stale,
)
from .workload_aware import workload_aware_store

__all__ = [
    "CLAIM_STALE_AFTER",
    "INTRADAY_MAX_LEAD",
    "INTRADAY_MODEL_NAME",
    "KEEP_TRAINED",
    "LOAD_MODEL_NAME",
    "LOAD_MODEL_VERSION",
    "RECIPES",
    "RETRAIN_EVERY",
    "TRAIN_DAYS",
    "ZONE_RECIPES",
    "ZONE_TRAIN_DAYS",
    "ModelRecipe",
    "RunSpec",
    "forecast_day_ahead",
    "forecast_intraday",
    "forecast_run_claim",
    "forecast_run_fail",
    "forecast_run_store",
    "forecast_zone_day_ahead",
    "trained_model_current",
    "trained_model_fit",
    "trained_model_retrain",
    "trained_models_retrain_stale",
    "trained_models_stale",
]

#: A claim still ``running`` after this long (wall clock) is taken over: its worker died mid-run and the broker
#: redelivered the message (``acks_late``). Far above a forecast's duration (seconds to a minute with a fit).
CLAIM_STALE_AFTER = timedelta(minutes=30)


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


def forecast_run_claim(
    *,
    series: TimeSeries,
    recipe: ModelRecipe,
    issue_time: datetime,
    stale_after: timedelta = CLAIM_STALE_AFTER,
) -> ForecastRun | None:
    """Claim the run of ``recipe`` for ``series`` issued at ``issue_time`` for this worker; None when it is not
    ours to compute (another worker holds a live claim, or the run has succeeded already).

    The claim is the run row itself, status ``running`` (the unique constraint on series, model, kind and issue
    time lets only one insert win; its horizon is a one-interval placeholder until the values are stored). A
    ``failed`` run, or a ``running`` one not touched for ``stale_after``, is taken over by a conditional UPDATE
    whose row count says who won (the healthchecks pattern), so a series is forecast once per belief time even
    with several workers and redelivered messages.
    """
    placeholder_end = issue_time + timedelta(seconds=series.resolution_s)
    run, created = ForecastRun.objects.get_or_create(
        series=series,
        model_name=recipe.model_name,
        kind=recipe.kind,
        issued_at=issue_time,
        defaults={
            "model_version": recipe.model_version,
            "horizon_start": issue_time,
            "horizon_end": placeholder_end,
            "resolution_s": series.resolution_s,
            "status": RunStatus.RUNNING,
        },
    )
    if created:
        return run
    now = timezone.now()
    takeable = Q(status=RunStatus.FAILED) | Q(status=RunStatus.RUNNING, updated_at__lt=now - stale_after)
    taken = ForecastRun.objects.filter(takeable, pk=run.pk).update(
        status=RunStatus.RUNNING, error="", updated_at=now
    )
    return run if taken == 1 else None


def _forecast(
    *,
    series: TimeSeries,
    recipe: ModelRecipe,
    issue_time: datetime,
    retrain_every: timedelta,
    train_days: int | None = None,
    max_lead: timedelta | None = None,
    once: bool = False,
) -> ForecastRun:
    """Forecast ``series`` with ``recipe`` as known at ``issue_time`` and store the run (belief time =
    ``issue_time``): reuse the current trained model, or train and persist one. Intervals starting ``max_lead``
    or more after the issue time are not stored.

    ``once``: claim the run first (:func:`forecast_run_claim`); when it is not ours, return the existing run
    without computing; when the computation raises, the run is recorded as failed (so the dashboard shows it and
    a later message may take it over) and the error re-raised. Without ``once`` an existing run is replaced.
    """
    if not once:
        return _forecast_store(series, recipe, issue_time, retrain_every, train_days, max_lead)
    claimed = forecast_run_claim(series=series, recipe=recipe, issue_time=issue_time)
    if claimed is None:
        return ForecastRun.objects.get(
            series=series, model_name=recipe.model_name, kind=recipe.kind, issued_at=issue_time
        )
    try:
        return _forecast_store(series, recipe, issue_time, retrain_every, train_days, max_lead)
    except Exception as error:
        spec = RunSpec(recipe.model_name, recipe.model_version, issue_time, kind=recipe.kind)
        horizon = (claimed.horizon_start, claimed.horizon_end)
        forecast_run_fail(series=series, spec=spec, error=f"{type(error).__name__}: {error}", horizon=horizon)
        raise


def _forecast_store(
    series: TimeSeries,
    recipe: ModelRecipe,
    issue_time: datetime,
    retrain_every: timedelta,
    train_days: int | None,
    max_lead: timedelta | None,
) -> ForecastRun:
    """Load the model and the history, predict, store (the body of :func:`_forecast`); a baseline recipe
    (:func:`apps.forecasts.selection.baseline_forecast_store`) needs no model."""
    from .selection import BASELINE_RECIPES, baseline_forecast_store

    t0 = time.perf_counter()
    if recipe.model_name in BASELINE_RECIPES:
        return baseline_forecast_store(series=series, name=recipe.model_name, issue_time=issue_time)
    days = recipe.train_days if train_days is None else train_days
    stored = trained_model_current(series=series, recipe=recipe, at=issue_time, retrain_every=retrain_every)
    reused = stored is not None
    if stored is None:
        stored = trained_model_fit(series=series, recipe=recipe, at=issue_time, train_days=train_days)
    model = pickle.loads(bytes(stored.artifact))
    history = series_history(
        series,
        first=pd.Timestamp(issue_time) - pd.Timedelta(days=days + 8),
        issue_time=issue_time,
        train_days=days,
    )
    values = model.predict(pd.Timestamp(issue_time), history=history)[["p10", "p50", "p90"]]
    if max_lead is not None:
        values = values[values.index < pd.Timestamp(issue_time) + max_lead]
    spec = RunSpec(
        model_name=recipe.model_name,
        model_version=recipe.model_version,
        issued_at=issue_time,
        kind=recipe.kind,
        training_start=stored.training_start,
        training_end=stored.training_end,
        metrics={"reused_model_trained_at": stored.trained_at.isoformat()} if reused else {},
    )
    return forecast_run_store(series=series, spec=spec, values=values, duration_s=time.perf_counter() - t0)


def forecast_day_ahead(
    *,
    series_id: int,
    issue_time: datetime,
    train_days: int | None = None,
    retrain_every: timedelta = RETRAIN_EVERY,
    once: bool = False,
) -> ForecastRun:
    """Day-ahead forecast of a load series (e.g. a site's IT demand): trained on the stored values known at
    ``issue_time`` (``forecasting.LoadForecaster``: gradient boosting on calendar, holiday and lag features,
    quantiles p10/p50/p90; all history up to two years when ``train_days`` is None), for the next local day,
    stored as a run whose belief time is ``issue_time``. Where a model selection of the series is current
    (:func:`apps.forecasts.selection.model_selection_run`), its winner makes the forecast instead: the ensemble,
    or the baseline the model lost to (:func:`apps.forecasts.selection.recipe_selected`). Where the series is a
    site's IT demand and the site reports its known jobs, the workload-aware run (known work + forecast new
    arrivals, :mod:`apps.forecasts.workload_aware`) is stored after it and returned: the run the selectors read.

    The fitted model is persisted (:class:`~apps.forecasts.models.TrainedModel`) and reused, with the newest
    history, until it is ``retrain_every`` old; a model trained after ``issue_time`` is never used. ``once``
    (the Celery tasks): claim the run first and return the existing one when another worker has it
    (:func:`forecast_run_claim`); otherwise an existing run is replaced.

    Raises:
        TimeSeries.DoesNotExist: unknown series.
        ValueError: fewer than ``train_days`` + 8 days of history before ``issue_time``.
    """
    from .selection import recipe_selected

    series = series_get(series_id)
    run = _forecast(
        series=series,
        recipe=recipe_selected(series=series, at=issue_time, default=RECIPES[LOAD_MODEL_NAME]),
        issue_time=issue_time,
        retrain_every=retrain_every,
        train_days=train_days,
        once=once,
    )
    return workload_aware_store(fallback=run)


def forecast_intraday(
    *, series_id: int, issue_time: datetime, retrain_every: timedelta = RETRAIN_EVERY, once: bool = False
) -> ForecastRun:
    """Intraday update of a load series: re-forecasts the next :data:`INTRADAY_MAX_LEAD` (the rest of today and
    the part of the day-ahead window within it) from the telemetry stored up to ``issue_time``, stored as a run of
    kind ``intraday`` whose belief time is ``issue_time``.

    The model (``forecasting.LoadForecaster`` on an ``IntradaySchedule``: trained on updates issued every 3 h, so
    lead times from one interval to two days, with the last known value and the 24 h before issue as features)
    is persisted and reused like the day-ahead one; a site's IT demand with known jobs gets the workload-aware
    run after it, as in :func:`forecast_day_ahead`. :func:`~apps.forecasts.selectors.forecast_known_at` then
    returns, for each interval, the latest of the day-ahead run and the updates issued by a belief time.

    Raises:
        TimeSeries.DoesNotExist: unknown series.
        ValueError: fewer than :data:`TRAIN_DAYS` + 8 days of history before ``issue_time``, or ``issue_time``
            not timezone-aware.
    """
    if issue_time.tzinfo is None:
        raise ValueError("issue_time must be timezone-aware")
    run = _forecast(
        series=series_get(series_id),
        recipe=RECIPES[INTRADAY_MODEL_NAME],
        issue_time=issue_time,
        retrain_every=retrain_every,
        max_lead=INTRADAY_MAX_LEAD,
        once=once,
    )
    return workload_aware_store(fallback=run)


def forecast_zone_day_ahead(
    *, series_id: int, issue_time: datetime, retrain_every: timedelta = RETRAIN_EVERY, once: bool = False
) -> ForecastRun:
    """Day-ahead forecast of a market zone's price (currency/MWh) or carbon intensity (gCO2/kWh) for the zone's
    next local day, issued at ``issue_time`` (10:00 zone time, before the day-ahead market closes), stored with
    that belief time.

    Model: ``forecasting.ZoneSignalForecaster`` (gradient boosting on calendar, holidays and lags known at issue,
    normalised by the 7-day mean absolute value), trained on the last :data:`ZONE_TRAIN_DAYS` days of the stored
    series, persisted and reused until ``retrain_every`` old. No exogenous input: stored weather and system load
    are observations, and feeding them at the target hour would look ahead (benchmarked gains with perfect weather
    and load in ``benchmarks/forecasting/README.md``).

    Raises:
        TimeSeries.DoesNotExist: unknown series.
        ValueError: the series is not a zone's price or carbon intensity, or too little history.
    """
    series = series_get(series_id)
    if series.market_zone_id is None or series.quantity not in ZONE_RECIPES:
        raise ValueError(
            f"{series} is not a market zone's price or carbon-intensity series (quantity {series.quantity!r})"
        )
    return _forecast(
        series=series,
        recipe=RECIPES[ZONE_RECIPES[series.quantity]],
        issue_time=issue_time,
        retrain_every=retrain_every,
        once=once,
    )
