"""Workload-aware IT demand forecast on Microsoft's Philly training jobs (data/jobs, CC BY 4.0): day-ahead,
issued at 10:00 cluster time on D-1 for local day D, jobs known at issue time only, against seasonal naive.

Demand as it arrives: each job runs from submission for its run time at num_gpus × 0.4 kW
(``forecasting.jobs.KW_PER_GPU``). Forecast = work known at issue (jobs submitted before it, over their remaining
run time) + the per-time-of-day median of new-arrival power over the previous 28 days (new arrivals of a past day
= its demand minus the work known at its issue time; only windows that ended before the issue are used).
Skill = 1 − MAE / MAE of seasonal naive (demand one week earlier). Target: ≥ 0.35.

    python benchmarks/forecasting/philly.py [--small]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from forecasting.jobs import arrival_power_kw, jobs_read, known_work_kw, workload_aware_forecast  # noqa: E402
from forecasting.metrics import mae, skill  # noqa: E402
from forecasting.schedule import DayAheadSchedule  # noqa: E402

TZ = "America/Los_Angeles"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="7 test days instead of all")
    parser.add_argument("--csv", default=str(ROOT / "data/jobs/philly_2017_oct_nov_jobs.csv"))
    args = parser.parse_args(argv)
    jobs = jobs_read(args.csv, tz=TZ)
    schedule = DayAheadSchedule(tz=TZ, freq="PT1H")
    first_day = jobs["submitted"].iloc[0].tz_convert(TZ).date()
    last_day = jobs["submitted"].iloc[-1].tz_convert(TZ).date()
    grid = pd.date_range(pd.Timestamp(first_day, tz=TZ).tz_convert("UTC"), periods=60 * 24, freq="h")
    demand = arrival_power_kw(jobs, grid)
    origins = schedule.origins(first_day + pd.Timedelta(days=1), last_day)
    fresh = pd.concat(
        [
            pd.Series(
                demand.reindex(o.target_index).to_numpy() - known_work_kw(jobs, o.issue_time, o.target_index),
                index=o.target_index,
            )
            for o in origins
        ]
    )
    test = [o for o in origins if o.issue_time >= grid[0] + pd.Timedelta(days=15)]
    if args.small:
        test = test[:7]
    rows = []
    for o in test:
        history = fresh[fresh.index + pd.Timedelta(hours=1) <= o.issue_time]
        known = known_work_kw(jobs, o.issue_time, o.target_index)
        q = workload_aware_forecast(known_kw=known, history=history, index=o.target_index)
        naive = demand.reindex(o.target_index - pd.Timedelta(days=7)).to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "actual": demand.reindex(o.target_index).to_numpy(),
                    "model": q["p50"].to_numpy(),
                    "known": known,
                    "seasonal_naive": naive,
                },
                index=o.target_index,
            )
        )
    frame = pd.concat(rows).dropna()
    m, n, k = (mae(frame["actual"], frame[c]) for c in ("model", "seasonal_naive", "known"))
    print(
        f"Philly trace {test[0].target_index[0]:%Y-%m-%d}..{test[-1].target_index[-1]:%Y-%m-%d}: "
        f"{len(test)} day-ahead forecasts, {len(frame)} hours, mean demand {frame['actual'].mean():.1f} kW"
    )
    print(f"MAE workload-aware {m:.2f} kW, known work only {k:.2f} kW, seasonal naive {n:.2f} kW")
    print(f"skill MAE vs seasonal naive: {skill(m, n):+.3f} (target >= 0.35)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
