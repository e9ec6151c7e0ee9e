"""Command line: ``python -m forecasting backtest ...`` (contract of issue 4; other tools rely on it).

Example::

    python -m forecasting backtest --csv load.csv --time-column interval_start_utc --value-column demand_mw \\
        --kind load --weather-csv weather.csv --weather-time-column timestamp_utc --tz America/Chicago \\
        --issue-time 10:00 --horizon PT24H --freq PT1H --train-days 365 --start 2023-01-01 --end 2023-12-31 \\
        --output result.json

Protocol: rolling origin, no look-ahead. Each local delivery day D from ``--start`` to ``--end`` is forecast at
``--issue-time`` on D-1 from the values known then; the model is refitted every ``--refit-days`` days, at the
issue time of the first forecast of the block, on all the history before it up to ``--train-days`` days (default
730: two years; all the history when it is shorter) plus a week for lag features; baselines (persistence,
seasonal naive) use the same issue times. The training window actually used (first and last fit) is printed and
stored under ``training_window`` in the JSON document.

Prints a score table and writes the JSON document of :meth:`BacktestResult.contract_json`. Bad input exits with
status 2 and a message naming the problem.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from forecasting.backtest import run_backtest
from forecasting.base import GridForecaster
from forecasting.ensemble import EnsembleForecaster
from forecasting.load import LoadForecaster, load_ensemble
from forecasting.pv import PVForecaster
from forecasting.schedule import DayAheadSchedule
from forecasting.solar import PVArraySpec
from forecasting.timeseries import parse_duration

_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def read_timed_csv(path: str | Path, time_column: str, *, name: str = "csv") -> pd.DataFrame:
    """Read a CSV whose ``time_column`` holds ISO 8601 timestamps with an offset; return it indexed in UTC.

    Rows with an empty timestamp are dropped.

    Raises:
        ValueError: missing file or column, or a timestamp without an offset (naive) or unparseable.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{name} file {str(path)!r} does not exist")
    frame = pd.read_csv(path)
    if time_column not in frame.columns:
        raise ValueError(f"{name} has no time column {time_column!r} (columns: {list(frame.columns)})")
    frame = frame[frame[time_column].notna() & (frame[time_column].astype(str).str.strip() != "")]
    text = frame[time_column].astype(str).str.strip()
    naive = ~text.str.contains(_OFFSET, regex=True)
    if naive.any():
        raise ValueError(
            f"{name} time column {time_column!r} has naive timestamps (e.g. {text[naive].iloc[0]!r}); "
            "timestamps must carry a UTC offset, e.g. '2023-01-01T00:00:00Z'"
        )
    try:
        index = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=True))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} time column {time_column!r} has unparseable timestamps: {exc}") from exc
    return frame.drop(columns=[time_column]).set_index(index.rename(time_column))


def load_series(
    path: str | Path, time_column: str, value_column: str, freq: pd.Timedelta | None
) -> pd.Series:
    """The value column of a CSV as a UTC series; averaged onto ``freq`` when given (e.g. 5-min → 15-min), else
    required to be regular already.

    Raises:
        ValueError: missing column, naive timestamps, or data coarser than ``freq``.
    """
    frame = read_timed_csv(path, time_column)
    if value_column not in frame.columns:
        raise ValueError(f"csv has no value column {value_column!r} (columns: {list(frame.columns)})")
    series = pd.to_numeric(frame[value_column], errors="coerce").astype(float).sort_index()
    if freq is None:
        return series
    steps = series.index.to_series().diff().dropna()
    if not steps.empty and steps.median() > freq:
        raise ValueError(f"data step {steps.median()} is coarser than --freq {freq}; cannot upsample")
    return series.resample(freq).mean()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m forecasting", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bt = sub.add_parser("backtest", help="rolling-origin day-ahead backtest against baselines")
    bt.add_argument("--csv", required=True, help="CSV with the series")
    bt.add_argument("--time-column", required=True, help="column with ISO 8601 interval starts with offset")
    bt.add_argument("--value-column", required=True, help="column with the values (kW for PV)")
    bt.add_argument("--kind", required=True, choices=["load", "pv"])
    bt.add_argument("--weather-csv", help="CSV of weather; every numeric column becomes a feature")
    bt.add_argument("--weather-time-column", default="timestamp_utc")
    for flag in ("--lat", "--lon", "--tilt", "--azimuth", "--capacity-kw"):
        bt.add_argument(flag, type=float, help="PV array (required for --kind pv)")
    bt.add_argument(
        "--tz", default="UTC", help="local time zone of issue time and calendar, e.g. Europe/Berlin"
    )
    bt.add_argument("--issue-time", default="10:00", help="local issue time on D-1 (HH:MM)")
    bt.add_argument(
        "--horizon", default="PT24H", help="ISO 8601 delivery window length from local midnight of D"
    )
    bt.add_argument(
        "--freq", default=None, help="grid step (ISO 8601); data are averaged onto it; default: inferred"
    )
    bt.add_argument(
        "--train-days",
        type=int,
        default=730,
        help="longest trailing training window in days (default two years; all history when shorter)",
    )
    bt.add_argument("--refit-days", type=int, default=7, help="refit the model every N delivery days")
    bt.add_argument("--start", help="first local delivery day (YYYY-MM-DD)")
    bt.add_argument("--end", help="last local delivery day (YYYY-MM-DD)")
    bt.add_argument("--country", default="US", help="holiday calendar country (load), or 'none'")
    bt.add_argument("--subdivision", default=None, help="holiday calendar subdivision, e.g. CA")
    bt.add_argument("--quantile-method", default="quantile", choices=["quantile", "residual"])
    bt.add_argument(
        "--ensemble", action="store_true", help="load: average a normalised and a level model (2 fits)"
    )
    bt.add_argument("--output", help="write the JSON result here")
    return parser


