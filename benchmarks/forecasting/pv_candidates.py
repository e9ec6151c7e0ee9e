"""PV day-ahead: attempts at the 10 % daytime nRMSE target on NREL SERF East, 2012, perfect (PSM3) weather.

    python benchmarks/forecasting/pv_candidates.py [--variants base poa_kc temp_scale mean_p50 perf_index
        perf_index_only] [--data-dir DIR]

Same data, schedule, refits (every 30 days on the trailing 365 days) and scoring as ``pv_serf.py --variants perfect``.
Variants of :class:`forecasting.PVForecaster`:

- ``base``: the forecaster as it is;
- ``poa_kc``: adds the plane-of-array clear-sky index of the weather, POA(GHI) / POA_clear, with PSM3 GHI split into
  DNI/DHI by the Erbs et al. (1982) correlation and transposed by Hay–Davies (pvlib), the array's own tilt/azimuth;
- ``temp_scale``: the clear-sky AC power used as the normaliser is computed at the target's air temperature (PSM3)
  instead of 20 °C, so cold clear days are not read as a clear-sky index above 1 (night mask unchanged);
- ``mean_p50``: the central model is fitted with squared error (a conditional MEAN, the RMSE-optimal point
  forecast) instead of the pinball loss at 0.5; its output is not a median, so it cannot be the app's p50;
- ``perf_index``: adds a *performance index* known at issue, Σ P / Σ (P_clear · GHI clear-sky index of the weather
  history) over the last 24 h and 72 h of known intervals (production relative to what the observed sunshine should
  have given: ~0 for snow-covered modules or an outage, > 1 for an albedo boost), and the maximum air temperature of
  the 24 h before issue (snow melts when it is warm). Each interval ``[t, t + step)`` of the history takes the latest
  weather sample at or before ``t + step``, so nothing after the issue time is read;
- ``perf_index_only``: ``perf_index`` without the temperature feature (an ablation, not a separate choice).

Only the 2012 test year exists after a one-winter training history (data start 2011-04-15), so there is no separate
validation year: these are reported as attempts, none is adopted.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, serf_east_power_kw, serf_east_psm3
from pv_serf import SPEC, TZ

from forecasting import DayAheadSchedule, PVForecaster, nrmse, run_backtest
from forecasting.features import Grid
from forecasting.quantiles import QUANTILES, QuantileModel
from forecasting.solar import clear_sky_power


class PoaIndexPV(PVForecaster):
    """Adds ``poa_kc``, the plane-of-array clear-sky index of the weather (see the module docstring)."""

    def _prepare_weather(self, weather):
        frame = super()._prepare_weather(weather)
        if frame is None:
            return None
        index = frame.index
        altitude = float(pvlib.location.lookup_altitude(self.spec.lat, self.spec.lon))
        solpos = pvlib.location.Location(self.spec.lat, self.spec.lon, altitude=altitude).get_solarposition(
            index
        )
        ghi = frame["ghi_w_m2"].clip(lower=0.0)
        split = pvlib.irradiance.erbs(ghi, solpos["zenith"], index)
        poa = pvlib.irradiance.get_total_irradiance(
            self.spec.tilt,
            self.spec.azimuth,
            solpos["apparent_zenith"],
            solpos["azimuth"],
            split["dni"],
            ghi,
            split["dhi"],
            dni_extra=pvlib.irradiance.get_extra_radiation(index),
            model="haydavies",
            albedo=self.spec.albedo,
        )["poa_global"].fillna(0.0)
        clear = clear_sky_power(self.spec, index)["poa"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            index_poa = np.where(clear > 20.0, np.clip(poa.to_numpy(float) / clear, 0.0, 1.5), np.nan)
        return frame.assign(poa_kc=index_poa)


class TemperatureScalePV(PVForecaster):
    """Normalises by the clear-sky AC power at the target's air temperature (see the module docstring)."""

    def _design(self, grid, rows, weather):
        design = super()._design(grid, rows, weather)
        if "w_temp_air_c" not in design.names:
            return design
        temp = design.x[:, design.names.index("w_temp_air_c")]
        times = pd.DatetimeIndex(pd.to_datetime(rows["target_ns"], utc=True))
        scale = clear_sky_power(
            self.spec, times, freq=self.schedule.step, temp_air_c=np.where(np.isfinite(temp), temp, 20.0)
        )["ac_kw"].to_numpy(float)
        return dataclasses.replace(design, scale=np.where(design.zero, 0.0, scale))


def _asof_grid(frame: pd.DataFrame, column: str, index: pd.DatetimeIndex, step, max_gap) -> np.ndarray:
    """``frame[column]`` on the grid ``index``: the latest sample at or before each interval's END (t + step), NaN
    if older than ``max_gap``. Causal: the interval ``[t, t + step)`` never sees a sample after ``t + step``."""
    samples = frame[[column]].sort_index()
    keys = pd.DataFrame({"end": index + step})
    joined = pd.merge_asof(
        keys, samples, left_on="end", right_index=True, direction="backward", tolerance=max_gap
    )
    return joined[column].to_numpy(float)


