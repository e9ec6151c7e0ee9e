"""Speed (issue 4 benchmark): fit on one site-year of hourly data <= 2 s; a day-ahead forecast <= 50 ms per series.

    python benchmarks/forecasting/speed.py [--small] [--repeats N] [--data-dir DIR]

Load: ERCO EIA-930 demand with Dallas Open-Meteo weather (4 columns), training on the 365 delivery days of 2022
(8 760 rows), default :class:`GBMParams` (150 trees x 15 leaves, one OpenMP thread). Predict: one forecast issued
10:00 local D-1 for the 24 hours of D, history and weather passed in (as the app would). PV: SERF East, 15-min,
96 intervals, with PSM3 weather. Times are medians of wall-clock and of process CPU time (single-threaded model: CPU
time = wall time on an idle machine); the 1-minute load average is printed because the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, serf_east_power_kw, serf_east_psm3, system_load, zone_weather

from forecasting import DayAheadSchedule, LoadForecaster, PVArraySpec, PVForecaster


def timed(func, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds per call. The model runs on one thread, so CPU time is what the wall
    time would be on an idle machine (the shared benchmark machine is often oversubscribed)."""
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        func()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def line(label: str, wall: list[float], cpu: list[float], unit: str = "s", target: str = "") -> str:
    k = 1000.0 if unit == "ms" else 1.0
    return (
        f"{label}: wall median {k * statistics.median(wall):.2f} {unit} (min {k * min(wall):.2f}), "
        f"CPU median {k * statistics.median(cpu):.2f} {unit} (min {k * min(cpu):.2f}){target}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    fit_repeats = 2 if args.small else args.repeats
    load = system_load(args.data_dir, "ERCO")
    weather = zone_weather(args.data_dir, "ERCO")
    schedule = DayAheadSchedule(tz="America/Chicago", issue_time="10:00", horizon="PT24H", freq="PT1H")
    model = LoadForecaster(schedule, country="US", subdivision="TX")
    fit_time = pd.Timestamp("2023-01-01 00:00", tz="America/Chicago")
    year = load[: fit_time.tz_convert("UTC")]

    def fit():
        model.fit(year, weather, fit_time=fit_time, train_days=365)

    fits = timed(fit, fit_repeats)
    issue = pd.Timestamp("2023-03-14 10:00", tz="America/Chicago")
    model.predict(issue, history=load, weather=weather)
    predicts = timed(lambda: model.predict(issue, history=load, weather=weather), 20)
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    label = (
        f"load fit, one site-year hourly ({model.n_training_rows} rows, {len(model.feature_names)} features)"
    )
    print(line(label, *fits, target="  [target <= 2 s]"))
    print(line("load day-ahead predict (24 h)", *predicts, unit="ms", target="  [target <= 50 ms]"))

    power = serf_east_power_kw(args.data_dir)
    psm3 = serf_east_psm3(args.data_dir)[["temp_air_c", "ghi_w_m2"]]
    spec = PVArraySpec(lat=39.742, lon=-105.1727, tilt=45, azimuth=158, capacity_kw=3.2, ac_capacity_kw=3.4)
    pv = PVForecaster(spec, DayAheadSchedule(tz="America/Denver", freq="PT15M"))
    pv_fit_time = pd.Timestamp("2012-05-01", tz="America/Denver")
    pv_fits = timed(lambda: pv.fit(power, psm3, fit_time=pv_fit_time, train_days=365), 1 if args.small else 2)
    pv_issue = pd.Timestamp("2012-05-10 10:00", tz="America/Denver")
    pv.predict(pv_issue, history=power, weather=psm3)
    pv_predicts = timed(lambda: pv.predict(pv_issue, history=power, weather=psm3), 10)
    print(line(f"PV fit, 15-min, one year ({pv.n_training_rows} daytime rows)", *pv_fits))
    print(line("PV day-ahead predict (96 x 15 min)", *pv_predicts, unit="ms", target="  [target <= 50 ms]"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
