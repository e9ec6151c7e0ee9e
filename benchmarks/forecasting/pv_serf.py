"""PV day-ahead on NREL SERF East, 2012 test year (issue 4 benchmark).

    python benchmarks/forecasting/pv_serf.py [--small] [--variants perfect degraded none] [--data-dir DIR]
        [--refit-days N]

Data: PVDAQ system 50 (Golden CO, 39.742 N, 105.1727 W, fixed tilt 45 deg, azimuth 158 deg) AC power, 15-min,
2011-04-15 .. 2012-12-31 (published in W, converted to kW); NSRDB PSM3 30-min weather at the site.
Capacity: not published with the data; 3.2 kWp DC is the PVWatts nameplate that matches clear-sky periods
(median measured / modelled-at-1-kWp ratio 3.22), AC limit 3.4 kW (max measured 3.37 kW). nMAE/nRMSE are
normalised by 3.2 kW (the smaller, stricter choice).

Each forecast is issued at 10:00 America/Denver on D-1 for the 96 quarter-hours of D; refit every
``--refit-days`` days on the trailing 365 days. Scores are over daytime intervals (clear-sky power > 0);
the all-interval nRMSE (nights included, where every forecast is exactly 0) is printed too.

Weather variants (what is "known" at issue time):
- perfect: PSM3 GHI and temperature at the target interval. PSM3 is satellite-derived ACTUALS, so this is a
  perfect-forecast assumption (an upper bound on what a day-ahead NWP forecast gives).
- degraded: a synthetic day-ahead forecast: GHI = clear-sky GHI x (the target day's mean PSM3 clear-sky index
  + N(0, 0.15) per day), i.e. the day's cloudiness roughly, but not when clouds pass; used for training too.
- none: no weather; the model only has the known clear-sky-index history (smart-persistence information).

``--small`` runs two June weeks, perfect variant only (CI).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, serf_east_power_kw, serf_east_psm3

from forecasting import DayAheadSchedule, PVArraySpec, PVForecaster, clear_sky_power, nrmse, run_backtest

SPEC = PVArraySpec(lat=39.742, lon=-105.1727, tilt=45, azimuth=158, capacity_kw=3.2, ac_capacity_kw=3.4)
TZ = "America/Denver"


def degraded_weather(psm3: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Daily-cloudiness-only GHI 'forecast' (see module docstring)."""
    clear = clear_sky_power(SPEC, psm3.index)["ghi"]
    kc = (psm3["ghi_w_m2"] / clear).where(clear > 20).clip(0, 1.5)
    day = psm3.index.tz_convert(TZ).date
    daily = kc.groupby(day).transform("mean")
    rng = np.random.default_rng(seed)
    days, inverse = np.unique(day, return_inverse=True)
    noisy = (daily + rng.normal(0, 0.15, len(days))[inverse]).clip(0, 1.1)
    return pd.DataFrame(
        {"temp_air_c": psm3["temp_air_c"], "ghi_w_m2": (noisy * clear).fillna(0.0)}, index=psm3.index
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--variants", nargs="+", default=["perfect", "degraded", "none"])
    ap.add_argument("--refit-days", type=int, default=30)
    ap.add_argument("--quantile-method", choices=["quantile", "residual"], default="quantile")
    args = ap.parse_args()
    power = serf_east_power_kw(args.data_dir)
    psm3 = serf_east_psm3(args.data_dir)
    weathers = {
        "perfect": psm3[["temp_air_c", "ghi_w_m2"]],
        "degraded": degraded_weather(psm3),
        "none": None,
    }
    start, end = ("2012-06-01", "2012-06-14") if args.small else ("2012-01-01", "2012-12-31")
    variants = ["perfect"] if args.small else args.variants
    refit = 14 if args.small else args.refit_days
    schedule = DayAheadSchedule(tz=TZ, issue_time="10:00", horizon="PT24H", freq="PT15M")
    print(
        f"SERF East PV day-ahead {start}..{end}, issued 10:00 {TZ} D-1, 15-min, capacity {SPEC.capacity_kw} kWp "
        f"(AC {SPEC.ac_limit_kw} kW), refit every {refit} days on 365 days"
    )
    summary = []
    for variant in variants:
        t0 = time.perf_counter()
        model = PVForecaster(SPEC, schedule, quantile_method=args.quantile_method)
        grid = pd.date_range(power.index[0], power.index[-1] + pd.Timedelta(days=3), freq="15min")
        clear = model.clear_sky(grid)
        result = run_backtest(
            model,
            power,
            start=start,
            end=end,
            weather=weathers[variant],
            train_days=365,
            refit_days=refit,
            clear_sky=clear,
            capacity=SPEC.capacity_kw,
        )
        fc = result.forecasts
        night = fc["clear_sky"] == 0
        night_max = float(fc.loc[night, ["p10", "p50", "p90"]].abs().to_numpy().max()) if night.any() else 0.0
        every = fc[["actual", "p50"]].dropna()
        all_nrmse = nrmse(every["actual"], every["p50"], normaliser=SPEC.capacity_kw)
        print(f"\n== weather: {variant}")
        print(result.table())
        print(
            f"nRMSE over all intervals incl. night: {all_nrmse:.2f} %; night intervals: {int(night.sum())}, "
            f"max |forecast| at night: {night_max}"
        )
        day = fc[~night].dropna(subset=["actual", "p50"])
        month = day.index.tz_convert(TZ).month
        by_month = day.groupby(month).apply(
            lambda g: nrmse(g["actual"], g["p50"], normaliser=SPEC.capacity_kw)
        )
        print("daytime nRMSE % by month: " + ", ".join(f"{m}: {v:.1f}" for m, v in by_month.items()))
        print(f"(wall time {time.perf_counter() - t0:.0f} s)")
        summary.append(
            (
                variant,
                result.scores["model"].nrmse_pct,
                all_nrmse,
                result.skill("rmse", "smart_persistence"),
                night_max,
            )
        )
    print("\nvariant    daytime nRMSE %  all-interval nRMSE %  RMSE skill vs smart persistence  night max")
    for variant, day_n, all_n, sk, nm in summary:
        print(f"{variant:<11}{day_n:>15.2f}{all_n:>22.2f}{sk:>33.3f}{nm:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
