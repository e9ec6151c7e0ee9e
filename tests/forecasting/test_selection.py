"""Per-series model selection: a rolling backtest on recent validation days picks the lowest MAE, and a series
whose model loses to a baseline switches to the baseline."""

import numpy as np
import pandas as pd
import pytest

from forecasting import DayAheadSchedule, LoadForecaster
from forecasting.selection import (
    BASELINES,
    profile_7d,
    select_model,
    training_days_available,
    validation_origins,
)

from .conftest import FAST, synthetic_load

SCHEDULE = DayAheadSchedule(tz="America/Chicago", freq="PT1H")


def gbm() -> LoadForecaster:
    return LoadForecaster(SCHEDULE, params=FAST, country=None, exclude_features=("day_of_year",))


def test_profile_7d_is_the_mean_of_the_seven_known_days_at_the_same_time() -> None:
    index = pd.date_range("2023-01-01", periods=24 * 20, freq="1h", tz="UTC")
    day = ((index - index[0]) / pd.Timedelta(days=1)).astype(int)
    series = pd.Series(np.asarray(day, float), index=index)  # value = day number
    (origin,) = SCHEDULE.origins("2023-01-15", "2023-01-15")
    forecast = profile_7d(series, [origin])
    # issued on D-1 at 10:00 local: the latest fully known day is two days back, so days D-2 .. D-8 are averaged
    target_day = ((forecast.index - index[0]) / pd.Timedelta(days=1)).astype(int).to_numpy()
    np.testing.assert_allclose(forecast.to_numpy(), target_day - 5.0)


def test_validation_origins_end_before_the_selection_time() -> None:
    at = pd.Timestamp("2023-02-20 12:00", tz="UTC")
    origins = validation_origins(SCHEDULE, at, 14)
    assert len(origins) == 14
    assert all(o.target_index[-1] + SCHEDULE.step <= at for o in origins)


def test_training_window_is_all_history_up_to_two_years() -> None:
    series = synthetic_load(days=60)
    fit_time = series.index[-1]
    assert training_days_available(series, fit_time) == 59 - 8
    assert training_days_available(series, fit_time, max_days=30) == 30


def test_model_wins_on_a_regular_load_and_the_reason_says_so() -> None:
    series = synthetic_load(days=60)
    seen = []
    result = select_model(
        series,
        schedule=SCHEDULE,
        models={"gbm": gbm},
        at=series.index[-1],
        validation_days=7,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    assert set(result.mae) == {"gbm", *BASELINES}
    assert result.winner == min(result.mae, key=result.mae.get)
    assert seen[-1] == ("persistence", 4, 4) and seen[0] == ("gbm", 1, 4)
    assert result.train_days >= 40 and result.intervals == 7 * 24
    if not result.switched:
        assert result.reason.startswith(f"{result.winner} chosen")


def test_a_model_that_loses_to_a_baseline_is_switched_off() -> None:
    """A series that repeats exactly every week: seasonal naive is perfect, a model that is biased loses."""

    class Biased:
        schedule = SCHEDULE

        def fit(self, history, weather=None, **kwargs):  # type: ignore[no-untyped-def]
            self.history = history
            return self

        def predict_origins(self, origins, history=None):  # type: ignore[no-untyped-def]
            index = pd.DatetimeIndex(np.concatenate([o.target_index for o in origins]))
            return pd.DataFrame({"p50": self.history.reindex(index).fillna(0).to_numpy() + 50.0}, index=index)

    index = pd.date_range("2023-01-02", periods=24 * 50, freq="1h", tz="UTC")
    week = np.arange(len(index)) % (24 * 7)
    series = pd.Series(100 + np.sin(week / 24), index=index)
    result = select_model(series, schedule=SCHEDULE, models={"gbm": Biased}, at=index[-1], validation_days=7)
    assert result.winner == "seasonal_naive" and result.switched
    assert result.mae["seasonal_naive"] == pytest.approx(0.0, abs=1e-9)
    assert result.mae["gbm"] == pytest.approx(50.0, rel=0.05)
    assert "switched to the baseline seasonal_naive" in result.reason
    assert result.residual_band["gbm"] == pytest.approx((-50.0, -50.0), abs=1.0)
    assert result.as_dict()["winner"] == "seasonal_naive"


def test_too_little_validation_history_is_an_error() -> None:
    series = synthetic_load(days=3)
    with pytest.raises(ValueError, match="validation"):
        select_model(series, schedule=SCHEDULE, models={}, at=series.index[-1], validation_days=14)
