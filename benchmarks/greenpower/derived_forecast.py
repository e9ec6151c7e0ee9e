"""Day-ahead IT power of a site that reports only utilisation: forecast through the compute-power model vs a
forecast of the metered power itself, on the Google 2019 cell-a traces (issue 12; data shipped in ``data/``).

For each issue day (10:00 UTC, next UTC day forecast, hourly) with enough history:

- ``direct``: the production day-ahead load model (``forecasting.LoadForecaster`` on a ``DayAheadSchedule``,
  day-of-year feature excluded, as ``apps.forecasts.services``) trained on the mean PDU power known at issue;
- ``derived``: the same model trained on the mean CPU utilisation known at issue, its p10/p50/p90 mapped through
  a 4-segment monotone compute-power model fitted on the utilisation/power pairs known at issue (what
  ``apps.forecasts.compute_power.it_power_forecast_from_utilization`` stores);
- ``derived + the map's error``: the same, p10/p90 widened by the map's own RMSE
  (:func:`forecasting.compute_power.widen_band`, what is stored);
- ``conversion only``: the true utilisation of the day through that model (the error of the map alone);
- ``persistence``: the last 24 h known at issue repeated (a floor every forecast should beat).

Prints MAE and RMSE (fraction of rated PDU power), MAPE %, and for the two forecasts the share of hours inside
p10–p90 (80 % nominal). Run: ``.venv/bin/python benchmarks/greenpower/derived_forecast.py [--train-days 14]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from forecasting import DayAheadSchedule, LoadForecaster  # noqa: E402
from forecasting import compute_power as cp  # noqa: E402

#: PDU window 0 is 2019-05-01T07:00Z (the PDU file's first timestamp); usage window 0 lines up with PDU window 61.
PDU_START = pd.Timestamp("2019-05-01T07:00Z")


def hourly_traces() -> tuple[pd.Series, pd.Series]:
    """Mean CPU utilisation and mean PDU 6–8 power (fraction of rated), aligned, hourly means on full hours."""
    usage = pd.read_csv(ROOT / "data/greenpower/google2019_cluster_mean_cpu_5min.csv")["avg_cpu"].to_numpy()
    power = pd.read_csv(ROOT / "data/sites/google_powerdata2019_cella_pdu6-8_5min.csv", index_col=0)
    assert pd.Timestamp(power.index[0]) == PDU_START
    u, y = cp.align_google2019(usage, power.mean(axis=1).to_numpy())
    index = PDU_START + pd.Timedelta(minutes=5) * (cp.GOOGLE2019_USAGE_LAG_WINDOWS + np.arange(u.size))
    frame = pd.DataFrame({"u": u, "p": y}, index=index).resample("1h").agg(["mean", "count"])
    full = frame[("u", "count")] == 12
    return frame.loc[full, ("u", "mean")], frame.loc[full, ("p", "mean")]


def scores(pred: np.ndarray, actual: np.ndarray) -> tuple[float, float, float]:
    err = pred - actual
    return (
        float(np.mean(np.abs(err))),
        float(np.sqrt(np.mean(err**2))),
        float(100 * np.mean(np.abs(err) / actual)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-days", type=int, default=14)
    args = parser.parse_args()
    u, p = hourly_traces()
    grid = pd.date_range(u.index[0], u.index[-1], freq="1h")
    u, p = u.reindex(grid), p.reindex(grid)
    first_day = grid[0].ceil("D")
    issues = [
        d + pd.Timedelta(hours=10)
        for d in pd.date_range(
            first_day + pd.Timedelta(days=args.train_days + 8), grid[-1].floor("D"), freq="D"
        )
        if d + pd.Timedelta(days=2) <= grid[-1] + pd.Timedelta(hours=1)
    ]
    keys = ("actual", "direct", "derived", "widened", "conversion", "persistence")
    rows: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    inside: dict[str, list[np.ndarray]] = {"direct": [], "derived": [], "widened": []}
    t_direct = t_derived = 0.0
    for issue in issues:
        horizon = pd.date_range(issue.floor("D") + pd.Timedelta(days=1), periods=24, freq="1h")
        known = grid < issue
        actual = p.reindex(horizon).to_numpy()
        if np.isnan(actual).any():
            continue
        t0 = time.perf_counter()
        direct = LoadForecaster(DayAheadSchedule(tz="UTC", freq="PT1H"), exclude_features=("day_of_year",))
        direct.fit(p[known], fit_time=issue, train_days=args.train_days)
        d = direct.predict(issue, horizon, history=p[known])
        t_direct += time.perf_counter() - t0
        t0 = time.perf_counter()
        pairs = known & u.notna().to_numpy() & p.notna().to_numpy()
        model = cp.fit(u[pairs].to_numpy(), p[pairs].to_numpy(), segments=4)
        util = LoadForecaster(DayAheadSchedule(tz="UTC", freq="PT1H"), exclude_features=("day_of_year",))
        util.fit(u[known], fit_time=issue, train_days=args.train_days)
        q = util.predict(issue, horizon, history=u[known])[["p10", "p50", "p90"]].clip(0.0, 1.0)
        derived = pd.DataFrame(model.predict(q.to_numpy()), index=horizon, columns=["p10", "p50", "p90"])
        train_rmse = float(np.sqrt(np.mean((model.predict(u[pairs].to_numpy()) - p[pairs].to_numpy()) ** 2)))
        widened = derived.copy()
        widened["p10"], widened["p90"] = cp.widen_band(
            derived["p10"].to_numpy(), derived["p50"].to_numpy(), derived["p90"].to_numpy(), rmse=train_rmse
        )
        t_derived += time.perf_counter() - t0
        last_day = p[known].iloc[-24:].to_numpy()
        rows["actual"].append(actual)
        rows["direct"].append(d["p50"].to_numpy())
        rows["derived"].append(derived["p50"].to_numpy())
        rows["conversion"].append(model.predict(u.reindex(horizon).to_numpy()))
        rows["persistence"].append(last_day)
        rows["widened"].append(widened["p50"].to_numpy())
        for name, f in (("direct", d), ("derived", derived), ("widened", widened)):
            inside[name].append((f["p10"].to_numpy() <= actual) & (actual <= f["p90"].to_numpy()))
    actual = np.concatenate(rows["actual"])
    n = len(rows["actual"])
    print(f"== day-ahead IT power, Google 2019 cell a, {n} issue days x 24 h, train {args.train_days} days")
    print(f"   {'forecast':<48} {'MAE':>7} {'RMSE':>7} {'MAPE %':>7} {'p10-p90 cover':>14}")
    labels = {
        "direct": "direct (model on metered power)",
        "derived": "derived, utilisation quantiles mapped only",
        "widened": "derived + the map's error in the band (stored)",
        "conversion": "conversion only (true utilisation -> model)",
        "persistence": "persistence (last 24 h)",
    }
    for key, label in labels.items():
        mae, rmse, mape = scores(np.concatenate(rows[key]), actual)
        cover = f"{100 * np.concatenate(inside[key]).mean():.1f} %" if key in inside else "-"
        print(f"   {label:<48} {mae:7.4f} {rmse:7.4f} {mape:7.2f} {cover:>14}")
    print(
        f"   fit+predict per issue: direct {1000 * t_direct / n:.0f} ms, derived {1000 * t_derived / n:.0f} ms"
    )


if __name__ == "__main__":
    main()
