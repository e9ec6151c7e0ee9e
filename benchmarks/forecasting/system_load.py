"""System load, day-ahead, 2023 test year (issue 4 benchmark).

    python benchmarks/forecasting/system_load.py [--zones CISO ERCO PJM NYIS] [--small] [--data-dir DIR]
        [--model fast|accurate|large] [--refit-days N] [--quantile-method quantile|residual] [--temperature-noise-c C]
        [--peak-lift W [W ...]]

Data: EIA-930 hourly BA demand (raw, MW) 2021-2023 and Open-Meteo hourly reanalysis weather at one hub city per
zone (temperature, humidity, cloud cover, wind). Each forecast is issued at 10:00 local on D-1 for the 24 local
hours of D; the model is refitted every ``--refit-days`` days on the trailing 730 days known at the fit time
(so early 2023 trains on 2021-2022). Weather at the target hour is the reanalysis value: a PERFECT weather
forecast assumption unless ``--temperature-noise-c`` adds a synthetic forecast error to the temperature used at
prediction time (training still uses the reanalysis).

For CISO the script also scores CAISO's own day-ahead load forecast against the same EIA series on the hours
both exist (2023 has gaps), at the EIA hour-ending label and shifted by one hour (SOURCE.md caveat).

By default the model is :func:`forecasting.load_ensemble` (a normalised and a level gradient-boosting model,
averaged); ``--single`` runs the normalised model alone; ``--model accurate`` uses 300 trees x 31 leaves;
``--model large`` 500 trees x 31 leaves with at least 40 rows a leaf and L2 1.0 (chosen on the 2022-03..12 validation
period with ``benchmarks/forecasting/load_candidates.py``).

``--peak-lift W ...`` also scores each zone's forecasts after :func:`forecasting.peaks.lift_daily_peak` (p50 at
the 3 top forecast hours of each day moved the share W toward p90). The lift only reads each forecast's own
quantiles, so scoring it after the backtest equals backtesting ``PeakLiftedForecaster``; choose W per zone on the
validation period (``load_candidates.py --peak-lift``), not on these figures.

``--small`` runs two weeks of July 2023 with the fast model (CI, well under 2 minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import (
    DEFAULT_DATA_DIR,
    ZONES,
    caiso_day_ahead_forecast,
    noisy_temperature,
    system_load,
    zone_weather,
)

from forecasting import (
    DayAheadSchedule,
    GBMParams,
    LoadForecaster,
    daily_peak_error_pct,
    lift_daily_peak,
    load_ensemble,
    mape,
    run_backtest,
)

MODELS = {
    "fast": GBMParams(),
    "accurate": GBMParams(max_iter=300, max_leaf_nodes=31, learning_rate=0.05, max_bins=255),
    "large": GBMParams(
        max_iter=500,
        max_leaf_nodes=31,
        learning_rate=0.05,
        max_bins=255,
        min_samples_leaf=40,
        l2_regularization=1.0,
    ),
}


def caiso_comparison(data_dir: Path, forecasts) -> list[str]:
    """MAPE of CAISO's day-ahead forecast and of ours on the hours both exist."""
    caiso = caiso_day_ahead_forecast(data_dir)
    lines = []
    actual = forecasts["actual"]
    for shift in (0, 1):
        theirs = caiso.copy()
        theirs.index = theirs.index + np.timedelta64(shift, "h")
        theirs = theirs.reindex(forecasts.index)
        both = theirs.notna() & actual.notna() & forecasts["p50"].notna()
        if both.sum() == 0:
            continue
        lines.append(
            f"  CISO vs CAISO day-ahead forecast (CAISO label +{shift} h), {int(both.sum())} common hours: "
            f"CAISO MAPE {mape(actual[both], theirs[both]):.2f} %, ours {mape(actual[both], forecasts['p50'][both]):.2f} %"
        )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", nargs="+", default=list(ZONES), choices=list(ZONES))
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--small", action="store_true", help="two test weeks, fast model (CI)")
    ap.add_argument("--model", choices=list(MODELS), default="fast")
    ap.add_argument("--refit-days", type=int, default=14)
    ap.add_argument("--quantile-method", choices=["quantile", "residual"], default="quantile")
    ap.add_argument("--temperature-noise-c", type=float, default=0.0)
    ap.add_argument("--peak-lift", type=float, nargs="+", default=[], metavar="W")
    ap.add_argument(
        "--single", action="store_true", help="one normalised model instead of the 2-model ensemble"
    )
    args = ap.parse_args()
    start, end = ("2023-07-01", "2023-07-14") if args.small else ("2023-01-01", "2023-12-31")
    params = MODELS["fast" if args.small else args.model]
    kind = "one normalised model" if args.single else "ensemble of a normalised and a level model"
    weather_note = (
        f"temperature forecast = reanalysis + synthetic error (std ~{args.temperature_noise_c} C)"
        if args.temperature_noise_c > 0
        else "PERFECT weather forecast assumption (reanalysis at the target hour)"
    )
    print(
        f"System load day-ahead {start}..{end}, issued 10:00 local D-1; {kind}, {args.model if not args.small else 'fast'}"
        f" ({params}); quantiles by '{args.quantile_method}'; {weather_note}"
    )
    rows = []
    t_all = time.perf_counter()
    for zone in args.zones:
        _, tz, subdivision = ZONES[zone]
        load = system_load(args.data_dir, zone)
        weather = zone_weather(args.data_dir, zone)
        forecast_weather = noisy_temperature(
            weather, args.temperature_noise_c, seed=zlib.crc32(zone.encode())
        )
        schedule = DayAheadSchedule(tz=tz, issue_time="10:00", horizon="PT24H", freq="PT1H")
        options = dict(
            country="US", subdivision=subdivision, params=params, quantile_method=args.quantile_method
        )
        model = LoadForecaster(schedule, **options) if args.single else load_ensemble(schedule, **options)
        result = run_backtest(
            model,
            load,
            start=start,
            end=end,
            weather=weather,
            weather_forecast=forecast_weather,
            train_days=730,
            refit_days=args.refit_days,
        )
        print(f"\n== {zone} ({tz}, holidays US-{subdivision})")
        print(result.table())
        scored = ["actual", "p50", "persistence", "seasonal_naive"]  # the rows run_backtest scores
        for weight in args.peak_lift:
            lifted = lift_daily_peak(result.forecasts, weight=weight, top_hours=3).dropna(subset=scored)
            print(
                f"  peak lift {weight:.2f} (top 3 h): MAPE {mape(lifted['actual'], lifted['p50']):.2f} %, "
                f"peak error {daily_peak_error_pct(lifted['actual'], lifted['p50'], tz=tz):.2f} %"
            )
        if zone == "CISO":
            for line in caiso_comparison(args.data_dir, result.forecasts):
                print(line)
        s = result.scores
        rows.append(
            (
                zone,
                s["model"].mape_pct,
                s["model"].peak_error_pct,
                s["model"].pinball,
                s["seasonal_naive"].mape_pct,
                s["persistence"].mape_pct,
                result.skill("mae", "seasonal_naive"),
            )
        )
    print("\nzone   MAPE %  peak err %   pinball   SN MAPE %  pers. MAPE %  skill MAE vs SN")
    for zone, m, pk, pb, sn, pe, sk in rows:
        print(f"{zone:<6}{m:>7.2f}{pk:>12.2f}{pb:>10.1f}{sn:>12.2f}{pe:>14.2f}{sk:>17.3f}")
    print(f"mean  {np.mean([r[1] for r in rows]):>7.2f}{np.mean([r[2] for r in rows]):>12.2f}")
    print(f"(wall time {time.perf_counter() - t_all:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
