"""Rolling-origin backtest of a forecaster against the baselines, with no look-ahead.

For each local delivery day D in ``[start, end]`` the forecast is issued at the schedule's issue time on D-1.
The model is refitted every ``refit_days`` delivery days, at the issue time of the first forecast of the block,
on the ``train_days`` before it; a forecast therefore depends only on data known at its issue time (the fit
truncates the history at the fit time and every lagged feature is masked at the issue time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting import baselines
from forecasting.base import GridForecaster
from forecasting.ensemble import EnsembleForecaster
from forecasting.metrics import Scores, score, skill
from forecasting.timeseries import check_series


@dataclass(frozen=True)
class BacktestResult:
    """Outcome of :func:`run_backtest`.

    Attributes:
        forecasts: one row per target interval (UTC index): issue_time, actual, p10, p50, p90 and one column per
            baseline (persistence, seasonal_naive and, for PV, smart_persistence).
        scores: :class:`~forecasting.metrics.Scores` per forecast name ("model" and each baseline), computed on the
            intervals where the actual and every forecast are known (and, for PV, the sun is up).
        n_forecasts: number of issued forecasts (origins).
        n_fits: number of model fits.
        fit_seconds: total wall-clock seconds spent fitting.
        predict_seconds: total wall-clock seconds spent predicting (all origins).
    """

    forecasts: pd.DataFrame
    scores: dict[str, Scores]
    n_forecasts: int
    n_fits: int
    fit_seconds: float
    predict_seconds: float
    kind: str = "load"
    notes: tuple[str, ...] = field(default=())

    def skill(self, metric: str, baseline: str) -> float:
        """1 − model metric / baseline metric, e.g. ``skill("mae", "seasonal_naive")``."""
        return skill(getattr(self.scores["model"], metric), getattr(self.scores[baseline], metric))

    def contract_json(self) -> dict:
        """The JSON document of the CLI contract (issue 4)."""
        out: dict = {name: s.contract_dict() for name, s in self.scores.items()}
        out["skill_mae_vs_seasonal_naive"] = self.skill("mae", "seasonal_naive")
        if "smart_persistence" in self.scores:
            out["skill_rmse_vs_smart_persistence"] = self.skill("rmse", "smart_persistence")
        out["n_forecasts"] = self.n_forecasts
        out["fit_seconds"] = round(self.fit_seconds, 3)
        return out

    def table(self) -> str:
        """A plain-text table of the scores, one line per forecast."""
        head = f"{'forecast':<18}{'MAE':>12}{'RMSE':>12}{'MAPE %':>9}{'nMAE %':>9}{'nRMSE %':>9}{'pinball':>12}{'peak %':>8}"
        lines = [head, "-" * len(head)]
        for name, s in self.scores.items():
            lines.append(
                f"{name:<18}{s.mae:>12.4g}{s.rmse:>12.4g}{s.mape_pct:>9.2f}{s.nmae_pct:>9.2f}{s.nrmse_pct:>9.2f}"
                f"{s.pinball:>12.4g}{s.peak_error_pct:>8.2f}"
            )
        lines.append(f"skill MAE vs seasonal naive: {self.skill('mae', 'seasonal_naive'):+.3f}")
        if "smart_persistence" in self.scores:
            lines.append(f"skill RMSE vs smart persistence: {self.skill('rmse', 'smart_persistence'):+.3f}")
        lines.append(
            f"forecasts: {self.n_forecasts}, fits: {self.n_fits}, fit seconds: {self.fit_seconds:.2f}, "
            f"predict seconds: {self.predict_seconds:.2f}"
        )
        lines.extend(self.notes)
        return "\n".join(lines)


def run_backtest(
    forecaster: GridForecaster | EnsembleForecaster,
    series: pd.Series,
    *,
    start,
    end,
    weather: pd.DataFrame | None = None,
    weather_forecast: pd.DataFrame | None = None,
    train_days: int | None = 365,
    refit_days: int = 7,
    clear_sky: pd.Series | None = None,
    capacity: float | None = None,
) -> BacktestResult:
    """Rolling-origin day-ahead backtest over local delivery days ``start`` .. ``end`` (inclusive).

    Args:
        forecaster: a :class:`~forecasting.base.GridForecaster` (refitted in place).
        series: actual values on the schedule's grid (UTC); must cover the training window and the test days.
        weather: weather used for training (observations/reanalysis).
        weather_forecast: weather used at prediction time (defaults to ``weather``: perfect-forecast assumption).
        train_days: trailing training window in days (None = all history before the fit time).
        refit_days: refit cadence in delivery days (1 = refit before every forecast).
        clear_sky: clear-sky power on the grid (PV): enables smart persistence and daytime-only scoring.
        capacity: normaliser of nMAE/nRMSE (PV capacity); the mean actual when None.

    Raises:
        ValueError: bad series, empty period, refit_days < 1, or no interval left to score.
    """
    if refit_days < 1:
        raise ValueError(f"refit_days must be >= 1, got {refit_days}")
    schedule = forecaster.schedule
    series = check_series(series, name="series", freq=schedule.step)
    origins = schedule.origins(start, end)
    if not origins:
        raise ValueError(f"no delivery day between {start} and {end}")
    frame, fit_seconds, predict_seconds, n_fits = _rolling_forecasts(
        forecaster, series, origins, weather, weather_forecast, train_days, refit_days
    )
    kind, mape_floor = _add_baselines(frame, series, origins, clear_sky, capacity)
    names = [c for c in ("persistence", "seasonal_naive", "smart_persistence") if c in frame]
    mask = frame[["actual", "p10", "p50", "p90", *names]].notna().all(axis=1)
    notes = []
    if kind == "pv":
        mask &= frame["clear_sky"] > 0
        notes.append(
            "PV scores over daytime intervals (clear-sky power > 0); MAPE over actual > 5 % of capacity"
        )
    scored = frame[mask]
    if scored.empty:
        raise ValueError("no interval with an actual value and every forecast to score")
    scores = {
        name: score(
            scored["actual"],
            scored[["p10", "p50", "p90"]] if name == "model" else scored[name],
            normaliser=capacity,
            tz=schedule.tz,
            mape_min_abs_actual=mape_floor,
        )
        for name in ("model", *names)
    }
    return BacktestResult(
        forecasts=frame,
        scores=scores,
        n_forecasts=len(origins),
        n_fits=n_fits,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        kind=kind,
        notes=tuple(notes),
    )


def _rolling_forecasts(
    forecaster: GridForecaster | EnsembleForecaster,
    series: pd.Series,
    origins: list,
    weather: pd.DataFrame | None,
    weather_forecast: pd.DataFrame | None,
    train_days: int | None,
    refit_days: int,
) -> tuple[pd.DataFrame, float, float, int]:
    """The model's forecasts for every origin, refitted every ``refit_days`` origins at the first one's issue
    time: (forecast frame, fit seconds, predict seconds, number of fits)."""
    parts, fit_seconds, predict_seconds, n_fits = [], 0.0, 0.0, 0
    for first in range(0, len(origins), refit_days):
        block = origins[first : first + refit_days]
        t0 = time.perf_counter()
        forecaster.fit(series, weather, fit_time=block[0].issue_time, train_days=train_days)
        t1 = time.perf_counter()
        parts.append(
            forecaster.predict_origins(
                block, history=series, weather=weather if weather_forecast is None else weather_forecast
            )
        )
        predict_seconds += time.perf_counter() - t1
        fit_seconds += t1 - t0
        n_fits += 1
    return pd.concat(parts), fit_seconds, predict_seconds, n_fits


def _add_baselines(
    frame: pd.DataFrame, series: pd.Series, origins: list, clear_sky: pd.Series | None, capacity: float | None
) -> tuple[str, float]:
    """Add the actual and the baseline columns to ``frame`` in place; returns (kind, MAPE floor): ``"pv"``
    with smart persistence and a floor of 5 % of capacity when ``clear_sky`` is given, else ``"load"``, 0."""
    frame.insert(1, "actual", series.reindex(frame.index).to_numpy(float))
    frame["persistence"] = baselines.persistence(series, origins).to_numpy(float)
    frame["seasonal_naive"] = baselines.seasonal_naive(series, origins).to_numpy(float)
    if clear_sky is None:
        return "load", 0.0
    frame["smart_persistence"] = baselines.smart_persistence(series, clear_sky, origins).to_numpy(float)
    frame["clear_sky"] = clear_sky.reindex(frame.index).to_numpy(float)
    return "pv", 0.05 * (capacity or float(np.nanmax(series.to_numpy(float))))
