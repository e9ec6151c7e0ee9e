import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from forecasting.cli import main

from .conftest import synthetic_load, synthetic_weather

ROOT = Path(__file__).resolve().parents[2]
LOAD_KEYS = {
    "training_window",
    "model",
    "persistence",
    "seasonal_naive",
    "skill_mae_vs_seasonal_naive",
    "n_forecasts",
    "fit_seconds",
}
METRIC_KEYS = {"mae", "rmse", "mape_pct", "nrmse_pct", "pinball", "peak_error_pct"}


def _run(*args):
    """The real entry point in a subprocess (slow: imports pandas, scikit-learn, pvlib)."""
    return subprocess.run(
        [sys.executable, "-m", "forecasting", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def _main(capsys, *args):
    """The same CLI in-process: (exit status, stdout, stderr)."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _write(tmp_path, series, name="load.csv", fmt="%Y-%m-%dT%H:%M:%SZ"):
    path = tmp_path / name
    frame = pd.DataFrame({"interval_start_utc": series.index.strftime(fmt), "demand_mw": series.to_numpy()})
    frame.to_csv(path, index=False)
    return path


def test_cli_backtest_load_prints_a_table_and_writes_the_contract_json(tmp_path):
    series = synthetic_load(days=45)
    csv = _write(tmp_path, series)
    weather = synthetic_weather(series.index)
    wcsv = tmp_path / "weather.csv"
    weather.assign(timestamp_utc=weather.index.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(wcsv, index=False)
    out = tmp_path / "result.json"
    proc = _run(
        "backtest",
        "--csv",
        str(csv),
        "--time-column",
        "interval_start_utc",
        "--value-column",
        "demand_mw",
        "--kind",
        "load",
        "--weather-csv",
        str(wcsv),
        "--weather-time-column",
        "timestamp_utc",
        "--tz",
        "America/Chicago",
        "--issue-time",
        "10:00",
        "--horizon",
        "PT24H",
        "--freq",
        "PT1H",
        "--train-days",
        "30",
        "--start",
        "2023-02-06",
        "--end",
        "2023-02-12",
        "--output",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "seasonal_naive" in proc.stdout and "MAPE" in proc.stdout
    doc = json.loads(out.read_text())
    assert set(doc) == LOAD_KEYS
    for name in ("model", "persistence", "seasonal_naive"):
        assert set(doc[name]) == METRIC_KEYS
    assert doc["n_forecasts"] == 7
    assert "training window:" in proc.stdout
    window = doc["training_window"]
    assert window["first_fit_end"] <= window["last_fit_end"] and 0 < window["first_fit_days"] <= 30 + 8


def test_cli_backtest_pv_adds_smart_persistence(tmp_path, capsys):
    from forecasting import PVArraySpec, clear_sky_power

    spec = PVArraySpec(39.742, -105.1727, 45, 158, 3.2)
    index = pd.date_range("2023-05-01T06:00Z", periods=30 * 24, freq="1h")
    cs = clear_sky_power(spec, index, freq=pd.Timedelta("1h"))["ac_kw"]
    power = cs * pd.Series(index.day_of_year % 3 / 4 + 0.4, index=index)
    csv = _write(tmp_path, power, name="pv.csv")
    out = tmp_path / "pv.json"
    status, _, err = _main(
        capsys,
        "backtest",
        "--csv",
        str(csv),
        "--time-column",
        "interval_start_utc",
        "--value-column",
        "demand_mw",
        "--kind",
        "pv",
        "--lat",
        "39.742",
        "--lon",
        "-105.1727",
        "--tilt",
        "45",
        "--azimuth",
        "158",
        "--capacity-kw",
        "3.2",
        "--tz",
        "America/Denver",
        "--train-days",
        "20",
        "--start",
        "2023-05-25",
        "--end",
        "2023-05-28",
        "--output",
        str(out),
    )
    assert status == 0, err
    doc = json.loads(out.read_text())
    assert set(doc) == LOAD_KEYS | {"smart_persistence", "skill_rmse_vs_smart_persistence"}


def test_cli_rejects_naive_timestamps_and_missing_columns(tmp_path, capsys):
    series = synthetic_load(days=20)
    naive = _write(tmp_path, series, fmt="%Y-%m-%d %H:%M:%S")
    common = ["--time-column", "interval_start_utc", "--kind", "load"]
    status, _, err = _main(capsys, "backtest", "--csv", str(naive), "--value-column", "demand_mw", *common)
    assert status == 2
    assert "naive timestamps" in err
    good = _write(tmp_path, series, name="good.csv")
    status, _, err = _main(capsys, "backtest", "--csv", str(good), "--value-column", "nope", *common)
    assert status == 2
    assert "no value column 'nope'" in err
    status, _, err = _main(
        capsys,
        "backtest",
        "--csv",
        str(good),
        "--time-column",
        "interval_start_utc",
        "--value-column",
        "demand_mw",
        "--kind",
        "pv",
    )
    assert status == 2
    assert "--lat" in err


def test_cli_rejects_irregular_series_without_freq(tmp_path, capsys):
    series = synthetic_load(days=20).drop(pd.Timestamp("2023-01-05T03:00Z"))
    csv = _write(tmp_path, series)
    status, _, err = _main(
        capsys,
        "backtest",
        "--csv",
        str(csv),
        "--time-column",
        "interval_start_utc",
        "--value-column",
        "demand_mw",
        "--kind",
        "load",
    )
    assert status == 2
    assert "irregular frequency" in err
