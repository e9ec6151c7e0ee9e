import pandas as pd
import pytest

from forecasting.schedule import DayAheadSchedule
from forecasting.timeseries import check_series, parse_clock, parse_duration


def test_parse_duration_and_clock():
    assert parse_duration("PT15M") == pd.Timedelta(minutes=15)
    assert parse_duration("PT24H") == pd.Timedelta(days=1)
    assert parse_duration("P1D") == pd.Timedelta(days=1)
    assert parse_clock("10:00").hour == 10
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration("15 minutes")
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock("25:00")


def test_naive_timestamps_are_rejected_with_a_clear_message():
    series = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2023-01-01", periods=3, freq="1h"))
    with pytest.raises(ValueError, match="naive timestamps"):
        check_series(series)


def test_irregular_frequency_is_rejected_with_a_clear_message():
    index = pd.DatetimeIndex(["2023-01-01 00:00", "2023-01-01 01:00", "2023-01-01 03:00"], tz="UTC")
    with pytest.raises(ValueError, match="irregular frequency"):
        check_series(pd.Series([1.0, 2.0, 3.0], index=index))


def test_unsorted_and_wrong_step_are_rejected():
    index = pd.DatetimeIndex(["2023-01-01 01:00", "2023-01-01 00:00"], tz="UTC")
    with pytest.raises(ValueError, match="not sorted"):
        check_series(pd.Series([1.0, 2.0], index=index))
    hourly = pd.Series([1.0, 2.0], index=pd.date_range("2023-01-01", periods=2, freq="1h", tz="UTC"))
    with pytest.raises(ValueError, match="expected"):
        check_series(hourly, freq=pd.Timedelta("15min"))


def test_other_time_zones_are_converted_to_utc():
    index = pd.date_range("2023-01-01", periods=3, freq="1h", tz="Europe/Berlin")
    out = check_series(pd.Series([1.0, 2.0, 3.0], index=index))
    assert str(out.index.tz) == "UTC"
    assert out.index[0] == pd.Timestamp("2022-12-31T23:00Z")


def test_day_ahead_origin_is_issued_10_local_on_d_minus_1_and_covers_the_local_day():
    schedule = DayAheadSchedule(tz="Europe/Berlin", issue_time="10:00", horizon="PT24H", freq="PT1H")
    origin = schedule.origin_for("2023-03-26")  # spring DST change: 23-hour day
    assert origin.issue_time == pd.Timestamp("2023-03-25T09:00Z")
    assert origin.target_index[0] == pd.Timestamp("2023-03-25T23:00Z")
    assert len(origin.target_index) == 23
    assert len(schedule.origin_for("2023-06-01").target_index) == 24
    assert schedule.delivery_day_of(origin.issue_time) == pd.Timestamp("2023-03-26").date()
    with pytest.raises(ValueError, match="time zone"):
        DayAheadSchedule(tz="Mars/Olympus")
