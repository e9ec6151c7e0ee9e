"""Datacenter PDU load: simple day-ahead candidates chosen on a validation week, scored on the held-out week.

    python benchmarks/forecasting/datacenter_candidates.py [--data-dir DIR]

Same data, schedule and baseline as ``datacenter.py`` (Google powerdata_2019 cell a, PDUs 6-8 and their sum,
15-min, issued 10:00 America/New_York on D-1). Candidates: the gradient-boosting model of ``datacenter.py``
(refitted daily on all earlier data), same-time-of-day profiles known at issue (mean over the last N known days of
the slots within ±h hours of the target's time of day), the 24-h / 7-day means before issue, "level + shape"
(24-h mean + the 7-day profile's deviation from its mean) and model/profile blends. The candidate is chosen on the
VALIDATION week 2019-05-18..24 (mean MAE skill over the four series) and only then scored on the TEST week
2019-05-25..31, so the held-out week is not used to tune.

It then prints a hindsight ceiling: the skill of centred moving averages of the *actual* test week (they use the
future, so no forecast can have them), i.e. how much of the series is slow enough for any smooth forecast to follow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, google_pdu_power
from datacenter import EXCLUDE, PARAMS

from forecasting import DayAheadSchedule, LoadForecaster, baselines, mae, run_backtest
from forecasting.features import Grid, lag_features, origin_rows

WEEKS = {"validation": ("2019-05-18", "2019-05-24"), "test": ("2019-05-25", "2019-05-31")}


def candidates(
    series: pd.Series, schedule: DayAheadSchedule, days: tuple[str, str]
) -> tuple[dict, np.ndarray]:
    """Point forecasts (name -> array over the week's target rows) and the actuals; all use values known at issue."""
    origins = schedule.origins(*days)
    grid = Grid(series)
    rows = origin_rows(grid, origins)
    lags = lag_features(grid, rows)
    spd = grid.steps_per_day
    pos, known = rows["pos"], rows["known"]
    k_row = -(-(pos - known) // spd)

    def profile(n_days: int, half_steps: int) -> np.ndarray:
        taken = [
            grid.take(pos - (k_row + j) * spd + o, known)
            for j in range(n_days)
            for o in range(-half_steps, half_steps + 1)
        ]
        return np.nanmean(np.stack(taken), axis=0)

    out = {"mean_24h": lags["mean_day"], "mean_7d": lags["scale"]}
    for n_days in (3, 7, 14):
        for hours in (1, 2, 3):
            out[f"profile_{n_days}d_pm{hours}h"] = profile(n_days, hours * spd // 24)
    out["level+shape"] = lags["mean_day"] + out["profile_7d_pm1h"] - lags["scale"]
    model = LoadForecaster(schedule, country=None, params=PARAMS, exclude_features=EXCLUDE)
    out["model"] = (
        run_backtest(model, series, start=days[0], end=days[1], train_days=None, refit_days=1)
        .forecasts["p50"]
        .to_numpy()
    )
    for w in (0.3, 0.5, 0.7):
        out[f"{w:.1f}*model+{1 - w:.1f}*profile_7d_pm2h"] = (
            w * out["model"] + (1 - w) * out["profile_7d_pm2h"]
        )
    out["seasonal_naive"] = baselines.seasonal_naive(series, origins).to_numpy()
    actual = series.reindex(pd.to_datetime(rows["target_ns"], utc=True)).to_numpy()
    return out, actual


def skills(power: pd.DataFrame, schedule: DayAheadSchedule, days: tuple[str, str]) -> pd.DataFrame:
    table = {}
    for name in power.columns:
        forecasts, actual = candidates(power[name], schedule, days)
        base = mae(actual, forecasts.pop("seasonal_naive"))
        table[name] = {k: 1 - mae(actual, v) / base for k, v in forecasts.items()}
    frame = pd.DataFrame(table)
    frame["mean"] = frame.mean(axis=1)
    return frame


def hindsight_skills(
    power: pd.DataFrame, days: tuple[str, str], tz: str, windows_h=(2, 6, 12, 24)
) -> pd.DataFrame:
    """MAE skill vs seasonal naive (same time a week earlier) of centred ``windows_h``-hour moving averages of the
    actual series and of the week's actual mean, over the local days ``days``: forecasts with perfect hindsight."""
    table = {}
    for name in power.columns:
        series = power[name]
        local = series.index.tz_convert(tz)
        first, last = pd.Timestamp(days[0]).date(), pd.Timestamp(days[1]).date()
        week = series[(local.date >= first) & (local.date <= last)]
        base = mae(week, series.shift(freq="7D").reindex(week.index))
        row = {}
        for hours in windows_h:
            steps = int(pd.Timedelta(hours=hours) / pd.Timedelta(series.index.freq or "15min"))
            smooth = series.rolling(steps, center=True, min_periods=1).mean().reindex(week.index)
            row[f"centred {hours} h mean"] = 1 - mae(week, smooth) / base
        row["week mean"] = 1 - mae(week, pd.Series(week.mean(), index=week.index)) / base
        table[name] = row
    frame = pd.DataFrame(table)
    frame["mean"] = frame.mean(axis=1)
    return frame


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = ap.parse_args()
    power = google_pdu_power(args.data_dir, "15min")
    power["sum_pdu6-8"] = power[["pdu6", "pdu7", "pdu8"]].sum(axis=1, min_count=3)
    schedule = DayAheadSchedule(tz="America/New_York", issue_time="10:00", horizon="PT24H", freq="PT15M")
    validation = skills(power, schedule, WEEKS["validation"])
    print("MAE skill vs seasonal naive, VALIDATION week 2019-05-18..24 (sorted):")
    print(validation.sort_values("mean").round(3).to_string())
    chosen = validation["mean"].idxmax()
    test = skills(power, schedule, WEEKS["test"])
    print(f"\nchosen on validation: {chosen}")
    print("MAE skill vs seasonal naive, TEST week 2019-05-25..31 (chosen and the model):")
    print(test.loc[[chosen, "model"]].round(3).to_string())
    print("\nHINDSIGHT ceiling on the test week (actual values smoothed; uses the future):")
    print(hindsight_skills(power, WEEKS["test"], schedule.tz).round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
