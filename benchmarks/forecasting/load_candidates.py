"""System load: day-ahead model candidates compared on a validation period before any is run on the 2023 test year.

    python benchmarks/forecasting/load_candidates.py [--zones CISO ERCO PJM NYIS] [--start 2022-03-01]
        [--end 2022-12-31] [--candidates accurate large ...] [--peak-lift W [W ...]] [--data-dir DIR]

Same data, schedule (issued 10:00 local on D-1), refit protocol (every 28 delivery days on the trailing 730 days
known at the fit time) and features as ``system_load.py``; weather at the target hour is the reanalysis value (a
PERFECT weather forecast assumption). To make a candidate cheap enough to compare, only the p50 model (pinball loss
at 0.5, which is what MAPE and the daily peak error score) is fitted, and the design matrix of every origin is built
once (every lagged feature is masked at its own issue time, so a row's features do not depend on the fit time; the
rows a fit sees are those whose delivery day ended by the fit time, as in :func:`forecasting.run_backtest`).

Each candidate is the equal average of a normalised and a level :class:`forecasting.LoadForecaster` p50 (the
``load_ensemble`` of ``system_load.py``) unless its name says otherwise:

- ``fast``, ``accurate``, ``large``: the ``MODELS`` presets of ``system_load.py``;
- ``accurate_sq``: ``accurate`` with a squared-error p50 (a mean, not a median);
- ``fast_profile3``: ``fast`` plus a third member normalised by the 7-day +-1 h profile;
- ``fast_apparent``: ``fast`` with Steadman's apparent temperature and 24-h / 72-h half-life exponentially smoothed
  temperature added to the weather columns;
- ``fast_refit7``: ``fast`` refitted every 7 days;
- ``fast_decay365``: ``fast`` with training rows weighted 0.5 ** (age / 365 days);
- ``<preset>_solar``: the preset with ``ghi_cloud_w_m2``, the GHI expected under the hour's cloud cover at the
  weather point (:func:`forecasting.cloud_cover_ghi`, Kasten & Czeplak 1980), added to the weather columns: a
  proxy of behind-the-meter PV, which lowers metered demand at midday;
- ``<preset>_bu`` / ``<preset>_solar_bu``: bottom-up, the sum of one such ensemble per cleaned subregion of the BA
  (``_data.SUBREGIONS``: CISO's PG&E, SCE, SDG&E, VEA; ERCO's 8 weather zones; all with the zone's one weather
  point), scored against the raw BA total like every other candidate.

``--peak-lift W ...`` also fits each member's p90 and scores :func:`forecasting.lift_daily_peak` (p50 at the 3 top
forecast hours of each day moved the share W toward p90), the weight to choose per zone here before ``system_load.py
--peak-lift`` reports it on 2023.

The validation period (default 2022-03-01..2022-12-31, trained on 2021 onward) never overlaps the 2023 test year.
Prints MAPE % and mean daily peak error % per zone and candidate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import DEFAULT_DATA_DIR, SUBREGIONS, WEATHER_POINTS, ZONES, system_load, zone_weather
from system_load import MODELS

from forecasting import (
    DayAheadSchedule,
    GBMParams,
    LoadForecaster,
    cloud_cover_ghi,
    daily_peak_error_pct,
    lift_daily_peak,
    mape,
)
from forecasting.features import Grid, origin_rows
from forecasting.quantiles import _thread_limit
from forecasting.timeseries import check_series

FitPredict = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def with_apparent_temperature(weather: pd.DataFrame, zone: str | None = None) -> pd.DataFrame:
    """Weather plus ``apparent_c`` (Steadman 1994 as used by the Australian BoM: T + 0.33 e − 0.70 v − 4.00, e the
    water vapour pressure in hPa, v the wind speed in m/s) and trailing exponentially smoothed temperature."""
    out = weather.copy()
    t = out["temperature_2m_c"]
    vapour_hpa = out["relative_humidity_2m_pct"] / 100.0 * 6.105 * np.exp(17.27 * t / (237.7 + t))
    out["apparent_c"] = t + 0.33 * vapour_hpa - 0.70 * out["wind_speed_10m_kmh"] / 3.6 - 4.0
    out["t_ewm24"] = t.ewm(halflife=24).mean()
    out["t_ewm72"] = t.ewm(halflife=72).mean()
    return out


def with_cloud_ghi(weather: pd.DataFrame, zone: str) -> pd.DataFrame:
    """Weather plus ``ghi_cloud_w_m2``: clear-sky GHI at the zone's weather point attenuated by the hour's cloud
    cover (evaluated at the middle of the hour)."""
    lat, lon, altitude = WEATHER_POINTS[zone]
    middle = weather.index + pd.Timedelta(minutes=30)
    ghi = cloud_cover_ghi(lat, lon, middle, weather["cloud_cover_pct"], altitude_m=altitude)
    return weather.assign(ghi_cloud_w_m2=ghi)


def design(data_dir: Path, zone: str, normalise, weather_fn=None, column: str = "demand_mw_raw_eia") -> dict:
    """Design matrix of every day-ahead origin 2021-01-09..2023-12-31, the target ratio and the fit bookkeeping.

    ``weather_fn(weather, zone)`` may add weather columns; ``column`` is the demand column forecast (the raw BA
    total by default, a cleaned subregion for bottom-up candidates)."""
    _, tz, subdivision = ZONES[zone]
    weather = zone_weather(data_dir, zone)
    if weather_fn is not None:
        weather = weather_fn(weather, zone)
    schedule = DayAheadSchedule(tz=tz, issue_time="10:00", horizon="PT24H", freq="PT1H")
    model = LoadForecaster(schedule, country="US", subdivision=subdivision, normalise=normalise)
    series = check_series(system_load(data_dir, zone, column), name="load", freq=schedule.step)
    series.index.freq = schedule.step
    grid = Grid(series)
    origins = schedule.origins(dt.date(2021, 1, 9), dt.date(2023, 12, 31))
    rows = origin_rows(grid, origins)
    d = model._design(grid, rows, model._prepare_weather(weather))
    pos = rows["pos"]
    actual = np.where(pos < grid.values.size, grid.values[np.minimum(pos, grid.values.size - 1)], np.nan)
    return {
        "tz": tz,
        "x": d.x,
        "scale": d.scale,
        "actual": actual,
        "rows": rows,
        "issue": np.array([o.issue_time.value for o in origins]),
        "delivered": np.array([(o.target_index[-1] + schedule.step).value for o in origins]),
        "day": np.array([o.target_index[0].tz_convert(tz).date() for o in origins]),
    }


def rolling_p50(
    d: dict, fit_predict: FitPredict, start: str, end: str, refit_days: int = 28, train_days: int = 730
):
    """p50 forecasts (absolute units) of the origins delivered ``start``..``end`` and the mask of their rows."""
    days, origin = d["day"], d["rows"]["origin"]
    test = np.where((days >= pd.Timestamp(start).date()) & (days <= pd.Timestamp(end).date()))[0]
    target = d["actual"] / d["scale"]
    pred = np.full(origin.size, np.nan)
    issue_of_row = d["issue"][origin]
    for first in range(0, test.size, refit_days):
        block = test[first : first + refit_days]
        fit_time = d["issue"][block[0]]
        train_origins = np.where(
            (d["delivered"] <= fit_time) & (days >= days[block[0]] - dt.timedelta(days=train_days))
        )[0]
        train = np.isin(origin, train_origins) & np.isfinite(target)
        rows = np.isin(origin, block)
        age_days = (fit_time - issue_of_row[train]) / 86_400e9
        pred[rows] = fit_predict(d["x"][train], target[train], d["x"][rows], age_days) * d["scale"][rows]
    return pred, np.isin(origin, test)


def gbm_p50(
    params: GBMParams,
    *,
    loss: str = "quantile",
    half_life_days: float | None = None,
    quantile: float = 0.5,
) -> FitPredict:
    """A fit-and-predict function: one gradient-boosting quantile model (p50 by default) or squared-error model."""

    def fit_predict(x_train, y_train, x_test, age_days):
        weight = None if half_life_days is None else 0.5 ** (age_days / half_life_days)
        kwargs = {"loss": "quantile", "quantile": quantile} if loss == "quantile" else {"loss": loss}
        with _thread_limit(params.n_threads):
            return params.model(**kwargs).fit(x_train, y_train, sample_weight=weight).predict(x_test)

    return fit_predict


def scores(d: dict, pred: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """MAPE % and mean daily peak error % over the masked rows where actual and forecast are known."""
    ok = mask & np.isfinite(d["actual"]) & np.isfinite(pred)
    index = pd.DatetimeIndex(pd.to_datetime(d["rows"]["target_ns"][ok], utc=True))
    actual = pd.Series(d["actual"][ok], index=index)
    forecast = pd.Series(pred[ok], index=index)
    return mape(actual, forecast), daily_peak_error_pct(actual, forecast, tz=d["tz"])


CANDIDATES = (
    "fast",
    "accurate",
    "large",
    "accurate_sq",
    "fast_profile3",
    "fast_apparent",
    "fast_refit7",
    "fast_decay365",
    "fast_solar",
    "fast_bu",
    "fast_solar_bu",
    "large_solar",
    "large_bu",
    "large_solar_bu",
)


def run_candidate(
    name: str, data_dir: Path, zone: str, start: str, end: str, cache: dict, quantile: float = 0.5
):
    """Forecast (p50, or ``quantile``) of candidate ``name`` over the period, the mask of the scored rows and the
    normalised design (for scoring)."""

    def get(normalise, weather_fn=None, column="demand_mw_raw_eia"):
        key = (zone, normalise, weather_fn, column)
        if key not in cache:
            cache[key] = design(data_dir, zone, normalise, weather_fn, column)
        return cache[key]

    parts = name.split("_")
    params = MODELS[parts[0]]
    weather_fn = {"apparent": with_apparent_temperature, "solar": with_cloud_ghi}.get(
        parts[1] if len(parts) > 1 else ""
    )
    fit = gbm_p50(
        params,
        loss="squared_error" if name.endswith("_sq") and quantile == 0.5 else "quantile",
        half_life_days=365.0 if name.endswith("_decay365") else None,
        quantile=quantile,
    )
    refit = 7 if name.endswith("_refit7") else 28
    members = [True, False] + (["profile"] if name.endswith("_profile3") else [])
    columns = (
        [f"{sub}_demand_mw_cleaned" for sub in SUBREGIONS[zone]]
        if parts[-1] == "bu"
        else ["demand_mw_raw_eia"]
    )
    total = None
    mask = None
    for column in columns:
        preds = []
        for normalise in members:
            pred, mask = rolling_p50(get(normalise, weather_fn, column), fit, start, end, refit_days=refit)
            preds.append(pred)
        total = np.mean(preds, axis=0) if total is None else total + np.mean(preds, axis=0)
    return total, mask, get(True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", nargs="+", default=list(ZONES), choices=list(ZONES))
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--start", default="2022-03-01")
    ap.add_argument("--end", default="2022-12-31")
    ap.add_argument("--candidates", nargs="+", default=["accurate", "large"], choices=CANDIDATES)
    ap.add_argument("--peak-lift", type=float, nargs="+", default=[], metavar="W")
    args = ap.parse_args()
    if pd.Timestamp(args.end) >= pd.Timestamp("2023-01-01"):
        print("note: the period overlaps the 2023 test year; use it to report, not to choose")
    print(f"System load p50 candidates {args.start}..{args.end} (MAPE % / daily peak error %)")
    cache: dict = {}
    results: dict[str, list[tuple[float, float]]] = {}
    for zone in args.zones:
        for name in args.candidates:
            t0 = time.perf_counter()
            pred, mask, d = run_candidate(name, args.data_dir, zone, args.start, args.end, cache)
            m, peak = scores(d, pred, mask)
            results.setdefault(name, []).append((m, peak))
            print(
                f"{zone:<5} {name:<18} {m:6.2f} {peak:6.2f}   ({time.perf_counter() - t0:.0f} s)", flush=True
            )
            if not args.peak_lift:
                continue
            p90, _, _ = run_candidate(name, args.data_dir, zone, args.start, args.end, cache, quantile=0.9)
            index = pd.DatetimeIndex(pd.to_datetime(d["rows"]["target_ns"], utc=True))
            frame = pd.DataFrame(
                {"issue_time": d["issue"][d["rows"]["origin"]], "p10": -np.inf, "p50": pred, "p90": p90},
                index=index,
            )[mask]
            for weight in args.peak_lift:
                lifted = lift_daily_peak(frame, weight=weight, top_hours=3)["p50"].to_numpy(float)
                full = np.full(pred.size, np.nan)
                full[mask] = lifted
                m, peak = scores(d, full, mask)
                label = f"{name}+lift{weight:g}"
                results.setdefault(label, []).append((m, peak))
                print(f"{zone:<5} {label:<18} {m:6.2f} {peak:6.2f}", flush=True)
        cache.clear()
    print(f"\ncandidate          mean over {', '.join(args.zones)}")
    for name, rows in results.items():
        print(f"{name:<18} {np.mean([r[0] for r in rows]):6.2f} {np.mean([r[1] for r in rows]):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
