"""Writes for forecasts: store a run and its values atomically and idempotently."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

from apps.telemetry.choices import Quantity
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
INTRADAY_MODEL_NAME = "gbm_load_intraday"
#: Days of history the day-ahead load model trains on (plus a week for its lag features).
TRAIN_DAYS = 21
#: Zone price / carbon models train on four weeks (the bundled zone slices hold two months).
ZONE_TRAIN_DAYS = 21
#: A trained model is reused for this long, then retrained on the latest history.
RETRAIN_EVERY = timedelta(days=7)
#: Trained models kept per series and model (the newest); older ones are deleted on retraining.
KEEP_TRAINED = 2
#: Intraday updates store the next 24 h only: beyond that the day-ahead model is the better one (ERCO July 2023,
#: MAPE 4.71 % for updates at 24-48 h lead vs 4.36 % day-ahead on the same hours; benchmarks/forecasting/README.md).
INTRADAY_MAX_LEAD = timedelta(hours=24)


@dataclass(frozen=True)
class ModelRecipe:
    """How one kind of forecast is made: the model's name and version, the run kind, how many days it trains on,
    and ``build(tz, step, series)`` returning an unfitted forecaster of :mod:`forecasting`."""

    model_name: str
    model_version: str
    kind: str
    train_days: int
    build: Callable[[str, pd.Timedelta, TimeSeries], Any]


def _build_day_ahead_load(tz: str, step: pd.Timedelta, series: TimeSeries) -> Any:
    from forecasting import DayAheadSchedule, LoadForecaster

    return LoadForecaster(DayAheadSchedule(tz=tz, freq=step), exclude_features=("day_of_year",))


def _build_intraday_load(tz: str, step: pd.Timedelta, series: TimeSeries) -> Any:
    from forecasting import IntradaySchedule, LoadForecaster

    return LoadForecaster(
        IntradaySchedule(tz=tz, freq=step, issue_every="PT3H"), exclude_features=("day_of_year",)
    )


def _build_zone(signal: str) -> Callable[[str, pd.Timedelta, TimeSeries], Any]:
    def build(tz: str, step: pd.Timedelta, series: TimeSeries) -> Any:
        from forecasting import DayAheadSchedule, ZoneSignalForecaster

        return ZoneSignalForecaster(DayAheadSchedule(tz=tz, freq=step), signal=signal)

    return build


#: Every model the forecast services train and persist, by model name.
RECIPES: dict[str, ModelRecipe] = {
    LOAD_MODEL_NAME: ModelRecipe(
        LOAD_MODEL_NAME, LOAD_MODEL_VERSION, RunKind.DAY_AHEAD, TRAIN_DAYS, _build_day_ahead_load
    ),
    INTRADAY_MODEL_NAME: ModelRecipe(
        INTRADAY_MODEL_NAME, "1", RunKind.INTRADAY, TRAIN_DAYS, _build_intraday_load
    ),
    "gbm_price": ModelRecipe("gbm_price", "1", RunKind.DAY_AHEAD, ZONE_TRAIN_DAYS, _build_zone("price")),
    "gbm_carbon": ModelRecipe("gbm_carbon", "1", RunKind.DAY_AHEAD, ZONE_TRAIN_DAYS, _build_zone("carbon")),
}
#: The model of each zone quantity.
ZONE_RECIPES: dict[str, str] = {
    Quantity.PRICE: "gbm_price",
    Quantity.CARBON_INTENSITY_G_PER_KWH: "gbm_carbon",
}


def _series_timezone(series: TimeSeries) -> str:
    site = (
        series.site
        or (series.battery.site if series.battery else None)
        or (series.pv_array.site if series.pv_array else None)
    )
    if site is not None:
        return site.timezone
    return series.market_zone.timezone if series.market_zone else "UTC"


def _series(series_id: int) -> TimeSeries:
    return TimeSeries.objects.select_related("site", "battery__site", "pv_array__site", "market_zone").get(
        pk=series_id
    )


def _history(series: TimeSeries, *, first: pd.Timestamp, issue_time: datetime, train_days: int) -> pd.Series:
    """Stored values of ``series`` from ``first`` to ``issue_time`` on the series' grid (NaN where missing).

    Raises:
        ValueError: fewer than 80 % of the ``train_days`` + 7 days of values needed.
    """
    from apps.telemetry.selectors import datapoints_series

    history = datapoints_series(series=series, start=first, end=issue_time)
    step = pd.Timedelta(seconds=series.resolution_s)
    needed = (train_days + 7) * pd.Timedelta(days=1) / step
    if len(history) < 0.8 * needed:
        raise ValueError(f"not enough history for {series}: {len(history)} points, need about {int(needed)}")
    grid = pd.date_range(first.ceil(step), pd.Timestamp(issue_time).floor(step) - step, freq=step, tz="UTC")
    return history.reindex(grid)


def trained_model_current(
    *, series: TimeSeries, recipe: ModelRecipe, at: datetime, retrain_every: timedelta = RETRAIN_EVERY
) -> TrainedModel | None:
    """The newest stored model of ``recipe`` for ``series`` trained at or before ``at`` and less than
    ``retrain_every`` before it (a model trained after ``at`` would see the future); None when it must be
    (re)trained."""
    return (
        TrainedModel.objects.filter(
            series=series,
            model_name=recipe.model_name,
            model_version=recipe.model_version,
            trained_at__lte=at,
            trained_at__gt=at - retrain_every,
        )
        .order_by("-trained_at")
        .first()
    )


def trained_model_fit(
    *, series: TimeSeries, recipe: ModelRecipe, at: datetime, train_days: int | None = None
) -> TrainedModel:
    """Fit ``recipe`` on the values of ``series`` known at ``at`` (the last ``train_days`` days plus a week of lags)
    and persist it; older models of the same series and recipe beyond the newest :data:`KEEP_TRAINED` are deleted.

    Raises:
        ValueError: not enough history before ``at``.
    """
    days = recipe.train_days if train_days is None else train_days
    first = pd.Timestamp(at) - pd.Timedelta(days=days + 8)
    history = _history(series, first=first, issue_time=at, train_days=days)
    step = pd.Timedelta(seconds=series.resolution_s)
    model = recipe.build(_series_timezone(series), step, series)
    model.fit(history, fit_time=pd.Timestamp(at), train_days=days)
    with transaction.atomic():
        stored = TrainedModel.objects.create(
            series=series,
            model_name=recipe.model_name,
            model_version=recipe.model_version,
            trained_at=at,
            training_start=first.to_pydatetime(),
            training_end=at,
            artifact=pickle.dumps(model),
            metrics={"training_rows": int(getattr(model, "n_training_rows", 0)), "train_days": days},
        )
        older = TrainedModel.objects.filter(
            series=series, model_name=recipe.model_name, trained_at__lte=at
        ).order_by("-trained_at")[KEEP_TRAINED:]
        TrainedModel.objects.filter(pk__in=[m.pk for m in older]).delete()
    return stored


def _forecast(
    *,
    series: TimeSeries,
    recipe: ModelRecipe,
    issue_time: datetime,
    retrain_every: timedelta,
    train_days: int | None = None,
    max_lead: timedelta | None = None,
) -> ForecastRun:
    """Forecast ``series`` with ``recipe`` as known at ``issue_time`` and store the run (belief time =
    ``issue_time``): reuse the current trained model, or train and persist one. Intervals starting ``max_lead``
    or more after the issue time are not stored."""
    t0 = time.perf_counter()
    days = recipe.train_days if train_days is None else train_days
    stored = trained_model_current(series=series, recipe=recipe, at=issue_time, retrain_every=retrain_every)
    reused = stored is not None
    if stored is None:
        stored = trained_model_fit(series=series, recipe=recipe, at=issue_time, train_days=days)
    model = pickle.loads(bytes(stored.artifact))
    history = _history(
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
    return _forecast(
        series=_series(series_id),
        recipe=RECIPES[LOAD_MODEL_NAME],
        issue_time=issue_time,
        retrain_every=retrain_every,
        train_days=train_days,
    )


def forecast_intraday(
    *, series_id: int, issue_time: datetime, retrain_every: timedelta = RETRAIN_EVERY
) -> ForecastRun:
    """Intraday update of a load series: re-forecasts the next :data:`INTRADAY_MAX_LEAD` (the rest of today and
    the part of the day-ahead window within it) from the telemetry stored up to ``issue_time``, stored as a run of
    kind ``intraday`` whose belief time is ``issue_time``.

    The model (``forecasting.LoadForecaster`` on an ``IntradaySchedule``: trained on updates issued every 3 h, so
    lead times from one interval to two days, with the last known value and the 24 h before issue as features)
    is persisted and reused like the day-ahead one. :func:`~apps.forecasts.selectors.forecast_known_at` then
    returns, for each interval, the latest of the day-ahead run and the updates issued by a belief time.

    Raises:
        TimeSeries.DoesNotExist: unknown series.
        ValueError: fewer than :data:`TRAIN_DAYS` + 8 days of history before ``issue_time``, or ``issue_time``
            not timezone-aware.
    """
    if issue_time.tzinfo is None:
        raise ValueError("issue_time must be timezone-aware")
    return _forecast(
        series=_series(series_id),
        recipe=RECIPES[INTRADAY_MODEL_NAME],
        issue_time=issue_time,
        retrain_every=retrain_every,
        max_lead=INTRADAY_MAX_LEAD,
    )


def forecast_zone_day_ahead(
    *, series_id: int, issue_time: datetime, retrain_every: timedelta = RETRAIN_EVERY
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
    series = _series(series_id)
    if series.market_zone_id is None or series.quantity not in ZONE_RECIPES:
        raise ValueError(
            f"{series} is not a market zone's price or carbon-intensity series (quantity {series.quantity!r})"
        )
    return _forecast(
        series=series,
        recipe=RECIPES[ZONE_RECIPES[series.quantity]],
        issue_time=issue_time,
        retrain_every=retrain_every,
    )


def trained_models_retrain_stale(
    *, now: datetime, retrain_every: timedelta = RETRAIN_EVERY
) -> list[TrainedModel]:
    """Retrain, at ``now``, every (series, model) whose newest trained model is ``retrain_every`` old or older,
    so that the next forecast does not pay for the fit. Models trained after ``now`` (a replay rewound) are left
    alone. A series whose history has become too short is skipped (its next forecast raises instead).

    Returns the new models.
    """
    latest: dict[tuple[int, str], datetime] = {}
    for series_id, name, trained_at in TrainedModel.objects.filter(model_name__in=RECIPES).values_list(
        "series_id", "model_name", "trained_at"
    ):
        key = (series_id, name)
        latest[key] = max(latest.get(key, trained_at), trained_at)
    fresh = []
    for (series_id, name), trained_at in sorted(latest.items()):
        if trained_at > now or now - trained_at < retrain_every:
            continue
        try:
            fresh.append(trained_model_fit(series=_series(series_id), recipe=RECIPES[name], at=now))
        except ValueError:
            continue
    return fresh
