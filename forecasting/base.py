"""Shared machinery of the gradient-boosting forecasters: training origins, design matrices, fit and predict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.features import Grid, origin_rows
from forecasting.quantiles import GBMParams, QuantileModel
from forecasting.schedule import DayAheadSchedule, Origin, Schedule
from forecasting.timeseries import check_frame, check_series

QUANTILE_COLUMNS = ["p10", "p50", "p90"]


@dataclass(frozen=True)
class Design:
    """A design matrix: ``x`` (n, k) with ``names``; the model target is ``value / scale``; ``weight`` (n,) or None;
    ``zero`` marks rows forced to exactly 0 (PV at night); rows with ``scale < min_train_scale`` are not trained on."""

    x: np.ndarray
    names: tuple[str, ...]
    scale: np.ndarray
    weight: np.ndarray | None
    zero: np.ndarray
    min_train_scale: float = 0.0


def to_utc_timestamp(value, *, name: str = "issue_time") -> pd.Timestamp:
    """A tz-aware timestamp converted to UTC.

    Raises:
        ValueError: naive timestamp.
    """
    ts = pd.Timestamp(value)
    if ts.tz is None:
        raise ValueError(f"{name} {value!r} is naive; pass a timezone-aware timestamp")
    return ts.tz_convert("UTC")


class GridForecaster:
    """Base class: day-ahead quantile forecaster on a regular grid (subclasses define :meth:`_design`).

    Args:
        schedule: issue time, horizon, grid step and local time zone.
        quantile_method: ``"quantile"`` (three pinball-loss models) or ``"residual"`` (p50 + residual quantiles).
        params: gradient-boosting hyper-parameters.
        weather_max_gap: weather samples further than this from a grid point are treated as missing.
    """

    name = "gbm"
    version = "1"

    def __init__(
        self,
        schedule: Schedule | None = None,
        *,
        quantile_method: str = "quantile",
        params: GBMParams | None = None,
        weather_max_gap: pd.Timedelta | str = "PT3H",
    ):
        self.schedule = schedule or DayAheadSchedule()
        self.model = QuantileModel(params, method=quantile_method)
        self.weather_max_gap = pd.Timedelta(weather_max_gap)
        self.history: pd.Series | None = None
        self.weather: pd.DataFrame | None = None
        self.feature_names: tuple[str, ...] = ()
        self.fit_time: pd.Timestamp | None = None
        self.n_training_rows = 0
        self._target_bounds: tuple[float | None, float | None] = (None, None)

    # -- hooks -----------------------------------------------------------------------------------------------
    def _design(self, grid: Grid, rows: dict[str, np.ndarray], weather: pd.DataFrame | None) -> Design:
        raise NotImplementedError

    def _prepare_weather(self, weather: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if weather is None else check_frame(weather)

    # -- public API ------------------------------------------------------------------------------------------
    def training_origins(
        self, history: pd.Series, fit_time: pd.Timestamp, train_days: int | None = None
    ) -> list[Origin]:
        """Day-ahead origins whose whole delivery window ended by ``fit_time`` (so targets are known), starting
        8 days after the first value (so a week of lags exists), limited to the last ``train_days`` days."""
        tz = self.schedule.tz
        first = (history.index[0].tz_convert(tz) + pd.Timedelta(days=8)).date()
        last = fit_time.tz_convert(tz).date()
        if train_days is not None:
            first = max(first, last - dt.timedelta(days=int(train_days)))
        origins = [
            o
            for o in self.schedule.origins(first, last)
            if o.target_index[-1] + self.schedule.step <= fit_time
        ]
        if not origins:
            raise ValueError(
                f"not enough history to train: need more than 8 days of data before {fit_time} "
                f"(history starts {history.index[0]})"
            )
        return origins

    def fit(
        self,
        history: pd.Series,
        weather: pd.DataFrame | None = None,
        *,
        fit_time: pd.Timestamp | None = None,
        train_days: int | None = None,
    ) -> GridForecaster:
        """Fit on ``history`` (values on a UTC grid at ``schedule.freq``) known at ``fit_time``.

        Only values whose interval ended by ``fit_time`` are used (default: all of ``history``); training samples
        are the day-ahead forecasts that could have been issued and verified by then, over the last
        ``train_days`` days (all when None). ``weather`` (UTC-indexed numeric columns, any step) gives the
        weather at each target interval — a perfect-forecast proxy when it holds observations or reanalysis.

        Returns ``self``.

        Raises:
            ValueError: invalid series (naive timestamps, irregular or wrong step) or too little history.
        """
        series = check_series(history, name="history", freq=self.schedule.step)
        step = self.schedule.step
        fit_time = (
            series.index[-1] + step if fit_time is None else to_utc_timestamp(fit_time, name="fit_time")
        )
        series = series[series.index + step <= fit_time]
        if len(series) < 2:
            raise ValueError(f"history has no value known at fit time {fit_time}")
        series.index.freq = step
        prepared = self._prepare_weather(weather)
        origins = self.training_origins(series, fit_time, train_days)
        grid = Grid(series)
        rows = origin_rows(grid, origins)
        design = self._design(grid, rows, prepared)
        pos = rows["pos"]
        actual = np.where(pos < grid.values.size, grid.values[np.minimum(pos, grid.values.size - 1)], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            unusable = design.zero | ~(design.scale > 0) | (design.scale < design.min_train_scale)
            target = np.where(unusable, np.nan, actual / design.scale)
        if self._target_bounds != (None, None):
            target = np.clip(target, *self._target_bounds)
        self.model.fit(design.x, target, design.weight)
        self.feature_names = design.names
        self.history, self.weather, self.fit_time = series, prepared, fit_time
        self.n_training_rows = int(np.isfinite(target).sum())
        return self

    def predict_origins(
        self,
        origins: Sequence[Origin],
        *,
        history: pd.Series | None = None,
        weather: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecasts for many origins at once; each uses only values known at its own issue time.

        Returns a DataFrame indexed by target interval start (UTC), columns ``issue_time``, p10, p50, p90 (units of
        the series). Rows of different origins may share a target time only if the origins overlap.
        """
        if not self.model.models:
            raise ValueError("forecaster is not fitted; call fit() first")
        series = (
            self.history
            if history is None
            else check_series(history, name="history", freq=self.schedule.step)
        )
        assert series is not None
        # Only the recent past feeds the features (lags reach back at most 15 days + the lead time): slicing keeps
        # a single day-ahead forecast fast on years of history.
        first_issue = min(o.issue_time for o in origins)
        last_target = max(o.target_index[-1] for o in origins)
        lookback = pd.Timedelta(days=28) + (last_target - first_issue)
        series = series[first_issue - lookback :]
        if len(series) < 2:
            raise ValueError(
                f"history has no value in the {lookback} before the first issue time {first_issue}"
            )
        series.index.freq = self.schedule.step
        if weather is None:
            prepared = self.weather
        else:
            window = weather
            if isinstance(weather.index, pd.DatetimeIndex) and weather.index.tz is not None:
                # weather features reach back 7 days before issue (+ the 24-h means) and to the lag day
                lo = first_issue - pd.Timedelta(days=10) - (last_target - first_issue)
                hi = last_target + pd.Timedelta(days=2)
                window = weather[(weather.index >= lo) & (weather.index <= hi)]
            prepared = self._prepare_weather(window)
        grid = Grid(series)
        rows = origin_rows(grid, origins)
        design = self._design(grid, rows, prepared)
        q = self.model.predict(design.x) * design.scale[:, None]
        q = self._postprocess(q, design)
        index = pd.DatetimeIndex(pd.to_datetime(rows["target_ns"], utc=True), name="start")
        issue = np.array([o.issue_time for o in origins], dtype=object)[rows["origin"]]
        frame = pd.DataFrame(q, index=index, columns=QUANTILE_COLUMNS)
        frame.insert(0, "issue_time", pd.to_datetime(list(issue), utc=True))
        return frame

    def predict(
        self,
        issue_time,
        horizon_index: pd.DatetimeIndex | None = None,
        *,
        history: pd.Series | None = None,
        weather: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Forecast issued at ``issue_time`` (tz-aware) for the intervals ``horizon_index`` (UTC grid labels).

        ``horizon_index`` defaults to the schedule's window for that issue time (:meth:`origin_at`: the next local
        day for a :class:`DayAheadSchedule`, the rest of today and tomorrow for an ``IntradaySchedule``). ``history`` defaults
        to the fitted history and may be newer; values not yet ended at ``issue_time`` are ignored.

        Returns a DataFrame indexed by ``horizon_index`` with float columns p10 ≤ p50 ≤ p90.

        Raises:
            ValueError: naive issue time, horizon not on the grid or starting before the issue time.
        """
        issue = to_utc_timestamp(issue_time)
        if horizon_index is None:
            horizon_index = self.schedule.origin_at(issue).target_index
        horizon_index = pd.DatetimeIndex(horizon_index)
        if horizon_index.tz is None:
            raise ValueError("horizon_index has naive timestamps; pass UTC timestamps")
        horizon_index = horizon_index.tz_convert("UTC")
        out = self.predict_origins([Origin(issue, horizon_index)], history=history, weather=weather)
        return out[QUANTILE_COLUMNS]

    def _postprocess(self, q: np.ndarray, design: Design) -> np.ndarray:
        q = np.where(design.zero[:, None], 0.0, q)
        return q
