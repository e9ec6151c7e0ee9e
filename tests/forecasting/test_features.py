import numpy as np
import pandas as pd
import pvlib

from forecasting.features import Grid, calendar_features, lag_features, origin_rows
from forecasting.schedule import DayAheadSchedule
from forecasting.solar import linke_turbidity


def test_calendar_features_are_in_local_time_with_holidays_as_sundays():
    times = pd.DatetimeIndex(["2023-07-04T17:00Z", "2023-07-05T17:00Z", "2023-07-03T17:00Z"])
    cal = calendar_features(times, tz="America/Los_Angeles", country="US", subdivision="CA")
    np.testing.assert_array_equal(cal["hour"], [10.0, 10.0, 10.0])  # 17:00 UTC = 10:00 PDT
    np.testing.assert_array_equal(cal["is_holiday"], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(cal["day_type"], [6.0, 2.0, 0.0])  # holiday, Wednesday, Monday
    np.testing.assert_array_equal(cal["near_holiday"], [0.0, 1.0, 1.0])


def test_lag_features_only_read_values_known_at_issue():
    index = pd.date_range("2023-01-01", periods=24 * 20, freq="1h", tz="UTC")
    series = pd.Series(np.arange(len(index), dtype=float), index=index)
    origin = DayAheadSchedule(tz="UTC", issue_time="10:00").origin_for("2023-01-15")
    grid = Grid(series)
    rows = origin_rows(grid, [origin])
    lags = lag_features(grid, rows)
    target = series.reindex(origin.target_index).to_numpy()
    last_known = series[: origin.issue_time - pd.Timedelta("1h")].iloc[
        -1
    ]  # interval 09:00-10:00 ended at 10:00
    assert (lags["last_value"] == last_known).all()
    np.testing.assert_array_equal(lags["same_time_full_day"], target - 48)
    # 00:00-09:00 of D-1 are known at 10:00 on D-1, later hours only on D-2
    np.testing.assert_array_equal(lags["same_time_recent"][:10], target[:10] - 24)
    np.testing.assert_array_equal(lags["same_time_recent"][10:], target[10:] - 48)
    np.testing.assert_array_equal(lags["same_time_week"], target - 168)
    for name, values in lags.items():
        if name not in ("lead_hours", "k_full"):
            assert np.nanmax(values) <= last_known, name


def test_cached_linke_turbidity_matches_pvlib_lookup():
    times = pd.date_range("2012-01-01", periods=365 * 4, freq="6h", tz="UTC")
    ours = linke_turbidity(39.742, -105.1727, times).to_numpy()
    reference = pvlib.clearsky.lookup_linke_turbidity(times, 39.742, -105.1727).to_numpy()
    assert np.abs(ours - reference).max() < 0.05
