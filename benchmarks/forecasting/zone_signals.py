"""Zone price and carbon intensity, day-ahead, 2022 test year (issue 4 benchmark).

    python benchmarks/forecasting/zone_signals.py [--zones CAISO_NP15 ERCOT_HUB PJM_DOM NYISO_CAPITL]
        [--signals price carbon] [--variants lags weather weather+load] [--refit-days N] [--small] [--data-dir DIR]

Data (../shared/data, see each SOURCE.md): hourly wholesale prices 2021-2022 (CAISO NP15, ERCOT HB_HUBAVG and
NYISO CAPITL day-ahead; PJM DOM real-time), Electricity Maps direct carbon intensity of the balancing area,
Open-Meteo reanalysis weather at the zone's hub city and EIA-930 demand of the balancing area (PJM_DOM: the
cleaned DOM zone). Each forecast is issued at 10:00 local on D-1 (before the day-ahead market closes) for the 24
local hours of D; :class:`forecasting.ZoneSignalForecaster` is refitted every ``--refit-days`` days on the
trailing 365 days known at the fit time (so January 2022 trains on 2021).

Variants (exogenous columns at the target hour):
- ``lags``: none — calendar, holidays and lags known at issue only; nothing assumed about the future.
- ``weather``: + the hub's temperature, humidity, cloud cover and wind: a PERFECT weather forecast assumption.
- ``weather+load``: + the balancing area's demand: a PERFECT load forecast assumption on top (the operators' own
  day-ahead load forecasts are 2-4 % MAPE, ours 2.8-3.4 %).

Scores over every hour of 2022 with an actual: MAE (USD/MWh or gCO2/kWh), sMAPE % (defined for prices near
zero), MAPE % (carbon only), and MAE skill vs seasonal naive (same hour a week earlier) and vs persistence
(same hour on D-2, the latest full day known at issue).

``--small`` runs two weeks of July 2022, CAISO only, the ``lags`` variant (CI, well under a minute).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import (
    DEFAULT_DATA_DIR,
    MARKET_ZONES,
    ZONES,
    zone_carbon,
    zone_price,
    zone_system_load,
    zone_weather,
)

from forecasting import DayAheadSchedule, ZoneSignalForecaster, mae, mape, run_backtest, smape

VARIANTS = ("lags", "weather", "weather+load")


def exogenous(data_dir: Path, zone: str, variant: str) -> pd.DataFrame | None:
    """The exogenous columns of a variant (UTC hourly), or None for ``lags``."""
    if variant == "lags":
        return None
    weather = zone_weather(data_dir, MARKET_ZONES[zone][3])
    if variant == "weather":
        return weather
    return weather.join(zone_system_load(data_dir, zone).rename("system_load_mw"), how="outer")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", nargs="+", default=list(MARKET_ZONES), choices=list(MARKET_ZONES))
    ap.add_argument("--signals", nargs="+", default=["price", "carbon"], choices=["price", "carbon"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--refit-days", type=int, default=28)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    start, end = ("2022-07-01", "2022-07-14") if args.small else ("2022-01-01", "2022-12-31")
    zones = ["CAISO_NP15"] if args.small else args.zones
    variants = ["lags"] if args.small else args.variants
    print(
        f"Zone signals day-ahead {start}..{end}, issued 10:00 local D-1, refit every {args.refit_days} days on "
        "the trailing 365 days; MAE in USD/MWh (price) or gCO2/kWh (carbon)"
    )
    head = (
        f"{'zone':<13}{'signal':<7}{'variant':<14}{'MAE':>8}{'SN MAE':>8}{'pers MAE':>9}{'sMAPE %':>9}"
        f"{'SN sMAPE':>9}{'MAPE %':>8}{'skill SN':>9}{'skill P':>8}{'pinball':>9}{'fit s':>7}"
    )
    print(head)
    print("-" * len(head))
    t_all = time.perf_counter()
    for zone in zones:
        tz = ZONES[MARKET_ZONES[zone][3]][1]
        subdivision = ZONES[MARKET_ZONES[zone][3]][2]
        schedule = DayAheadSchedule(tz=tz, issue_time="10:00", horizon="PT24H", freq="PT1H")
        for signal in args.signals:
            series = (zone_price if signal == "price" else zone_carbon)(args.data_dir, zone)
            for variant in variants:
                model = ZoneSignalForecaster(schedule, signal=signal, subdivision=subdivision)
                result = run_backtest(
                    model,
                    series,
                    start=start,
                    end=end,
                    weather=exogenous(args.data_dir, zone, variant),
                    train_days=365,
                    refit_days=args.refit_days,
                )
                f = result.forecasts
                keep = f[["actual", "p50", "seasonal_naive", "persistence"]].notna().all(axis=1)
                a, p, sn = f["actual"][keep], f["p50"][keep], f["seasonal_naive"][keep]
                car = f"{mape(a, p):>8.2f}" if signal == "carbon" else f"{'-':>8}"
                print(
                    f"{zone:<13}{signal:<7}{variant:<14}{mae(a, p):>8.2f}{mae(a, sn):>8.2f}"
                    f"{mae(a, f['persistence'][keep]):>9.2f}{smape(a, p):>9.2f}{smape(a, sn):>9.2f}{car}"
                    f"{result.skill('mae', 'seasonal_naive'):>9.3f}{result.skill('mae', 'persistence'):>8.3f}"
                    f"{result.scores['model'].pinball:>9.3f}{result.fit_seconds:>7.1f}",
                    flush=True,
                )
    print(f"(wall time {time.perf_counter() - t_all:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
