"""Day-ahead PV forecaster: pvlib clear-sky AC power × a learned clear-sky index, with p10/p50/p90."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.base import Design, GridForecaster
from forecasting.features import Grid, calendar_features, lag_features, weather_features
from forecasting.quantiles import GBMParams
from forecasting.schedule import DayAheadSchedule
from forecasting.solar import PVArraySpec, clear_sky_ghi, clear_sky_power
from forecasting.timeseries import check_frame

#: Weather columns recognised as global horizontal irradiance (W/m²) for the derived ``ghi_kc`` feature.
GHI_COLUMNS = ("ghi_w_m2", "ghi", "GHI", "shortwave_radiation")


class PVForecaster(GridForecaster):
    """Quantile day-ahead forecaster of a PV array's AC power (kW, the unit of ``spec.capacity_kw``).

    power(t) = k̂(t) · P_clear(t), where P_clear is the array's clear-sky AC power (:func:`clear_sky_power`) and
    k̂ the clear-sky index predicted by gradient boosting (pinball loss on k, trained on the intervals whose
    clear-sky power is at least ``min_train_fraction`` of capacity, where k is well defined) from: local hour and day of year, solar elevation and azimuth, P_clear/capacity, the clear-sky index
    history known at issue (same time on the latest known / fully known day / a week earlier, 7-day same-time
    mean, last value, 24-h and 7-day energy ratios ΣP/ΣP_clear) and optional weather at the target interval.
    If ``weather`` has a GHI column (see ``GHI_COLUMNS`` or ``ghi_column``) the GHI clear-sky index
    ``ghi_kc = GHI / GHI_clear(Ineichen)`` is added.

    Weather at the target interval is a *forecast proxy*: fed with satellite-derived or measured irradiance it is a
    perfect-forecast assumption. Without weather the model only has persistence-type information.

    Night (clear-sky power 0, sun at or below the horizon at the interval midpoint) is forecast exactly 0 for every
    quantile; forecasts are clipped to ``[0, spec.ac_limit_kw]``.

    Args:
        spec: the array.
        schedule: issue time (local), horizon, grid step, time zone.
        ghi_column: weather column holding GHI (W/m²); ``"auto"`` picks the first of ``GHI_COLUMNS`` present.
        min_train_fraction: dawn/dusk intervals below this share of capacity are not trained on (k is unstable
            there; sample weights would make scikit-learn's binning very slow).
        quantile_method, params, weather_max_gap: see :class:`~forecasting.base.GridForecaster`.
    """

    name = "gbm_pv"
    version = "1"

    def __init__(
        self,
        spec: PVArraySpec,
        schedule: DayAheadSchedule | None = None,
        *,
        ghi_column: str | None = "auto",
        quantile_method: str = "quantile",
        params: GBMParams | None = None,
        weather_max_gap: pd.Timedelta | str = "PT3H",
        min_train_fraction: float = 0.05,
    ):
        super().__init__(
            schedule, quantile_method=quantile_method, params=params, weather_max_gap=weather_max_gap
        )
        self.spec = spec
        self.ghi_column = ghi_column
        self._target_bounds = (0.0, 2.0)
        self.min_train_fraction = min_train_fraction
        self._cache: dict[tuple[int, int, int], np.ndarray] = {}

    def clear_sky(self, index: pd.DatetimeIndex) -> pd.Series:
        """Clear-sky AC power (kW) of the array for the intervals starting at ``index`` (UTC)."""
        return pd.Series(self._clear_ac(pd.DatetimeIndex(index)), index=index, name="clear_sky_kw")

    def _clear_ac(self, index: pd.DatetimeIndex) -> np.ndarray:
        key = (int(index[0].value), len(index), int(index[-1].value))
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = clear_sky_power(self.spec, index, freq=self.schedule.step)["ac_kw"].to_numpy(
                float
            )
        return self._cache[key]

    def _prepare_weather(self, weather: pd.DataFrame | None) -> pd.DataFrame | None:
        if weather is None:
            return None
        frame = check_frame(weather)
        column = self.ghi_column
        if column == "auto":
            column = next((c for c in GHI_COLUMNS if c in frame.columns), None)
        if column is not None:
            if column not in frame.columns:
                raise ValueError(f"weather has no GHI column {column!r} (columns: {list(frame.columns)})")
            clear = clear_sky_ghi(self.spec, frame.index)
            with np.errstate(invalid="ignore", divide="ignore"):
                kc = np.where(clear > 20.0, np.clip(frame[column].to_numpy(float) / clear, 0.0, 1.5), np.nan)
            frame = frame.assign(ghi_kc=kc)
        return frame

    def _design(self, grid: Grid, rows: dict[str, np.ndarray], weather: pd.DataFrame | None) -> Design:
        step = self.schedule.step
        hist_index = pd.date_range(pd.Timestamp(grid.t0, tz="UTC"), periods=grid.values.size, freq=step)
        hist_clear = self._clear_ac(hist_index)
        with np.errstate(invalid="ignore", divide="ignore"):
            kc_hist = np.where(hist_clear > 0.02 * self.spec.capacity_kw, grid.values / hist_clear, np.nan)
        kc_grid = Grid(pd.Series(np.clip(kc_hist, 0.0, 2.0), index=hist_index))
        both = np.isfinite(grid.values) & (hist_clear > 0)
        power_grid = Grid(pd.Series(np.where(both, grid.values, np.nan), index=hist_index))
        clear_grid = Grid(pd.Series(np.where(both, hist_clear, np.nan), index=hist_index))
        lags = lag_features(kc_grid, rows)
        spd = grid.steps_per_day
        known = rows["known"]
        with np.errstate(invalid="ignore", divide="ignore"):
            energy_day = power_grid.window_mean(known, spd, known) / clear_grid.window_mean(known, spd, known)
            energy_week = power_grid.window_mean(known, 7 * spd, known) / clear_grid.window_mean(
                known, 7 * spd, known
            )
        k_full = lags.pop("k_full")
        lags.pop("scale")
        times = pd.DatetimeIndex(pd.to_datetime(rows["target_ns"], utc=True))
        geometry = clear_sky_power(self.spec, times, freq=step)
        scale = geometry["ac_kw"].to_numpy(float)
        cal = calendar_features(times, tz=self.schedule.tz)
        cal.pop("is_holiday")
        cal.pop("near_holiday")
        cal.pop("day_type")
        lag_ns = rows["target_ns"] - k_full.astype(np.int64) * pd.Timedelta(days=1).value
        wx = weather_features(
            weather, rows, lag_ns, step=step, max_gap=self.weather_max_gap, tz=self.schedule.tz
        )
        columns = {
            **cal,
            "elevation": geometry["elevation"].to_numpy(float),
            "azimuth": geometry["azimuth"].to_numpy(float),
            "clear_fraction": scale / self.spec.capacity_kw,
            **lags,
            "energy_ratio_day": energy_day,
            "energy_ratio_week": energy_week,
            **wx,
        }
        x = np.column_stack(list(columns.values()))
        return Design(
            x=x,
            names=tuple(columns),
            scale=scale,
            weight=None,
            zero=~(scale > 0),
            min_train_scale=self.min_train_fraction * self.spec.capacity_kw,
        )

    def _postprocess(self, q: np.ndarray, design: Design) -> np.ndarray:
        q = np.clip(q, 0.0, self.spec.ac_limit_kw)
        return np.where(design.zero[:, None], 0.0, q)
