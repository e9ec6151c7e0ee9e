"""Feature construction: calendar features in local time, lagged values known at issue time, weather at target.

The no-look-ahead rule is enforced structurally: every lagged read goes through :meth:`Grid.take`, which returns NaN
for any grid position after the last interval that had *ended* by the issue time. A value labelled ``t`` covers
``[t, t + step)`` and is therefore known from ``t + step`` on.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from forecasting.schedule import Origin
from forecasting.timeseries import align_to_index

#: Lag features that are levels of the target (divided by the scale when the target is normalised).
LEVEL_FEATURES = (
    "same_time_recent",
    "same_time_full_day",
    "same_time_week",
    "same_time_mean7",
    "profile_smooth",
    "last_value",
    "mean_day",
    "max_day",
    "min_day",
)


def _quiet(func, values: np.ndarray, axis: int) -> np.ndarray:
    """Apply a nan-reduction without the all-NaN RuntimeWarning (all-NaN rows give NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(values, axis=axis)


class Grid:
    """A regular series as a numpy array with integer positions: position ``i`` ↔ ``t0 + i·step``.

    Args:
        series: validated series (see :func:`forecasting.timeseries.check_series`).
    """

    def __init__(self, series: pd.Series):
        self.t0 = int(series.index[0].value)
        self.step = int(pd.Timedelta(series.index.freq or (series.index[1] - series.index[0])).value)
        self.values = series.to_numpy(dtype=float)
        finite = np.isfinite(self.values)
        self._csum = np.concatenate([[0.0], np.cumsum(np.where(finite, self.values, 0.0))])
        self._ccount = np.concatenate([[0], np.cumsum(finite)])

    @property
    def steps_per_day(self) -> int:
        return int(pd.Timedelta(days=1).value // self.step)

    def positions(self, times: np.ndarray | pd.DatetimeIndex) -> np.ndarray:
        """Grid positions (int64) of UTC timestamps; they may lie outside the data.

        Raises:
            ValueError: a timestamp is not on the grid (wrong step or phase).
        """
        ns = np.asarray(
            pd.DatetimeIndex(times).as_unit("ns").asi8 if not isinstance(times, np.ndarray) else times,
            dtype=np.int64,
        )
        offset = ns - self.t0
        if np.any(offset % self.step):
            raise ValueError("target timestamps are not on the series grid (different step or phase)")
        return offset // self.step

    def last_known(self, issue_ns: np.ndarray) -> np.ndarray:
        """Last position whose interval ended at or before each issue time: floor((issue − t0)/step) − 1."""
        return np.floor_divide(np.asarray(issue_ns, dtype=np.int64) - self.t0, self.step) - 1

    def take(self, pos: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Values at ``pos``, NaN where ``pos > known`` (not yet known at issue) or outside the data."""
        pos = np.asarray(pos, dtype=np.int64)
        ok = (pos >= 0) & (pos <= known) & (pos < self.values.size)
        out = np.full(pos.shape, np.nan)
        out[ok] = self.values[pos[ok]]
        return out

    def window_mean(self, last: np.ndarray, length: int, known: np.ndarray) -> np.ndarray:
        """Mean of finite values at positions ``(last − length, last]``, clipped to ``known``; NaN if none."""
        hi = np.clip(np.minimum(last, known), -1, self.values.size - 1) + 1
        lo = np.clip(hi - length, 0, None)
        count = self._ccount[hi] - self._ccount[lo]
        total = self._csum[hi] - self._csum[lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def window_extreme(self, last: np.ndarray, length: int, known: np.ndarray, func) -> np.ndarray:
        """``func`` (np.nanmax / np.nanmin) over ``(last − length, last]`` clipped to ``known``; small loops only."""
        hi = np.minimum(last, known)
        offsets = np.arange(length)
        pos = hi[:, None] - offsets[None, :]
        return _quiet(func, self.take(pos, hi[:, None]), axis=1)


@lru_cache(maxsize=32)
def _holiday_dates(country: str, subdivision: str | None, first_year: int, last_year: int) -> np.ndarray:
    years = range(first_year, last_year + 1)
    dates = holidays.country_holidays(country, subdiv=subdivision, years=years).keys()
    return np.array(sorted(dates), dtype="datetime64[D]")


def holiday_flags(
    dates: np.ndarray | pd.DatetimeIndex, country: str | None, subdivision: str | None = None
) -> np.ndarray:
    """1.0 where a local calendar date is a public holiday (``holidays`` package, e.g. country ``"US"``,
    subdivision ``"CA"``), else 0.0. ``dates`` are local dates (datetime64[D] or a DatetimeIndex)."""
    days = np.asarray(pd.DatetimeIndex(dates).normalize().tz_localize(None).values.astype("datetime64[D]"))
    if country is None or days.size == 0:
        return np.zeros(days.size)
    years = days.astype("datetime64[Y]").astype(int) + 1970
    hol = _holiday_dates(country, subdivision, int(years.min()), int(years.max()))
    if hol.size == 0:
        return np.zeros(days.size)
    return np.isin(days, hol).astype(float)


def calendar_features(
    times: pd.DatetimeIndex, *, tz: str, country: str | None = None, subdivision: str | None = None
) -> dict[str, np.ndarray]:
    """Calendar features in LOCAL time for UTC timestamps ``times`` (shape (n,) each).

    hour (fractional local hour), day_type (weekday 0 = Monday .. 6 = Sunday, with public holidays counted as
    Sundays, the usual load-forecasting convention), day_of_year, is_holiday, near_holiday (the day before or after
    a holiday, e.g. the Friday after Thanksgiving).
    """
    local = times.tz_convert(tz)
    dates = local.tz_localize(None).normalize()
    hol = holiday_flags(dates, country, subdivision)
    near = np.maximum(
        holiday_flags(dates - pd.Timedelta(days=1), country, subdivision),
        holiday_flags(dates + pd.Timedelta(days=1), country, subdivision),
    )
    return {
        "hour": (local.hour + local.minute / 60.0).to_numpy(float),
        "day_type": np.where(hol > 0, 6.0, local.day_of_week.to_numpy(float)),
        "day_of_year": local.day_of_year.to_numpy(float),
        "is_holiday": hol,
        "near_holiday": near * (1.0 - hol),
    }


def origin_rows(grid: Grid, origins: Sequence[Origin]) -> dict[str, np.ndarray]:
    """Flatten origins into rows: target ns, target position, last known position and horizon-end position."""
    if not origins:
        raise ValueError("no forecast origin")
    sizes = np.array([len(o.target_index) for o in origins])
    target_ns = np.concatenate([o.target_index.as_unit("ns").asi8 for o in origins])
    issue_ns = np.repeat(np.array([o.issue_time.value for o in origins], dtype=np.int64), sizes)
    pos = grid.positions(target_ns)
    known = grid.last_known(issue_ns)
    if np.any(pos <= known):
        raise ValueError(
            "a target interval is already known at its issue time (target must start after issue)"
        )
    ends = np.repeat(np.array([grid.positions(o.target_index[-1:])[0] for o in origins]), sizes)
    origin_id = np.repeat(np.arange(len(origins)), sizes)
    return {
        "target_ns": target_ns,
        "issue_ns": issue_ns,
        "pos": pos,
        "known": known,
        "end": ends,
        "origin": origin_id,
    }


def lag_features(grid: Grid, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Horizon-aware lagged features using only values known at issue time (shape (n,) each).

    - lead_hours: hours from the last known interval start to the target;
    - same_time_recent: same time of day on the most recent day known for this target;
    - same_time_full_day: same time of day on the latest day fully known at issue (D-2 for day-ahead at 10:00);
    - same_time_week: same time one week (or the smallest multiple of a week) earlier that is known;
    - same_time_mean7: mean of the same time of day over the 7 most recent known days;
    - profile_smooth: the same 7-day mean over the slots within +-1 h of the time of day (a low-noise profile);
    - last_value, mean_day, max_day, min_day: last known value and statistics of the 24 h before issue;
    - scale: mean of the 7 days before issue (the normaliser for load).
    """
    spd = grid.steps_per_day
    pos, known, end = rows["pos"], rows["known"], rows["end"]
    lead = pos - known
    k_row = -(-lead // spd)
    k_full = -(-(end - known) // spd)
    k_week = -(-lead // (7 * spd)) * 7
    same7 = _quiet(
        np.nanmean, np.stack([grid.take(pos - (k_row + j) * spd, known) for j in range(7)]), axis=0
    )
    half = max(1, spd // 24)  # +-1 hour of neighbouring slots
    profile = _quiet(
        np.nanmean,
        np.stack(
            [grid.take(pos - (k_row + j) * spd + s, known) for j in range(7) for s in range(-half, half + 1)]
        ),
        axis=0,
    )
    return {
        "lead_hours": lead * grid.step / 3.6e12,
        "same_time_recent": grid.take(pos - k_row * spd, known),
        "same_time_full_day": grid.take(pos - k_full * spd, known),
        "same_time_week": grid.take(pos - k_week * spd, known),
        "same_time_mean7": same7,
        "profile_smooth": profile,
        "last_value": grid.take(known, known),
        "mean_day": grid.window_mean(known, spd, known),
        "max_day": grid.window_extreme(known, spd, known, np.nanmax),
        "min_day": grid.window_extreme(known, spd, known, np.nanmin),
        "scale": grid.window_mean(known, 7 * spd, known),
        "k_full": k_full.astype(float),
    }


def weather_features(
    weather: pd.DataFrame | None,
    rows: dict[str, np.ndarray],
    lag_ns: np.ndarray,
    *,
    step: pd.Timedelta,
    max_gap: pd.Timedelta,
    tz: str,
) -> dict[str, np.ndarray]:
    """Weather features per row (shape (n,) each) for every column ``c`` of ``weather``.

    At the target interval — a forecast proxy: ``w_c`` (value), ``w_c_mean6`` / ``w_c_mean24`` (trailing 6-h /
    24-h means), ``w_c_daymax`` / ``w_c_daymin`` (over the target's local day); ``w_c_lagday`` (at the lag day
    used by ``same_time_full_day``); ``w_c_ref7`` (mean over the 7 days before issue, the period of the load
    normaliser, so the model can relate today's weather to the reference level) and ``w_c_ref1`` (the 24 h before
    issue; for PV it lets the model compare the known production ratio with the known irradiance, e.g. snow on the
    modules).

    ``weather`` is interpolated in time onto the grid (values further than ``max_gap`` from a sample are NaN).
    """
    if weather is None:
        return {}
    target_ns, issue_ns = rows["target_ns"], rows["issue_ns"]
    day = pd.Timedelta(days=1).value
    lo = min(int(target_ns.min()), int(lag_ns.min()), int(issue_ns.min()) - 7 * day) - 2 * day
    hi = max(int(target_ns.max()), int(lag_ns.max())) + 2 * day
    lo_ts, hi_ts = pd.Timestamp(lo, tz="UTC").floor(step), pd.Timestamp(hi, tz="UTC").ceil(step)
    grid_index = pd.date_range(lo_ts, hi_ts, freq=step)
    sub = weather.loc[lo_ts - max_gap : hi_ts + max_gap]
    if sub.empty:
        aligned = pd.DataFrame(np.nan, index=grid_index, columns=weather.columns)
    else:
        aligned = align_to_index(sub, grid_index, max_gap=max_gap)
    spd = int(pd.Timedelta(days=1) / step)
    mean6 = aligned.rolling(max(1, spd // 4), min_periods=1).mean()
    mean24 = aligned.rolling(spd, min_periods=max(1, spd // 2)).mean()
    local_day = grid_index.tz_convert(tz).tz_localize(None).normalize()
    daymax = aligned.groupby(local_day).transform("max")
    daymin = aligned.groupby(local_day).transform("min")
    base = grid_index[0].value
    t_pos = (target_ns - base) // step.value
    l_pos = (lag_ns - base) // step.value
    i_pos = -(-(issue_ns - base) // step.value)  # first grid point at or after issue
    out: dict[str, np.ndarray] = {}
    for col in aligned.columns:
        values = aligned[col].to_numpy(float)
        finite = np.isfinite(values)
        csum = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
        ccount = np.concatenate([[0], np.cumsum(finite)])
        refs = {}
        for days in (1, 7):
            lo_pos = np.clip(i_pos - days * spd, 0, None)
            count = ccount[i_pos] - ccount[lo_pos]
            with np.errstate(invalid="ignore", divide="ignore"):
                refs[days] = np.where(count > 0, (csum[i_pos] - csum[lo_pos]) / np.maximum(count, 1), np.nan)
        out[f"w_{col}"] = values[t_pos]
        out[f"w_{col}_mean6"] = mean6[col].to_numpy(float)[t_pos]
        out[f"w_{col}_mean24"] = mean24[col].to_numpy(float)[t_pos]
        out[f"w_{col}_daymax"] = daymax[col].to_numpy(float)[t_pos]
        out[f"w_{col}_daymin"] = daymin[col].to_numpy(float)[t_pos]
        out[f"w_{col}_lagday"] = values[l_pos]
        out[f"w_{col}_ref1"] = refs[1]
        out[f"w_{col}_ref7"] = refs[7]
    return out
