"""Golden examples of the baseline methods (hand-computed; see each test's comment for the arithmetic).

The calendar: the event is on Wednesday 2026-07-08, 14:00–16:00 in Los Angeles (PDT, UTC−7), hourly intervals.
Before it: 2026-07-04/05 is a weekend, Friday 2026-07-03 is the observed Independence Day holiday, 2026-06-19 is
Juneteenth (a Friday holiday), and 2026-07-01 was an earlier event day of the site.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from forecasting import customer_baselines as bl

TZ = "America/Los_Angeles"
EVENT_DAY = date(2026, 7, 8)
EVENT_INDEX = pd.DatetimeIndex(
    [pd.Timestamp("2026-07-08 14:00", tz=TZ), pd.Timestamp("2026-07-08 15:00", tz=TZ)]
).tz_convert("UTC")

# The ten eligible days, most recent first, written out by hand from the calendar above.
TEN_ELIGIBLE = [
    date(2026, 7, 7),
    date(2026, 7, 6),
    date(2026, 7, 2),
    date(2026, 6, 30),
    date(2026, 6, 29),
    date(2026, 6, 26),
    date(2026, 6, 25),
    date(2026, 6, 24),
    date(2026, 6, 23),
    date(2026, 6, 22),
]
# Day level of each eligible day: 100, 110, …, 190 (mean 145); every other day is 1000, so including any
# excluded day (weekend, holiday, event day, an eleventh day) would move the average far away.
LEVEL = {day: 100.0 + 10.0 * i for i, day in enumerate(TEN_ELIGIBLE)}


def _history(event_day_window=None) -> pd.Series:
    """Hourly load: ``level(day) + local hour`` kW from 2026-06-01 to the event day's 14:00. On the event day
    the hours 09–12 (the adjustment window) follow ``event_day_window(hour)``, hour 13 is 10 000 kW (inside
    the hour left out before the event), other hours 1000 kW."""
    index = pd.date_range(
        pd.Timestamp("2026-06-01", tz=TZ), pd.Timestamp("2026-07-08 14:00", tz=TZ), freq="h", inclusive="left"
    )
    values = []
    for t in index:
        day, hour = t.date(), t.hour
        if day == EVENT_DAY:
            if 9 <= hour <= 12 and event_day_window is not None:
                values.append(event_day_window(hour))
            elif hour == 13:
                values.append(10_000.0)
            else:
                values.append(1000.0)
        else:
            values.append(LEVEL.get(day, 1000.0) + hour)
    return pd.Series(values, index=index.tz_convert("UTC"))


def _candidates() -> list[date]:
    holidays = bl.holiday_dates(zone_code="CAISO_NP15", years=[2026])
    return bl.eligible_days(
        event_day=EVENT_DAY, lookback_days=45, holidays=holidays, event_days={date(2026, 7, 1)}
    )


def test_holidays_come_from_the_zone_calendar() -> None:
    holidays = bl.holiday_dates(zone_code="CAISO_NP15", years=[2026])
    assert date(2026, 7, 3) in holidays  # Independence Day observed (Friday)
    assert date(2026, 6, 19) in holidays  # Juneteenth
    assert date(2026, 7, 6) not in holidays
    assert bl.holiday_dates(zone_code="NOWHERE", years=[2026]) == set()


def test_eligible_days_exclude_weekends_holidays_and_event_days() -> None:
    days = _candidates()
    assert days[:10] == TEN_ELIGIBLE
    assert date(2026, 7, 3) not in days  # holiday
    assert date(2026, 7, 4) not in days and date(2026, 7, 5) not in days  # weekend
    assert date(2026, 7, 1) not in days  # earlier event day
    assert date(2026, 6, 19) not in days  # Juneteenth
    assert days[10] == date(2026, 6, 18)


def test_weekends_can_be_kept() -> None:
    days = bl.eligible_days(event_day=EVENT_DAY, lookback_days=5, exclude_weekends=False)
    assert days == [EVENT_DAY - timedelta(days=n) for n in range(1, 6)]


def test_ten_of_ten_without_adjustment_averages_the_same_hour() -> None:
    # mean level 145; 14:00 → 145 + 14 = 159, 15:00 → 160
    result = bl.ten_of_ten(
        _history(), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates(), adjustment=None
    )
    assert list(result.values) == pytest.approx([159.0, 160.0])
    assert result.days == tuple(TEN_ELIGIBLE)
    assert result.adjustment is None


def test_ten_of_ten_day_of_adjustment_within_the_cap() -> None:
    # window 09:00–13:00 (4 h ending 1 h before the event): baseline mean 145 + 10.5 = 155.5; actual 1.1 × that;
    # ratio 1.1 → 159 × 1.1 = 174.9, 160 × 1.1 = 176.0. Hour 13 (10 000 kW) is not in the window.
    result = bl.ten_of_ten(
        _history(lambda h: 1.1 * (145.0 + h)), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates()
    )
    assert result.adjustment == pytest.approx(1.1)
    assert not result.adjustment_capped
    assert list(result.values) == pytest.approx([174.9, 176.0])


def test_ten_of_ten_adjustment_capped_upwards_at_20_percent() -> None:
    # actual = 2 × baseline over the window → ratio 2 capped to 1.2 → 190.8, 192.0
    result = bl.ten_of_ten(
        _history(lambda h: 2.0 * (145.0 + h)), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates()
    )
    assert result.adjustment == pytest.approx(1.2)
    assert result.adjustment_capped
    assert list(result.values) == pytest.approx([190.8, 192.0])


def test_ten_of_ten_adjustment_capped_downwards_at_20_percent() -> None:
    # actual = 0.5 × baseline → ratio 0.5 capped to 0.8 → 127.2, 128.0
    result = bl.ten_of_ten(
        _history(lambda h: 0.5 * (145.0 + h)), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates()
    )
    assert result.adjustment == pytest.approx(0.8)
    assert result.adjustment_capped
    assert list(result.values) == pytest.approx([127.2, 128.0])


def test_a_day_with_missing_meter_data_is_skipped() -> None:
    history = _history()
    # drop 2026-07-07 15:00 local: that day is incomplete, so the 11th eligible day (06-18, level 1000) comes in
    history = history.drop(pd.Timestamp("2026-07-07 15:00", tz=TZ).tz_convert("UTC"))
    result = bl.ten_of_ten(
        history, event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates(), adjustment=None
    )
    assert date(2026, 7, 7) not in result.days and date(2026, 6, 18) in result.days
    # levels: (110 + … + 190) + 1000 = 1350 + 1000 → mean 235; 14:00 → 249
    assert result.values.iloc[0] == pytest.approx(249.0)


def test_high_4_of_5_takes_the_four_highest_of_the_five_most_recent() -> None:
    # five most recent eligible: levels 100, 110, 120, 130, 140 → the highest four: 110…140, mean 125
    result = bl.high_x_of_y(
        _history(), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates(), adjustment=None
    )
    assert set(result.days) == {date(2026, 7, 6), date(2026, 7, 2), date(2026, 6, 30), date(2026, 6, 29)}
    assert list(result.values) == pytest.approx([139.0, 140.0])


def test_high_4_of_5_symmetric_additive_adjustment() -> None:
    # PJM SAA window: 3 h ending 1 h before → 10:00–13:00, baseline mean 125 + 11 = 136; actual + 5 kW → +5
    result = bl.high_x_of_y(
        _history(lambda h: 125.0 + h + 5.0), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates()
    )
    assert result.adjustment == pytest.approx(5.0)
    assert list(result.values) == pytest.approx([144.0, 145.0])


def test_additive_adjustment_is_capped() -> None:
    # actual + 100 kW, bound 0.2 × 136 = 27.2 → 139 + 27.2 = 166.2
    result = bl.high_x_of_y(
        _history(lambda h: 125.0 + h + 100.0), event_index=EVENT_INDEX, tz=TZ, candidate_days=_candidates()
    )
    assert result.adjustment_capped
    assert result.values.iloc[0] == pytest.approx(166.2)


def test_no_eligible_day_with_data_raises() -> None:
    with pytest.raises(bl.BaselineError):
        bl.ten_of_ten(_history(), event_index=EVENT_INDEX, tz=TZ, candidate_days=[date(2025, 1, 2)])


def test_forecast_baseline_averages_finer_values_and_scales_it_power_by_pue() -> None:
    start = EVENT_INDEX[0]
    quarter = pd.date_range(start, periods=8, freq="15min")
    forecast = pd.Series([100, 200, 300, 400, 10, 20, 30, 40], index=quarter, dtype=float)
    # hourly means: 250 and 25; × PUE 1.2 → 300 and 30
    site = bl.forecast_baseline(forecast, event_index=EVENT_INDEX)
    assert list(site.values) == pytest.approx([250.0, 25.0])
    it = bl.forecast_baseline(forecast, event_index=EVENT_INDEX, pue=1.2)
    assert list(it.values) == pytest.approx([300.0, 30.0])
    assert it.method == "forecast_it_x_pue"


def test_forecast_baseline_holds_coarser_values_and_refuses_gaps() -> None:
    quarter_index = pd.date_range(EVENT_INDEX[0], periods=8, freq="15min")
    hourly = pd.Series([500.0, 600.0], index=EVENT_INDEX)
    assert list(bl.forecast_baseline(hourly, event_index=quarter_index).values) == [500.0] * 4 + [600.0] * 4
    with pytest.raises(bl.BaselineError):
        bl.forecast_baseline(hourly.iloc[:1], event_index=EVENT_INDEX)


def test_local_days_of_event_spans() -> None:
    from datetime import UTC, date, datetime

    spans = [
        (
            datetime(2022, 9, 6, 1, 0, tzinfo=UTC),
            datetime(2022, 9, 6, 3, 0, tzinfo=UTC),
        ),  # 5 Sep evening in LA
        (
            datetime(2022, 9, 7, 6, 0, tzinfo=UTC),
            datetime(2022, 9, 8, 9, 0, tzinfo=UTC),
        ),  # 6 Sep 23:00 → 8 Sep 02:00
        (datetime(2022, 9, 10, 20, 0, tzinfo=UTC), None),  # open end: its start's day
    ]
    assert bl.local_days(spans, "America/Los_Angeles") == {
        date(2022, 9, 5),
        date(2022, 9, 6),
        date(2022, 9, 7),
        date(2022, 9, 8),
        date(2022, 9, 10),
    }
