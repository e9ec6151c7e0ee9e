import numpy as np
import pandas as pd
import pytest

from forecasting import DayAheadSchedule, LoadForecaster, run_backtest
from forecasting.peaks import PeakLiftedForecaster, lift_daily_peak

TZ = "America/Chicago"


def _frame() -> pd.DataFrame:
    index = pd.date_range("2023-07-01", periods=48, freq="1h", tz="UTC")
    p50 = np.concatenate([np.arange(24.0), 100 - np.arange(24.0)])
    issue = np.repeat(pd.to_datetime(["2023-06-30T15:00Z", "2023-07-01T15:00Z"]), 24)
    return pd.DataFrame({"issue_time": issue, "p10": p50 - 5, "p50": p50, "p90": p50 + 10}, index=index)


def test_only_the_top_hours_of_each_forecast_move_toward_p90():
    frame = _frame()
    out = lift_daily_peak(frame, weight=0.3, top_hours=3)
    moved = out["p50"] != frame["p50"]
    # first forecast peaks at its last three rows (21, 22, 23), the second at its first three (100, 99, 98)
    assert list(np.flatnonzero(moved)) == [21, 22, 23, 24, 25, 26]
    np.testing.assert_allclose(out["p50"][moved], frame["p50"][moved] + 3.0)
    assert out[["p10", "p90", "issue_time"]].equals(frame[["p10", "p90", "issue_time"]])
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()


def test_weight_zero_is_a_copy_and_weight_one_reaches_p90():
    frame = _frame()
    assert lift_daily_peak(frame, weight=0.0, top_hours=3).equals(frame)
    top = lift_daily_peak(frame, weight=1.0, top_hours=1)
    assert top["p50"].iloc[23] == frame["p90"].iloc[23] and top["p50"].iloc[24] == frame["p90"].iloc[24]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weight": -0.1, "top_hours": 3}, "weight"),
        ({"weight": 1.5, "top_hours": 3}, "weight"),
        ({"weight": 0.3, "top_hours": 0}, "top_hours"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lift_daily_peak(_frame(), **kwargs)
    with pytest.raises(ValueError, match="no column issue_time"):
        lift_daily_peak(_frame().drop(columns="issue_time"), weight=0.3, top_hours=3)


def test_wrapped_forecaster_lifts_its_base_and_keeps_the_backtest_free_of_look_ahead(
    load_series, fast_params
):
    schedule = DayAheadSchedule(tz=TZ)
    base = LoadForecaster(schedule, params=fast_params).fit(
        load_series, fit_time=pd.Timestamp("2023-02-20T00:00Z")
    )
    wrapped = PeakLiftedForecaster(base, weight=0.5, top_hours=2)
    issue = pd.Timestamp("2023-02-21 10:00", tz=TZ)
    plain = base.predict(issue, history=load_series)
    lifted = wrapped.predict(issue, history=load_series)
    assert list(lifted.columns) == ["p10", "p50", "p90"]
    changed = lifted["p50"] != plain["p50"]
    assert changed.sum() == 2
    assert set(plain["p50"].nlargest(2).index) == set(plain.index[changed])
    assert (lifted["p50"][changed] > plain["p50"][changed]).all()

    def run(series):
        model = PeakLiftedForecaster(LoadForecaster(schedule, params=fast_params), weight=0.5, top_hours=2)
        return run_backtest(model, series, start="2023-02-20", end="2023-02-27", train_days=30, refit_days=3)

    before = run(load_series)
    cut = schedule.origin_for("2023-02-24").issue_time
    changed_series = load_series.copy()
    changed_series[changed_series.index + pd.Timedelta("1h") > cut] += 500.0
    after = run(changed_series)
    early = before.forecasts.index < schedule.origin_for("2023-02-24").target_index[0]
    assert early.sum() == 4 * 24
    pd.testing.assert_frame_equal(
        before.forecasts.loc[early, ["p10", "p50", "p90"]], after.forecasts.loc[early, ["p10", "p50", "p90"]]
    )
    assert not before.forecasts.loc[~early, "p50"].equals(after.forecasts.loc[~early, "p50"])
    with pytest.raises(ValueError, match="weight"):
        PeakLiftedForecaster(base, weight=2.0)
