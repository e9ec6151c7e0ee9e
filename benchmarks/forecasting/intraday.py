"""Intraday updates vs the day-ahead forecast on the same hours (issue 4: the intraday update).

    python benchmarks/forecasting/intraday.py [--zones ERCO ...] [--start 2023-07-01 --end 2023-08-31] [--small]

Data: EIA-930 hourly BA demand with Open-Meteo reanalysis weather (perfect weather forecast assumption, as in
``system_load.py``). Two :class:`forecasting.LoadForecaster` models with the same features and parameters, refitted
every 28 days on the trailing 365 days: the day-ahead one (``DayAheadSchedule``, issued 10:00 local on D-1 for
local day D) and the intraday one (``IntradaySchedule``: updates issued every 3 h from local midnight, each for the
rest of its day and the next day). For every hour of the test period the script compares the day-ahead forecast
with the updates of that hour by lead time (hours from the update's issue to the hour), on the same hours, by MAPE.

``--small`` runs ERCO over two weeks (CI).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, ZONES, system_load, zone_weather

from forecasting import DayAheadSchedule, IntradaySchedule, LoadForecaster, mape, run_backtest

BUCKETS = [(0, 3), (3, 6), (6, 12), (12, 24), (24, 48)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", nargs="+", default=["ERCO"], choices=list(ZONES))
    ap.add_argument("--start", default="2023-07-01")
    ap.add_argument("--end", default="2023-08-31")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    start, end = ("2023-07-01", "2023-07-14") if args.small else (args.start, args.end)
    print(f"Intraday updates (every 3 h) vs day-ahead (10:00 D-1), {start}..{end}; MAPE % on the same hours")
    t0 = time.perf_counter()
    for zone in ["ERCO"] if args.small else args.zones:
        _, tz, subdivision = ZONES[zone]
        load = system_load(args.data_dir, zone)
        weather = zone_weather(args.data_dir, zone)
        runs = {}
        for name, schedule in (
            ("day_ahead", DayAheadSchedule(tz=tz, freq="PT1H")),
            ("intraday", IntradaySchedule(tz=tz, issue_every="PT3H", freq="PT1H")),
        ):
            model = LoadForecaster(schedule, country="US", subdivision=subdivision)
            runs[name] = run_backtest(
                model, load, start=start, end=end, weather=weather, train_days=365, refit_days=28
            ).forecasts
        day_ahead, intraday = runs["day_ahead"], runs["intraday"]
        lead_h = (intraday.index - intraday["issue_time"]) / pd.Timedelta(hours=1)
        print(f"\n== {zone}: lead (h)  hours   intraday MAPE   day-ahead MAPE (same hours)")
        for lo, hi in BUCKETS:
            rows = intraday[(lead_h > lo) & (lead_h <= hi)]
            common = rows.index.intersection(day_ahead.index)
            rows = rows.loc[rows.index.isin(common)]
            da = day_ahead.loc[rows.index]
            print(
                f"   {lo:>2}-{hi:<2} h        {len(rows):>5}   {mape(rows['actual'], rows['p50']):>13.2f}"
                f"   {mape(da['actual'], da['p50']):>14.2f}"
            )
    print(f"(wall time {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
