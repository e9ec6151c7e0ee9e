"""Server-side chart specs and resampling: a year of 15-minute data becomes ≤ 1000 aligned buckets whose
mean, min and max are right, gaps stay gaps, and it takes milliseconds."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from apps.dashboard.charts import Line, bar_chart, bucket_width_s, donut_chart, resample, timeseries_chart

YEAR_15MIN = pd.date_range("2025-01-01", periods=365 * 96, freq="15min", tz="UTC")


def year_series(seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(5000 + 1000 * rng.standard_normal(len(YEAR_15MIN)), index=YEAR_15MIN)


def test_year_of_15_minute_data_fits_in_max_points() -> None:
    series = year_series()
    r = resample(series, max_points=1000)
    assert r.step_s == 86400  # a day: 6 h would give 1460 buckets, half days are not offered
    assert len(r.t_ms) == 365
    assert r.t_ms[0] == YEAR_15MIN[0].value // 1_000_000
    assert np.all(np.diff(r.t_ms) == 86_400_000)
    first = series.iloc[:96]  # the first day of quarter hours
    assert r.mean[0] == pytest.approx(first.mean())
    assert (r.low[0], r.high[0]) == (first.min(), first.max())
    assert r.low.min() == series.min() and r.high.max() == series.max()


def test_short_series_keeps_native_resolution() -> None:
    day = pd.Series(np.arange(96.0), index=YEAR_15MIN[:96])
    r = resample(day)
    assert r.step_s == 900 and len(r.t_ms) == 96
    np.testing.assert_array_equal(r.mean, np.arange(96.0))


def test_gaps_stay_gaps() -> None:
    series = year_series()
    series.iloc[96 * 10 : 96 * 12] = np.nan  # two missing days
    spec = timeseries_chart(lines=[Line("IT load", series)], unit="kW")
    values = spec["series"][0]["values"]
    assert values[10:12] == [None, None]
    assert values[9] is not None and values[12] is not None


def test_buckets_align_to_utc_whatever_the_first_timestamp() -> None:
    index = pd.date_range("2025-03-01 00:45", periods=200, freq="15min", tz="UTC")
    r = resample(pd.Series(1.0, index=index), step_s=3600)
    assert r.t_ms[0] == pd.Timestamp("2025-03-01 00:00", tz="UTC").value // 1_000_000


def test_naive_index_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        resample(pd.Series([1.0], index=pd.DatetimeIndex(["2025-01-01"])))


def test_bucket_width_choice() -> None:
    assert bucket_width_s(span_s=86400, native_step_s=900) == 900
    assert bucket_width_s(span_s=86400 * 30, native_step_s=900, max_points=1000) == 3600
    assert bucket_width_s(span_s=86400 * 365, native_step_s=900, max_points=1000) == 86400
    assert bucket_width_s(span_s=86400, native_step_s=3600) == 3600  # never finer than the data
    assert bucket_width_s(span_s=86400 * 3650, native_step_s=900, max_points=100) == 604800


def test_timeseries_spec_with_bands_shares_one_grid() -> None:
    actual = year_series(1)
    forecast = year_series(2).iloc[-96 * 7 :]  # last week only
    spec = timeseries_chart(
        lines=[
            Line("Metered", actual, envelope=True),
            Line("Forecast p50", forecast, lower=forecast - 500, upper=forecast + 500, style="dashed"),
        ],
        unit="kW",
    )
    assert spec["kind"] == "timeseries" and spec["step_s"] == 86400
    n = len(spec["t"])
    assert n <= 1000
    metered, fc = spec["series"]
    assert len(metered["values"]) == len(metered["lower"]) == len(fc["upper"]) == n
    assert all(lo <= hi for lo, hi in zip(metered["lower"], metered["upper"], strict=True))
    assert fc["values"][0] is None and fc["values"][-1] is not None
    assert fc["style"] == "dashed"
    json.dumps(spec, allow_nan=False)  # valid JSON: no NaN


def test_year_resampling_is_fast() -> None:
    lines = [Line("Metered", year_series(1), envelope=True), Line("Baseline", year_series(2))]
    timeseries_chart(lines=lines, unit="kW")
    start = time.perf_counter()
    for _ in range(5):
        spec = timeseries_chart(lines=lines, unit="kW")
    per_chart_ms = (time.perf_counter() - start) / 5 * 1000
    assert per_chart_ms < 100, per_chart_ms
    assert len(json.dumps(spec)) < 60_000  # what the browser receives for a year of two series


def test_empty_specs_say_so() -> None:
    assert timeseries_chart(lines=[Line("x", pd.Series(dtype=float, index=YEAR_15MIN[:0]))], unit="kW")[
        "empty"
    ]
    assert bar_chart(categories=["A"], series={"MW": [0]}, unit="MW", empty="nothing")["empty"] == "nothing"
    assert "empty" not in bar_chart(categories=["A"], series={"MW": [1.5]}, unit="MW", empty="nothing")
    donut = donut_chart(slices={"a": 0.0, "b": 2.0}, unit="%", empty="none")
    assert donut["slices"] == [{"name": "b", "value": 2.0}] and "empty" not in donut
