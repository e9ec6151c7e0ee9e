"""Never worse than a baseline: per-series model selection by a rolling backtest on recent validation days.

Protocol (issue #21): the candidates are the gradient-boosting model(s) and three baselines (the 7-day profile,
seasonal naive, persistence, :mod:`forecasting.baselines`). Each is scored on the last ``validation_days``
local delivery days whose targets are all known at ``at``, forecast day-ahead as the product forecasts (issued on
D-1 at the schedule's issue time, from values known then); a model is refitted every ``refit_days`` delivery
days on all the history before the fit time, up to ``max_train_days`` (two years). The candidate with the lowest
MAE wins. When a model loses to a baseline over the validation window (the last 14 days by default), the series
switches to that baseline: a series is never forecast worse than its best baseline was recently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecasting import baselines
from forecasting.features import Grid, origin_rows
from forecasting.metrics import mae
from forecasting.schedule import DayAheadSchedule, Origin
from forecasting.timeseries import check_series

#: The point baselines a model must beat, by name.
BASELINES = ("profile_7d", "seasonal_naive", "persistence")
#: Two years: the longest history a model trains on (issue #21).
MAX_TRAIN_DAYS = 730
#: Days a model needs before its first origin (a week of lag features and a day of margin).
LAG_DAYS = 8


def profile_7d(series: pd.Series, origins: list[Origin], *, days: int = 7) -> pd.Series:
    """The 7-day profile: mean of the same time of day over the ``days`` latest days fully known at issue (NaN
    days skipped). Same row layout as :func:`forecasting.baselines.persistence`."""
    grid = Grid(check_series(series))
    rows = origin_rows(grid, origins)
    spd = grid.steps_per_day
    k = -(-(rows["end"] - rows["known"]) // spd)
    stack = np.vstack([grid.take(rows["pos"] - (k + j) * spd, rows["known"]) for j in range(days)])
    count = np.isfinite(stack).sum(axis=0)
    values = np.where(count > 0, np.nansum(stack, axis=0) / np.maximum(count, 1), np.nan)
    index = pd.DatetimeIndex(pd.to_datetime(rows["target_ns"], utc=True), name="start")
    return pd.Series(values, index=index, name="profile_7d")


def baseline_forecast(name: str, series: pd.Series, origins: list[Origin]) -> pd.Series:
    """Point forecast of baseline ``name`` (one of :data:`BASELINES`) for ``origins``.

    Raises:
        ValueError: unknown baseline.
    """
    if name == "profile_7d":
        return profile_7d(series, origins)
    if name == "seasonal_naive":
        return baselines.seasonal_naive(series, origins)
    if name == "persistence":
        return baselines.persistence(series, origins)
    raise ValueError(f"unknown baseline {name!r}; expected one of {', '.join(BASELINES)}")


@dataclass(frozen=True)
class Selection:
    """Outcome of :func:`select_model`.

    Attributes:
        winner: name of the candidate with the lowest validation MAE.
        mae: validation MAE of every candidate that could be scored (series unit), by name; a model that failed
            to fit is absent and named in ``failed``.
        validation_start, validation_end: first and last local delivery day scored.
        train_days: days of history the model fits used (all history before the fit, at most two years).
        intervals: number of intervals scored (the same ones for every candidate).
        switched: True when a baseline won over every model: forecasts use that baseline.
        reason: one sentence saying which won and by how much.
        failed: models that could not be fitted, with the error.
        residual_band: per candidate, the 10th and 90th percentiles of actual − forecast over the validation
            intervals (series unit): a point baseline's p10/p90 are its p50 plus these.
    """

    winner: str
    mae: dict[str, float]
    validation_start: str
    validation_end: str
    train_days: int
    intervals: int
    switched: bool
    reason: str
    failed: dict[str, str]
    residual_band: dict[str, tuple[float, float]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the selection)."""
        return {
            "winner": self.winner,
            "mae": self.mae,
            "validation_start": self.validation_start,
            "validation_end": self.validation_end,
            "train_days": self.train_days,
            "intervals": self.intervals,
            "switched": self.switched,
            "reason": self.reason,
            "failed": self.failed,
            "residual_band": {k: list(v) for k, v in self.residual_band.items()},
        }


def training_days_available(
    series: pd.Series, fit_time: pd.Timestamp, *, max_days: int = MAX_TRAIN_DAYS
) -> int:
    """Days of history a model fitted at ``fit_time`` can train on: all of it before the lag week, at most
    ``max_days``; 0 when there is less than the lag week."""
    first = series.dropna().index.min()
    if pd.isna(first):
        return 0
    days = int((fit_time - first) / pd.Timedelta(days=1)) - LAG_DAYS
    return max(0, min(days, max_days))


