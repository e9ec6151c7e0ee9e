"""Reference forecasts that every model must beat: persistence, seasonal naive, smart persistence (PV).

Each takes the series and a list of :class:`~forecasting.schedule.Origin` and returns a point forecast Series
indexed by target interval start (rows in origin order, as :meth:`GridForecaster.predict_origins`). Each reads
only values whose interval ended by the origin's issue time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.features import Grid, origin_rows
from forecasting.schedule import Origin
from forecasting.timeseries import check_series

_WEEK = pd.Timedelta(days=7)


def _rows(
    series: pd.Series, origins: Sequence[Origin]
) -> tuple[Grid, dict[str, np.ndarray], pd.DatetimeIndex]:
    grid = Grid(check_series(series))
    rows = origin_rows(grid, origins)
    index = pd.DatetimeIndex(pd.to_datetime(rows["target_ns"], utc=True), name="start")
    return grid, rows, index


def _full_day_lag(grid: Grid, rows: dict[str, np.ndarray]) -> np.ndarray:
    """Days back to the latest day fully known at issue: ceil((horizon end − last known) / 1 day)."""
    spd = grid.steps_per_day
    return -(-(rows["end"] - rows["known"]) // spd)


def persistence(series: pd.Series, origins: Sequence[Origin]) -> pd.Series:
    """Same time of day on the latest day fully known at issue time (for day-ahead issued on D-1 at 10:00, the
    value 48 h earlier on D-2: "yesterday" is not complete at issue). Shifts are whole 24-h periods in UTC."""
    grid, rows, index = _rows(series, origins)
    k = _full_day_lag(grid, rows)
    values = grid.take(rows["pos"] - k * grid.steps_per_day, rows["known"])
    return pd.Series(values, index=index, name="persistence")


def seasonal_naive(
    series: pd.Series, origins: Sequence[Origin], *, season: pd.Timedelta = _WEEK
) -> pd.Series:
    """Same time one season (default one week) earlier, or the smallest multiple of the season that is known."""
    grid, rows, index = _rows(series, origins)
    season_steps = int(season.value // grid.step)
    lead = rows["end"] - rows["known"]
    k = -(-lead // season_steps)
    values = grid.take(rows["pos"] - k * season_steps, rows["known"])
    return pd.Series(values, index=index, name="seasonal_naive")


def smart_persistence(series: pd.Series, clear_sky: pd.Series, origins: Sequence[Origin]) -> pd.Series:
    """Clear-sky-index persistence for PV: forecast(t) = k · P_clear(t), where k = ΣP / ΣP_clear over the 24 h of
    the latest day fully known at issue (the same day persistence uses), counting only intervals where both are
    known and P_clear > 0. Night (P_clear = 0) is exactly 0. See e.g. Pedro & Coimbra (2012), Solar Energy 86.

    Args:
        series: measured power.
        clear_sky: clear-sky power on the same grid (same unit), covering the history and the targets.
    """
    grid, rows, index = _rows(series, origins)
    clear = check_series(clear_sky, name="clear_sky").reindex(series.index)
    both = np.isfinite(grid.values) & np.isfinite(clear.to_numpy(float)) & (clear.to_numpy(float) > 0)
    power = Grid(series.where(both, np.nan))
    cs = Grid(clear.where(both, np.nan))
    spd = grid.steps_per_day
    k = _full_day_lag(grid, rows)
    starts = np.r_[0, np.flatnonzero(np.diff(rows["origin"])) + 1]
    origin_first = rows["pos"][starts][rows["origin"]]
    window_last = origin_first - (k - 1) * spd - 1
    mean_p = power.window_mean(window_last, spd, rows["known"])
    mean_c = cs.window_mean(window_last, spd, rows["known"])
    with np.errstate(invalid="ignore", divide="ignore"):
        kc = np.clip(mean_p / mean_c, 0.0, 1.5)
    target_clear = clear_sky.reindex(index).to_numpy(float)
    values = np.where(target_clear > 0, kc * target_clear, 0.0)
    values = np.where(np.isfinite(target_clear), values, np.nan)
    return pd.Series(values, index=index, name="smart_persistence")