class PerformanceIndexPV(PVForecaster):
    """Adds the performance index (24 h, 72 h) and the 24-h maximum air temperature known at issue (see the module
    docstring)."""

    def __init__(self, *args, temperature: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature = temperature

    def _design(self, grid, rows, weather):
        design = super()._design(grid, rows, weather)
        if weather is None or "ghi_kc" not in weather.columns:
            return design
        step = self.schedule.step
        index = pd.date_range(pd.Timestamp(grid.t0, tz="UTC"), periods=grid.values.size, freq=step)
        clear = self._clear_ac(index)
        kc = _asof_grid(weather, "ghi_kc", index, step, self.weather_max_gap)
        expected = clear * kc
        ok = np.isfinite(grid.values) & (clear > 0) & np.isfinite(expected)
        measured = Grid(pd.Series(np.where(ok, grid.values, np.nan), index=index))
        sunshine = Grid(pd.Series(np.where(ok, expected, np.nan), index=index))
        known, spd = rows["known"], grid.steps_per_day
        columns = {}
        for name, days in (("perf_index_day", 1), ("perf_index_3day", 3)):
            num = measured.window_mean(known, days * spd, known)
            den = sunshine.window_mean(known, days * spd, known)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(den > 0.01 * self.spec.capacity_kw, num / den, np.nan)
            columns[name] = np.clip(ratio, 0.0, 2.5)
        if self.temperature and "temp_air_c" in weather.columns:
            temp = _asof_grid(weather, "temp_air_c", index, step, self.weather_max_gap)
            rolling = pd.Series(temp).rolling(spd, min_periods=spd // 2).max().to_numpy()
            last = np.clip(known, -1, grid.values.size - 1)
            columns["temp_max_day_known"] = np.where(last >= 0, rolling[np.maximum(last, 0)], np.nan)
        x = np.column_stack([design.x, *columns.values()])
        return dataclasses.replace(design, x=x, names=design.names + tuple(columns))


class MeanCentreModel(QuantileModel):
    """p10/p90 by the pinball loss, the central column by squared error (a mean)."""

    def _fit(self, x, y, w):
        self.models = [
            self.params.model(loss="squared_error")
            if q == 0.5
            else self.params.model(loss="quantile", quantile=q)
            for q in QUANTILES
        ]
        for model in self.models:
            model.fit(x, y, sample_weight=w)


def build(variant: str, schedule: DayAheadSchedule) -> PVForecaster:
    """The forecaster of one variant."""
    if variant == "poa_kc":
        return PoaIndexPV(SPEC, schedule)
    if variant == "temp_scale":
        return TemperatureScalePV(SPEC, schedule)
    if variant in ("perf_index", "perf_index_only"):
        return PerformanceIndexPV(SPEC, schedule, temperature=variant == "perf_index")
    model = PVForecaster(SPEC, schedule)
    if variant == "mean_p50":
        model.model = MeanCentreModel(model.model.params)
    return model


VARIANTS = ["base", "poa_kc", "temp_scale", "mean_p50", "perf_index", "perf_index_only"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument(
        "--variants",
        nargs="+",
        default=VARIANTS,
        choices=VARIANTS,
    )
    args = ap.parse_args()
    power = serf_east_power_kw(args.data_dir)
    weather = serf_east_psm3(args.data_dir)[["temp_air_c", "ghi_w_m2"]]
    schedule = DayAheadSchedule(tz=TZ, issue_time="10:00", horizon="PT24H", freq="PT15M")
    grid = pd.date_range(power.index[0], power.index[-1] + pd.Timedelta(days=3), freq="15min")
    print(
        "SERF East PV 2012, perfect PSM3 weather; daytime nRMSE % of 3.2 kW, RMSE skill vs smart persistence"
    )
    for variant in args.variants:
        t0 = time.perf_counter()
        model = build(variant, schedule)
        result = run_backtest(
            model,
            power,
            start="2012-01-01",
            end="2012-12-31",
            weather=weather,
            train_days=365,
            refit_days=30,
            clear_sky=model.clear_sky(grid),
            capacity=SPEC.capacity_kw,
        )
        fc = result.forecasts
        night = fc["clear_sky"] == 0
        night_max = float(fc.loc[night, ["p10", "p50", "p90"]].abs().to_numpy().max())
        day = fc[~night].dropna(subset=["actual", "p50"])
        by_month = day.groupby(day.index.tz_convert(TZ).month).apply(
            lambda g: nrmse(g["actual"], g["p50"], normaliser=SPEC.capacity_kw)
        )
        every = fc[["actual", "p50"]].dropna()
        all_nrmse = nrmse(every["actual"], every["p50"], normaliser=SPEC.capacity_kw)
        months = day.index.tz_convert(TZ).month
        season = {
            name: nrmse(part["actual"], part["p50"], normaliser=SPEC.capacity_kw)
            for name, part in (
                ("Dec-Feb", day[months.isin([12, 1, 2])]),
                ("Apr-Sep", day[months.isin(range(4, 10))]),
            )
        }
        print(
            f"{variant:<15} daytime {result.scores['model'].nrmse_pct:6.2f}  all {all_nrmse:5.2f}"
            f"  skill {result.skill('rmse', 'smart_persistence'):6.3f}"
            f"  Dec-Feb {season['Dec-Feb']:5.2f}  Apr-Sep {season['Apr-Sep']:5.2f}"
            f"  night max {night_max:g}  by month: {' '.join(f'{v:.1f}' for v in by_month)}"
            f"  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