def validation_origins(schedule: DayAheadSchedule, at: pd.Timestamp, days: int) -> list[Origin]:
    """The day-ahead origins of the last ``days`` local delivery days whose whole window ended by ``at``."""
    last = (at.tz_convert(schedule.tz) - pd.Timedelta(days=1)).date()
    origins = schedule.origins(last - pd.Timedelta(days=days + 1), last)
    done = [o for o in origins if o.target_index[-1] + schedule.step <= at]
    return done[-days:]


def _model_forecasts(
    build: Callable[[], Any], series: pd.Series, origins: list[Origin], refit_days: int, max_train_days: int
) -> tuple[np.ndarray, int]:
    """p50 of a model refitted every ``refit_days`` origins on all history known at the first one (≤ two years)."""
    parts, used = [], 0
    for first in range(0, len(origins), refit_days):
        block = origins[first : first + refit_days]
        fit_time = block[0].issue_time
        days = training_days_available(series, fit_time, max_days=max_train_days)
        model = build().fit(series, fit_time=fit_time, train_days=days)
        used = max(used, days)
        parts.append(model.predict_origins(block, history=series)["p50"].to_numpy(float))
    return np.concatenate(parts), used


def select_model(
    series: pd.Series,
    *,
    schedule: DayAheadSchedule,
    models: Mapping[str, Callable[[], Any]],
    at: pd.Timestamp,
    validation_days: int = 14,
    refit_days: int = 7,
    max_train_days: int = MAX_TRAIN_DAYS,
    progress: Callable[[str, int, int], None] | None = None,
) -> Selection:
    """Score every model of ``models`` (name → a builder of an unfitted forecaster with ``fit``/``predict_origins``
    on ``schedule``) and every baseline of :data:`BASELINES` on the last ``validation_days`` delivery days before
    ``at``, and pick the lowest MAE (see the module docstring for the protocol).

    ``series`` must hold values only up to ``at`` (what is known then); ``progress(stage, done, total)`` is
    called after each candidate.

    Raises:
        ValueError: fewer than 2 validation days with known targets, or no interval every candidate scored.
    """
    at = pd.Timestamp(at).tz_convert("UTC")
    series = check_series(series, name="series", freq=schedule.step)
    series = series[series.index + schedule.step <= at]
    origins = validation_origins(schedule, at, validation_days)
    if len(origins) < 2:
        raise ValueError(f"need at least 2 validation days before {at}, got {len(origins)}")
    rows = origin_rows(Grid(series), origins)
    index = pd.DatetimeIndex(pd.to_datetime(rows["target_ns"], utc=True))
    actual = series.reindex(index).to_numpy(float)
    points: dict[str, np.ndarray] = {}
    failed: dict[str, str] = {}
    total, train_days = len(models) + len(BASELINES), 0
    for done, (name, build) in enumerate(models.items(), start=1):
        try:
            points[name], used = _model_forecasts(build, series, origins, refit_days, max_train_days)
            train_days = max(train_days, used)
        except ValueError as error:
            failed[name] = str(error)
        if progress:
            progress(name, done, total)
    for done, name in enumerate(BASELINES, start=len(models) + 1):
        points[name] = baseline_forecast(name, series, origins).to_numpy(float)
        if progress:
            progress(name, done, total)
    keep = np.isfinite(actual) & np.all([np.isfinite(p) for p in points.values()], axis=0)
    if not keep.any():
        raise ValueError("no validation interval with an actual value and every candidate's forecast")
    scores = {name: mae(actual[keep], p[keep]) for name, p in points.items()}
    band = {
        name: (
            float(np.quantile(actual[keep] - p[keep], 0.1)),
            float(np.quantile(actual[keep] - p[keep], 0.9)),
        )
        for name, p in points.items()
    }
    winner = min(scores, key=lambda n: (scores[n], n in models))  # a tie goes to the baseline
    return Selection(
        winner=winner,
        mae=scores,
        validation_start=str(origins[0].target_index[0].tz_convert(schedule.tz).date()),
        validation_end=str(origins[-1].target_index[0].tz_convert(schedule.tz).date()),
        train_days=train_days,
        intervals=int(keep.sum()),
        switched=winner in BASELINES,
        reason=_reason(winner, scores, models, len(origins)),
        failed=failed,
        residual_band=band,
    )


def _reason(winner: str, scores: dict[str, float], models: Mapping[str, Any], days: int) -> str:
    best_baseline = min(BASELINES, key=lambda n: scores[n])
    modelled = [n for n in scores if n in models]
    if winner in BASELINES:
        if not modelled:
            return f"{winner} chosen: no model could be fitted (validation MAE {scores[winner]:.4g} over {days} days)"
        best_model = min(modelled, key=lambda n: scores[n])
        return (
            f"switched to the baseline {winner}: the model {best_model} lost to it over the last {days} days "
            f"(validation MAE {scores[best_model]:.4g} vs {scores[winner]:.4g})"
        )
    return (
        f"{winner} chosen: validation MAE {scores[winner]:.4g} over the last {days} days vs "
        f"{scores[best_baseline]:.4g} for the best baseline, {best_baseline}"
    )
