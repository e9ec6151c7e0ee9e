"""Fitted forecast models: the recipe of each kind of forecast, the history a model trains on, and the persisted
:class:`~apps.forecasts.models.TrainedModel` rows every worker reads (the database is the shared model store, so
any worker can forecast any series; nothing is cached in process memory).

Split from :mod:`apps.forecasts.services` (issue #20: no module over 400 lines); the services re-export these
names, so ``from apps.forecasts.services import RECIPES, trained_model_fit`` keeps working.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from django.db import transaction

from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import timeseries_get_with_owner

from .choices import RunKind
from .models import TrainedModel

LOAD_MODEL_NAME = "gbm_load"
LOAD_MODEL_VERSION = "1"
INTRADAY_MODEL_NAME = "gbm_load_intraday"
ENSEMBLE_MODEL_NAME = "ensemble_load"
#: The least history (days, plus a week for lag features) a model trains on; it trains on all the history the
#: series has up to :data:`MAX_TRAIN_DAYS` (issue #21), and predictions read this many days.
TRAIN_DAYS = 21
#: Two years: the longest history a model trains on.
MAX_TRAIN_DAYS = 730
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


def _build_ensemble_load(tz: str, step: pd.Timedelta, series: TimeSeries) -> Any:
    from forecasting import DayAheadSchedule, load_ensemble

    return load_ensemble(DayAheadSchedule(tz=tz, freq=step), exclude_features=("day_of_year",))


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
    ENSEMBLE_MODEL_NAME: ModelRecipe(
        ENSEMBLE_MODEL_NAME, "1", RunKind.DAY_AHEAD, TRAIN_DAYS, _build_ensemble_load
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


def series_get(series_id: int) -> TimeSeries:
    """The series with the site, battery, PV array and zone its timezone is read from.

    Raises:
        TimeSeries.DoesNotExist: unknown series.
    """
    return timeseries_get_with_owner(series_id=series_id)


def history_days(series: TimeSeries, *, at: datetime, least: int = TRAIN_DAYS) -> int:
    """Days of history a model of ``series`` fitted at ``at`` trains on: all it has before the lag week, between
    ``least`` and :data:`MAX_TRAIN_DAYS` (two years)."""
    from apps.telemetry.selectors import timeseries_extent

    first, _, _ = timeseries_extent(series=series)
    if first is None:
        return least
    available = int((pd.Timestamp(at) - pd.Timestamp(first)) / pd.Timedelta(days=1)) - 8
    return max(least, min(available, MAX_TRAIN_DAYS))


def series_history(
    series: TimeSeries, *, first: pd.Timestamp, issue_time: datetime, train_days: int
) -> pd.Series:
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
    """Fit ``recipe`` on the values of ``series`` known at ``at`` (the last ``train_days`` days plus a week of lags;
    all the history the series has, up to two years, when None: :func:`history_days`) and persist it; older
    models of the same series and recipe beyond the newest :data:`KEEP_TRAINED` are deleted.

    Raises:
        ValueError: not enough history before ``at``.
    """
    days = history_days(series, at=at, least=recipe.train_days) if train_days is None else train_days
    first = pd.Timestamp(at) - pd.Timedelta(days=days + 8)
    history = series_history(series, first=first, issue_time=at, train_days=days)
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


def trained_models_stale(*, now: datetime, retrain_every: timedelta = RETRAIN_EVERY) -> list[tuple[int, str]]:
    """``(series id, model name)`` of every persisted model whose newest fit is ``retrain_every`` old or older at
    ``now``, sorted; models trained after ``now`` (a replay rewound) are not stale. One query."""
    latest: dict[tuple[int, str], datetime] = {}
    for series_id, name, trained_at in TrainedModel.objects.filter(model_name__in=RECIPES).values_list(
        "series_id", "model_name", "trained_at"
    ):
        key = (series_id, name)
        latest[key] = max(latest.get(key, trained_at), trained_at)
    return sorted(
        key for key, trained_at in latest.items() if trained_at <= now and now - trained_at >= retrain_every
    )


def trained_model_retrain(
    *, series_id: int, model_name: str, at: datetime, retrain_every: timedelta = RETRAIN_EVERY
) -> TrainedModel | None:
    """Retrain one series' ``model_name`` at ``at`` unless a model less than ``retrain_every`` old exists
    already (so a duplicate message, or a second worker, does not fit it again); returns the new model, or None
    when it was fresh or the history has become too short (its next forecast raises instead).

    Raises:
        KeyError: unknown model name.
        TimeSeries.DoesNotExist: unknown series.
    """
    recipe = RECIPES[model_name]
    series = series_get(series_id)
    if trained_model_current(series=series, recipe=recipe, at=at, retrain_every=retrain_every) is not None:
        return None
    try:
        return trained_model_fit(series=series, recipe=recipe, at=at)
    except ValueError:
        return None


def trained_models_retrain_stale(
    *, now: datetime, retrain_every: timedelta = RETRAIN_EVERY
) -> list[TrainedModel]:
    """Retrain, at ``now``, every (series, model) whose newest trained model is ``retrain_every`` old or older,
    so that the next forecast does not pay for the fit (in this process; the beat fans the same work out per
    series with :func:`trained_models_stale` and :func:`trained_model_retrain`). Models trained after ``now``
    (a replay rewound) are left alone. A series whose history has become too short is skipped.

    Returns the new models.
    """
    fresh = []
    for series_id, name in trained_models_stale(now=now, retrain_every=retrain_every):
        model = trained_model_retrain(
            series_id=series_id, model_name=name, at=now, retrain_every=retrain_every
        )
        if model is not None:
            fresh.append(model)
    return fresh
