"""Intraday updates: the schedule's window (rest of today + tomorrow), no look-ahead, and the value of updating."""

import numpy as np
import pandas as pd
import pytest

from forecasting import DayAheadSchedule, IntradaySchedule, LoadForecaster, mae, run_backtest
from tests.forecasting.conftest import FAST

TZ = "America/Chicago"


def test_update_covers_the_rest_of_today_and_tomorrow() -> None:
    schedule = IntradaySchedule(tz=TZ, freq="PT15M")
    issue = pd.Timestamp("2023-06-05 15:07", tz=TZ)
    origin = schedule.origin_at(issue)
    assert origin.issue_time == issue.tz_convert("UTC")
    assert origin.target_index[0] == pd.Timestamp("2023-06-05 15:15", tz=TZ)  # first interval after the issue
    assert origin.target_index[-1] == pd.Timestamp("2023-06-06 23:45", tz=TZ)  # end of the next local day
    assert (np.diff(origin.target_index.as_unit("ns").asi8) == pd.Timedelta("15min").value).all()


def test_window_follows_local_days_across_dst() -> None:
    schedule = IntradaySchedule(tz="Europe/Berlin", freq="PT1H")
    origin = schedule.origin_at(pd.Timestamp("2023-03-25 00:00", tz="Europe/Berlin"))
    assert len(origin.target_index) == 24 + 23  # Sunday 26 March has 23 hours


def test_origins_every_issue_step_of_each_local_day() -> None:
    schedule = IntradaySchedule(tz=TZ, issue_every="PT6H", freq="PT1H")
    origins = schedule.origins("2023-06-05", "2023-06-06")
    issues = [o.issue_time.tz_convert(TZ).strftime("%d %H") for o in origins]
    assert issues == ["05 00", "05 06", "05 12", "05 18", "06 00", "06 06", "06 12", "06 18"]


@pytest.mark.parametrize("bad", [{"issue_every": "PT7H"}, {"freq": "PT7M"}, {"tz": "Mars/Olympus"}])
def test_bad_schedule_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        IntradaySchedule(**bad)


def random_walk_load(days: int = 50, seed: int = 4) -> pd.Series:
    """A daily cycle on a level that wanders (a random walk): the latest values carry most of the information."""
    index = pd.date_range("2023-03-01", periods=days * 24, freq="1h", tz="UTC")
    rng = np.random.default_rng(seed)
    level = 500 + np.cumsum(rng.normal(0, 6, len(index)))
    hour = index.tz_convert(TZ).hour
    return pd.Series(level + 60 * np.sin((hour - 8) / 24 * 2 * np.pi), index=index)


def test_intraday_update_uses_only_values_known_at_issue() -> None:
    load = random_walk_load()
    issue = pd.Timestamp("2023-04-12 13:00", tz=TZ)
    model = LoadForecaster(IntradaySchedule(tz=TZ), country=None, params=FAST).fit(load, fit_time=issue)
    tampered = load.copy()
    tampered[tampered.index >= issue] += 1000.0
    a = model.predict(issue, history=load)
    b = model.predict(issue, history=tampered)
    pd.testing.assert_frame_equal(a, b)
    assert a.index[0] == issue and len(a) == 11 + 24


def test_updates_beat_the_day_ahead_forecast_on_the_same_hours() -> None:
    load = random_walk_load()
    days = ("2023-04-10", "2023-04-19")
    options = dict(country=None, params=FAST, exclude_features=("day_of_year",))
    day_ahead = run_backtest(
        LoadForecaster(DayAheadSchedule(tz=TZ), **options), load, start=days[0], end=days[1], train_days=None
    ).forecasts
    intraday = run_backtest(
        LoadForecaster(IntradaySchedule(tz=TZ, issue_every="PT6H"), **options),
        load,
        start=days[0],
        end=days[1],
        train_days=None,
    ).forecasts
    lead = intraday.index - intraday["issue_time"]
    short = intraday[lead <= pd.Timedelta(hours=6)]
    common = short.index.intersection(day_ahead.index)
    assert len(common) > 100
    err_intraday = mae(short.loc[common, "actual"], short.loc[common, "p50"])
    err_day_ahead = mae(day_ahead.loc[common, "actual"], day_ahead.loc[common, "p50"])
    assert err_intraday < 0.8 * err_day_ahead