def _default_period(series: pd.Series, tz: str, train_days: int | None, start, end) -> tuple:
    days = series.dropna().index.tz_convert(tz)
    if days.empty:
        raise ValueError("the value column has no numeric value")
    first, last = days[0].date(), days[-1].date()
    end = pd.Timestamp(end).date() if end else last - pd.Timedelta(days=1)
    if start:
        start = pd.Timestamp(start).date()
    else:
        start = min(first + pd.Timedelta(days=min(train_days or 28, 365) + 1), end)
        start = max(start, first + pd.Timedelta(days=9))
    if start > end:
        raise ValueError(f"--start {start} is after --end {end}")
    return start, end


def _finite(obj):
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def training_window(series: pd.Series, result, train_days: int | None, refit_days: int) -> dict:
    """The history the first and the last fit of a backtest trained on: start (the later of the series' first
    value and ``train_days`` + 8 lag days before the fit), end (the fit time) and length in days, ISO 8601."""
    issues = pd.DatetimeIndex(sorted(set(result.forecasts["issue_time"])))
    fits = issues[::refit_days]
    first_value = series.dropna().index.min()
    out: dict = {"train_days_max": train_days}
    for name, fit in (("first_fit", fits[0]), ("last_fit", fits[-1])):
        start = max(first_value, fit - pd.Timedelta(days=(train_days or 10**5) + 8))
        out[f"{name}_start"] = start.isoformat()
        out[f"{name}_end"] = fit.isoformat()
        out[f"{name}_days"] = round((fit - start) / pd.Timedelta(days=1), 1)
    return out


def backtest_command(args: argparse.Namespace) -> dict:
    """Run the ``backtest`` sub-command; returns the JSON document (also printed as a table / written)."""
    freq = parse_duration(args.freq) if args.freq else None
    series = load_series(args.csv, args.time_column, args.value_column, freq)
    if freq is None:
        from forecasting.timeseries import infer_freq

        freq = infer_freq(series.index, name="csv")
    schedule = DayAheadSchedule(tz=args.tz, issue_time=args.issue_time, horizon=args.horizon, freq=freq)
    weather = None
    if args.weather_csv:
        weather = read_timed_csv(args.weather_csv, args.weather_time_column, name="weather csv")
        weather = weather.apply(pd.to_numeric, errors="coerce").sort_index()
    country = None if str(args.country).lower() == "none" else args.country
    clear_sky, capacity = None, None
    forecaster: GridForecaster | EnsembleForecaster
    if args.kind == "pv":
        needed = {
            "--lat": args.lat,
            "--lon": args.lon,
            "--tilt": args.tilt,
            "--azimuth": args.azimuth,
            "--capacity-kw": args.capacity_kw,
        }
        missing = [flag for flag, value in needed.items() if value is None]
        if missing:
            raise ValueError(f"--kind pv needs {', '.join(missing)}")
        spec = PVArraySpec(args.lat, args.lon, args.tilt, args.azimuth, args.capacity_kw)
        forecaster = PVForecaster(spec, schedule, quantile_method=args.quantile_method)
        grid = pd.date_range(series.index[0], series.index[-1] + pd.Timedelta(days=3), freq=freq)
        clear_sky, capacity = forecaster.clear_sky(grid), spec.capacity_kw
    else:
        options = dict(country=country, subdivision=args.subdivision, quantile_method=args.quantile_method)
        forecaster = (
            load_ensemble(schedule, **options) if args.ensemble else LoadForecaster(schedule, **options)
        )
    start, end = _default_period(series, args.tz, args.train_days, args.start, args.end)
    result = run_backtest(
        forecaster,
        series,
        start=start,
        end=end,
        weather=weather,
        train_days=args.train_days,
        refit_days=args.refit_days,
        clear_sky=clear_sky,
        capacity=capacity,
    )
    print(
        f"backtest {args.kind} {start}..{end} issued {args.issue_time} {args.tz} D-1, horizon {args.horizon}"
    )
    print(result.table())
    window = training_window(series, result, args.train_days, args.refit_days)
    print(
        f"training window: {window['first_fit_start']}..{window['first_fit_end']} ({window['first_fit_days']} days) "
        f"at the first fit, {window['last_fit_start']}..{window['last_fit_end']} ({window['last_fit_days']} days) "
        f"at the last; at most {args.train_days} days"
    )
    document = _finite({**result.contract_json(), "training_window": window})
    if args.output:
        Path(args.output).write_text(json.dumps(document, indent=2) + "\n")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 ok, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "backtest":
            backtest_command(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
