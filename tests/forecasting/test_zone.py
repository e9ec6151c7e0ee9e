"""Zone price and carbon forecasts: level shifts, negative prices, the signal name."""

import numpy as np
import pandas as pd
import pytest

from forecasting import DayAheadSchedule, ZoneSignalForecaster
from tests.forecasting.conftest import FAST

TZ = "America/Los_Angeles"


def price(levels: list[float], days_each: int = 12, seed: int = 0) -> pd.Series:
    """Hourly price: an evening peak and a midday solar trough around a level that changes every block."""
    n = len(levels) * days_each * 24
    index = pd.date_range("2022-05-01 07:00", periods=n, freq="1h", tz="UTC")
    hour = index.tz_convert(TZ).hour
    shape = 1 + 0.4 * np.exp(-((hour - 19) ** 2) / 4) - 0.5 * np.exp(-((hour - 13) ** 2) / 6)
    level = np.repeat(levels, days_each * 24)
    return pd.Series(level * shape + np.random.default_rng(seed).normal(0, 2, n), index=index)


def test_follows_a_fuel_price_level_it_never_trained_on() -> None:
    series = price([40.0, 40.0, 120.0])  # the last block is three times any level seen in training
    issue = series.index[-1] - pd.Timedelta(days=2)
    model = ZoneSignalForecaster(DayAheadSchedule(tz=TZ), signal="price", country=None, params=FAST)
    model.fit(series[series.index < issue - pd.Timedelta(days=7)])
    forecast = model.predict(issue, history=series)
    actual = series.reindex(forecast.index)
    assert abs(forecast["p50"].mean() - actual.mean()) < 0.1 * actual.mean()
    assert forecast["p50"].idxmax().tz_convert(TZ).hour in (18, 19, 20)  # the evening peak


def test_negative_prices_give_finite_ordered_quantiles() -> None:
    series = price([30.0, 30.0, 30.0]) - 35.0  # mostly negative, mean near zero at times
    model = ZoneSignalForecaster(DayAheadSchedule(tz=TZ), signal="price", country=None, params=FAST)
    model.fit(series)
    forecast = model.predict(series.index[-1] - pd.Timedelta(days=2), history=series)
    values = forecast.to_numpy()
    assert np.isfinite(values).all() and (np.diff(values, axis=1) >= 0).all()
    assert forecast["p50"].min() < 0


def test_signal_names_the_model_and_unknown_signal_refused() -> None:
    assert ZoneSignalForecaster(signal="carbon").name == "gbm_carbon"
    assert ZoneSignalForecaster(signal="price").name == "gbm_price"
    with pytest.raises(ValueError, match="signal"):
        ZoneSignalForecaster(signal="gas")
