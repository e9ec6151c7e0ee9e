"""Reads into pandas and resampling by the quantity's rule (mean for power and prices, sum for energy, last
for state of charge), with coverage and gap reporting, on small hand-made series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.telemetry.selectors import (
    datapoints_series,
    timeseries_find,
    timeseries_frame,
    timeseries_resampled,
)
from apps.telemetry.services import datapoints_ingest
from tests.factories import BatteryFactory, TimeSeriesFactory, ZoneSeriesFactory

pytestmark = pytest.mark.django_db

T0 = pd.Timestamp("2022-09-01T00:00:00Z")


def put(series, minutes_values: dict[int, float]) -> None:  # type: ignore[no-untyped-def]
    index = pd.DatetimeIndex([T0 + pd.Timedelta(minutes=m) for m in minutes_values])
    datapoints_ingest(series=series, rows=pd.Series(list(minutes_values.values()), index=index))


def test_raw_read_is_sorted_utc_and_half_open() -> None:
    series = TimeSeriesFactory()
    put(series, {30: 3.0, 0: 1.0, 15: 2.0, 60: 4.0})
    raw = datapoints_series(series=series, start=T0, end=T0 + pd.Timedelta(hours=1))
    assert raw.index.tz is not None and str(raw.index.tz) == "UTC"
    assert raw.index.name == "start"
    assert raw.tolist() == [1.0, 2.0, 3.0]  # the 60-minute point starts at `end` and is excluded
    with pytest.raises(ValueError, match="time zone"):
        datapoints_series(series=series, start=T0.tz_localize(None), end=T0 + pd.Timedelta(hours=1))


def test_mean_downsampling_power() -> None:
    series = TimeSeriesFactory()  # it_power_kw, PT15M
    put(series, {0: 1, 15: 2, 30: 3, 45: 4, 60: 5, 75: 6, 90: 7, 105: 8})
    result = timeseries_resampled(series=series, start=T0, end=T0 + pd.Timedelta(hours=2), resolution_s=3600)
    assert result.aggregation == "mean"
    assert result.values.tolist() == [2.5, 6.5]
    assert result.coverage.tolist() == [1.0, 1.0]
    assert result.gaps == []


def test_mean_with_missing_points_reports_coverage_and_gaps() -> None:
    series = TimeSeriesFactory()
    put(series, {0: 10, 15: 20, 45: 30})  # 00:30 missing; 01:00–02:00 empty
    result = timeseries_resampled(series=series, start=T0, end=T0 + pd.Timedelta(hours=2), resolution_s=3600)
    assert result.values.iloc[0] == pytest.approx(20.0)
    assert np.isnan(result.values.iloc[1])
    assert result.coverage.tolist() == [0.75, 0.0]
    assert result.gaps == [
        (T0 + pd.Timedelta(minutes=30), T0 + pd.Timedelta(minutes=45)),
        (T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=2)),
    ]


def test_sum_for_energy_down_and_up() -> None:
    series = TimeSeriesFactory(quantity="energy_kwh", unit="kWh")
    put(series, {0: 1, 15: 2, 30: 3, 45: 4})
    hourly = timeseries_resampled(series=series, start=T0, end=T0 + pd.Timedelta(hours=1), resolution_s=3600)
    assert hourly.aggregation == "sum"
    assert hourly.values.tolist() == [10.0]
    five_min = timeseries_resampled(
        series=series, start=T0, end=T0 + pd.Timedelta(minutes=30), resolution_s=300
    )
    assert five_min.values.tolist() == pytest.approx([1 / 3] * 3 + [2 / 3] * 3)  # split evenly


def test_last_for_state_of_charge() -> None:
    battery = BatteryFactory(energy_capacity_kwh=1000)
    series = TimeSeriesFactory(
        site=None, battery=battery, quantity="soc_kwh", unit="kWh", resolution="PT5M", resolution_s=300
    )
    put(series, {0: 500, 5: 480, 10: 460, 15: 700, 20: 650})  # 00:25 missing: the latest present wins
    result = timeseries_resampled(
        series=series, start=T0, end=T0 + pd.Timedelta(minutes=30), resolution_s=900
    )
    assert result.aggregation == "last"
    assert result.values.tolist() == [460.0, 650.0]
    assert result.coverage.tolist() == pytest.approx([1.0, 2 / 3])


def test_mean_upsampling_repeats_prices() -> None:
    series = ZoneSeriesFactory()  # price, PT1H
    put(series, {0: 80.0, 60: 120.0})
    result = timeseries_resampled(series=series, start=T0, end=T0 + pd.Timedelta(hours=2), resolution_s=900)
    assert result.values.tolist() == [80.0] * 4 + [120.0] * 4
    assert result.resolution == "PT15M"


def test_range_is_aligned_to_the_coarser_resolution() -> None:
    series = TimeSeriesFactory()
    put(series, {0: 1, 15: 1, 30: 1, 45: 1})
    result = timeseries_resampled(
        series=series,
        start=T0 + pd.Timedelta(minutes=20),
        end=T0 + pd.Timedelta(minutes=50),
        resolution_s=3600,
    )
    assert (result.start, result.end) == (T0, T0 + pd.Timedelta(hours=1))
    assert result.values.tolist() == [1.0]


def test_empty_range_is_one_gap() -> None:
    series = TimeSeriesFactory()
    result = timeseries_resampled(series=series, start=T0, end=T0 + pd.Timedelta(hours=1))
    assert result.values.isna().all() and len(result.values) == 4
    assert result.gaps == [(T0, T0 + pd.Timedelta(hours=1))]
    assert list(result.frame().columns) == ["value", "coverage"]


def test_incompatible_resolution_refused() -> None:
    series = TimeSeriesFactory()  # PT15M
    with pytest.raises(ValueError, match="neither a multiple nor a divisor"):
        timeseries_resampled(series=series, start=T0, end=T0 + pd.Timedelta(hours=1), resolution_s=600)


def test_frame_of_several_series_and_find() -> None:
    price = ZoneSeriesFactory()  # CAISO_NP15 price, PT1H, mean
    energy = TimeSeriesFactory(quantity="energy_kwh", unit="kWh")  # PT15M, sum
    put(price, {0: 80.0})
    put(energy, {0: 1.0, 15: 2.0, 30: 3.0, 45: 4.0, 60: 5.0})
    frame = timeseries_frame(
        series=[price, energy], start=T0, end=T0 + pd.Timedelta(hours=2), resolution_s=3600
    )
    assert list(frame.columns) == ["zone:CAISO_NP15/price", f"site:{energy.site_id}/energy_kwh"]
    assert frame.iloc[0].tolist() == [80.0, 10.0]
    assert np.isnan(frame.iloc[1, 0]) and frame.iloc[1, 1] == 5.0
    assert timeseries_find(owner=price.market_zone, quantity="price") == price
    assert timeseries_find(owner=energy.site, quantity="energy_kwh", name="other") is None
