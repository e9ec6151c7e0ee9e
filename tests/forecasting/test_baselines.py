import numpy as np
import pandas as pd
import pytest

from forecasting import baselines
from forecasting.schedule import DayAheadSchedule


@pytest.fixture
def ramp() -> pd.Series:
    """value = hours since the start, so a lag of k hours is visible as value(t) - k."""
    index = pd.date_range("2023-01-01", periods=24 * 20, freq="1h", tz="UTC")
    return pd.Series(np.arange(len(index), dtype=float), index=index)


def test_persistence_uses_the_latest_fully_known_day(ramp):
    schedule = DayAheadSchedule(tz="UTC", issue_time="10:00")
    origin = schedule.origin_for("2023-01-15")
    forecast = baselines.persistence(ramp, [origin])
    # issued 2023-01-14 10:00: 2023-01-14 is incomplete, so "yesterday" is 2023-01-13 (48 h back)
    expected = ramp.reindex(origin.target_index).to_numpy() - 48
    np.testing.assert_array_equal(forecast.to_numpy(), expected)


def test_seasonal_naive_uses_same_time_last_week(ramp):
    schedule = DayAheadSchedule(tz="UTC")
    origin = schedule.origin_for("2023-01-15")
    forecast = baselines.seasonal_naive(ramp, [origin])
    np.testing.assert_array_equal(forecast.to_numpy(), ramp.reindex(origin.target_index).to_numpy() - 168)


def test_baselines_ignore_values_after_issue(ramp):
    schedule = DayAheadSchedule(tz="UTC")
    origin = schedule.origin_for("2023-01-15")
    changed = ramp.copy()
    changed[changed.index + pd.Timedelta("1h") > origin.issue_time] = -999.0
    assert baselines.persistence(changed, [origin]).equals(baselines.persistence(ramp, [origin]))
    assert baselines.seasonal_naive(changed, [origin]).equals(baselines.seasonal_naive(ramp, [origin]))


def test_smart_persistence_scales_clear_sky_by_the_known_daily_ratio():
    index = pd.date_range("2023-06-01", periods=24 * 5, freq="1h", tz="UTC")
    clear = pd.Series(np.where((index.hour >= 6) & (index.hour < 18), 10.0, 0.0), index=index)
    power = clear * 0.5
    power["2023-06-03"] = clear["2023-06-03"] * 0.8  # latest fully known day for delivery on 06-05
    origin = DayAheadSchedule(tz="UTC").origin_for("2023-06-05")
    forecast = baselines.smart_persistence(power, clear, [origin])
    day = clear.reindex(origin.target_index)
    np.testing.assert_allclose(forecast.to_numpy(), 0.8 * day.to_numpy())
    assert (forecast[day.to_numpy() == 0] == 0.0).all()
