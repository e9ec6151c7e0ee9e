"""PV day-ahead: attempts at the 10 % daytime nRMSE target on NREL SERF East, 2012, perfect (PSM3) weather.

    python benchmarks/forecasting/pv_candidates.py [--variants base poa_kc temp_scale mean_p50] [--data-dir DIR]

Same data, schedule, refits (every 30 days on the trailing 365 days) and scoring as ``pv_serf.py --variants perfect``.
Variants of :class:`forecasting.PVForecaster`:

- ``base``: the forecaster as it is;
- ``poa_kc``: adds the plane-of-array clear-sky index of the weather, POA(GHI) / POA_clear, with PSM3 GHI split into
  DNI/DHI by the Erbs et al. (1982) correlation and transposed by Hay–Davies (pvlib), the array's own tilt/azimuth;
- ``temp_scale``: the clear-sky AC power used as the normaliser is computed at the target's air temperature (PSM3)
  instead of 20 °C, so cold clear days are not read as a clear-sky index above 1 (night mask unchanged);
- ``mean_p50``: the central model is fitted with squared error (a conditional MEAN, the RMSE-optimal point
  forecast) instead of the pinball loss at 0.5; its output is not a median, so it cannot be the app's p50.

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
    model = PVForecaster(SPEC, schedule)
    if variant == "mean_p50":
        model.model = MeanCentreModel(model.model.params)
    return model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument(
        "--variants",
        nargs="+",
        default=["base", "poa_kc", "temp_scale", "mean_p50"],
        choices=["base", "poa_kc", "temp_scale", "mean_p50"],
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
        print(
            f"{variant:<11} {result.scores['model'].nrmse_pct:6.2f} {result.skill('rmse', 'smart_persistence'):6.3f}"
            f"  night max {night_max:g}  by month: {' '.join(f'{v:.1f}' for v in by_month)}"
            f"  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
