"""Small synthetic series shared by the forecasting tests (no real data needed)."""

import numpy as np
import pandas as pd
import pytest

from forecasting import GBMParams

FAST = GBMParams(max_iter=40, max_leaf_nodes=15, min_samples_leaf=10)


def synthetic_load(days: int = 60, freq: str = "1h", seed: int = 0, tz: str = "America/Chicago") -> pd.Series:
    """Load with a local daily shape, weekday/weekend levels, a slow trend and noise (MW-like units)."""
    index = pd.date_range(
        "2023-01-02", periods=days * pd.Timedelta("1D") // pd.Timedelta(freq), freq=freq, tz="UTC"
    )
    local = index.tz_convert(tz)
    hour = local.hour + local.minute / 60
    daily = 100 + 30 * np.sin((hour - 8) / 24 * 2 * np.pi)
    weekend = np.where(local.day_of_week >= 5, -15.0, 0.0)
    rng = np.random.default_rng(seed)
    trend = np.linspace(0, 10, len(index))
    return pd.Series(daily + weekend + trend + rng.normal(0, 2, len(index)), index=index, name="load_mw")


def synthetic_weather(index: pd.DatetimeIndex, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hour = index.hour
    temp = 10 + 8 * np.sin((hour - 9) / 24 * 2 * np.pi) + np.cumsum(rng.normal(0, 0.2, len(index)))
    return pd.DataFrame({"temperature_2m_c": temp}, index=index)


@pytest.fixture
def load_series() -> pd.Series:
    return synthetic_load()


@pytest.fixture
def fast_params() -> GBMParams:
    return FAST
