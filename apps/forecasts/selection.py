"""Never worse than a baseline (issue #21): choose, per series, the model that forecasts it, and forecast with a
baseline where the model lost to it.

:func:`model_selection_run` scores the series' models (the GBM and the ensemble for a load series, the zone
model for a price or carbon series) and the baselines (7-day profile, seasonal naive, persistence) on the last
14 delivery days known at the selection time (:func:`forecasting.selection.select_model`) and stores the outcome
(:class:`~apps.forecasts.models.ModelSelection`), its progress updated per candidate so the admin shows it.
The day-ahead services then forecast with the winner (:func:`recipe_selected`); a baseline's forecast is its
point value with p10/p90 from its validation residuals (:func:`baseline_forecast_store`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from apps.telemetry.models import TimeSeries

from .choices import RunKind, RunStatus
from .models import ForecastRun, ModelSelection
from .selectors import model_selection_current
from .training import (
    ENSEMBLE_MODEL_NAME,
    LOAD_MODEL_NAME,
    MAX_TRAIN_DAYS,
    RECIPES,
    TRAIN_DAYS,
    ZONE_RECIPES,
    ModelRecipe,
    _series_timezone,
    series_get,
    series_history,
)

#: Validation days of a selection: a model that loses to a baseline over these switches to it.
VALIDATION_DAYS = 14


def _no_model(tz: str, step: pd.Timedelta, series: TimeSeries) -> Any:
    raise ValueError("a baseline has no model to build")


#: Pseudo-recipes of the baselines, so that their forecasts are claimed and stored like a model's.
BASELINE_RECIPES: dict[str, ModelRecipe] = {
    name: ModelRecipe(name, "1", RunKind.DAY_AHEAD, TRAIN_DAYS, _no_model)
    for name in ("profile_7d", "seasonal_naive", "persistence")
}


def recipe_selected(*, series: TimeSeries, at: datetime, default: ModelRecipe) -> ModelRecipe:
    """The recipe of the current selection's winner for ``series`` at ``at``; ``default`` without one."""
    selection = model_selection_current(series=series, at=at)
    if selection is None:
        return default
    return BASELINE_RECIPES.get(selection.winner) or RECIPES.get(selection.winner) or default


def _candidates(series: TimeSeries) -> dict[str, Callable[[], Any]]:
    """Builders of the unfitted models a selection of ``series`` scores, by recipe name."""
    tz, step = _series_timezone(series), pd.Timedelta(seconds=series.resolution_s)
    names = (
        [ZONE_RECIPES[series.quantity]]
        if series.market_zone_id is not None and series.quantity in ZONE_RECIPES
        else [LOAD_MODEL_NAME, ENSEMBLE_MODEL_NAME]
    )

    def builder(recipe: ModelRecipe) -> Callable[[], Any]:
        return lambda: recipe.build(tz, step, series)

    return {name: builder(RECIPES[name]) for name in names}


def model_selection_run(
    *, series_id: int, at: datetime, validation_days: int = VALIDATION_DAYS
) -> ModelSelection:
    """Select the model of series ``series_id`` at ``at`` and store the outcome (see the module docstring);
    idempotent per series and time: a selection that succeeded already is returned as it is.

    A selection that cannot be made (too little history) is stored as failed with the error, and returned.

    Raises:
        TimeSeries.DoesNotExist: unknown series.
    """
    from forecasting import DayAheadSchedule
    from forecasting.selection import select_model

    series = series_get(series_id)
    row, _ = ModelSelection.objects.get_or_create(series=series, selected_at=at)
    if row.status == RunStatus.SUCCEEDED:
        return row
    ModelSelection.objects.filter(pk=row.pk).update(status=RunStatus.RUNNING, progress_pct=0.0, error="")
    schedule = DayAheadSchedule(tz=_series_timezone(series), freq=pd.Timedelta(seconds=series.resolution_s))

    def progress(stage: str, done: int, total: int) -> None:
        ModelSelection.objects.filter(pk=row.pk).update(stage=stage, progress_pct=100.0 * done / total)

    try:
        first = pd.Timestamp(at) - pd.Timedelta(days=MAX_TRAIN_DAYS + 8)
        history = series_history(series, first=first, issue_time=at, train_days=0)
        result = select_model(
            history.loc[history.first_valid_index() :],
            schedule=schedule,
            models=_candidates(series),
            at=pd.Timestamp(at),
            validation_days=validation_days,
            progress=progress,
        )
    except ValueError as error:
        ModelSelection.objects.filter(pk=row.pk).update(status=RunStatus.FAILED, error=str(error)[:5000])
        row.refresh_from_db()
        return row
    ModelSelection.objects.filter(pk=row.pk).update(
        status=RunStatus.SUCCEEDED,
        progress_pct=100.0,
        stage="done",
        winner=result.winner,
        switched=result.switched,
        reason=result.reason,
        train_days=result.train_days,
        scores=result.as_dict(),
    )
    row.refresh_from_db()
    return row


def baseline_forecast_store(*, series: TimeSeries, name: str, issue_time: datetime) -> ForecastRun:
    """Day-ahead forecast of ``series`` by baseline ``name`` issued at ``issue_time``, stored as a run of model
    ``name``: p50 the baseline (:func:`forecasting.selection.baseline_forecast`), p10/p90 the p50 plus the 10th
    and 90th percentiles of its residuals on the selection's validation days (0 without a selection).

    Raises:
        ValueError: too little history, or the baseline is unknown at some target interval.
    """
    from forecasting import DayAheadSchedule
    from forecasting.selection import baseline_forecast

    from .services import RunSpec, forecast_run_store

    schedule = DayAheadSchedule(tz=_series_timezone(series), freq=pd.Timedelta(seconds=series.resolution_s))
    first = pd.Timestamp(issue_time) - pd.Timedelta(days=TRAIN_DAYS + 8)
    history = series_history(series, first=first, issue_time=issue_time, train_days=TRAIN_DAYS)
    origin = schedule.origin_at(pd.Timestamp(issue_time))
    p50 = baseline_forecast(name, history.asfreq(schedule.step), [origin])
    if p50.isna().any():
        raise ValueError(f"the {name} baseline of {series} is unknown at {int(p50.isna().sum())} interval(s)")
    selection = model_selection_current(series=series, at=issue_time)
    band = (selection.scores.get("residual_band", {}) if selection else {}).get(name, [0.0, 0.0])
    values = pd.DataFrame({"p10": p50 + band[0], "p50": p50, "p90": p50 + band[1]}, index=p50.index)
    spec = RunSpec(
        model_name=name,
        model_version="1",
        issued_at=issue_time,
        kind=RunKind.DAY_AHEAD,
        metrics={"selection": selection.reason} if selection else {},
    )
    return forecast_run_store(series=series, spec=spec, values=values)
