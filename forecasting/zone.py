"""Day-ahead forecasts of market-zone signals: wholesale price and grid carbon intensity."""

from __future__ import annotations

import pandas as pd

from forecasting.load import LoadForecaster
from forecasting.quantiles import GBMParams
from forecasting.schedule import Schedule

#: The zone signals this module forecasts and the model name each run is stored under.
SIGNALS = {"price": "gbm_price", "carbon": "gbm_carbon"}


class ZoneSignalForecaster(LoadForecaster):
    """Quantile (p10/p50/p90) day-ahead forecaster of a zone's hourly price (currency/MWh) or carbon intensity
    (gCO2/kWh); output in the unit of the series.

    Gradient boosting (:class:`~forecasting.load.LoadForecaster` machinery) on local calendar and public holidays,
    lags known at the issue time (same hour on the latest known / fully known day, a week earlier, 7-day same-hour
    mean and ±1 h profile, last value, 24-h mean/max/min) and, when given, exogenous columns at the target hour
    (``weather``): the zone's weather (temperature drives load and therefore price; cloud cover and wind drive solar
    and wind output and therefore carbon intensity) and its system-load forecast (the main driver of the marginal
    unit, hence of price and carbon). Exogenous columns at the target hour must be *forecasts* known at the issue
    time; observations stand in for perfect forecasts.

    The target and level features are divided by the 7-day mean absolute value before issue (``normalise="abs"``):
    wholesale prices move with fuel prices by a factor of 2-3 within a year (2022 gas prices), which level trees
    cannot extrapolate; the absolute value keeps the divisor positive when prices go negative. On CAISO NP15 2022
    this cut MAE from 18.1 to 15.6 USD/MWh (``benchmarks/forecasting/zone_signals.py``).

    Args:
        schedule: issue time (local, e.g. 10:00 before the day-ahead market closes), horizon, grid, time zone.
        signal: ``"price"`` or ``"carbon"`` (sets :attr:`name`).
        country, subdivision, quantile_method, params, weather_max_gap: see :class:`LoadForecaster`.
        exclude_features: defaults to ``("day_of_year",)`` (a year of history shows each day of year once).

    Raises:
        ValueError: unknown ``signal``.
    """

    version = "1"

    def __init__(
        self,
        schedule: Schedule | None = None,
        *,
        signal: str = "price",
        country: str | None = "US",
        subdivision: str | None = None,
        quantile_method: str = "quantile",
        params: GBMParams | None = None,
        weather_max_gap: pd.Timedelta | str = "PT3H",
        exclude_features: tuple[str, ...] = ("day_of_year",),
    ):
        if signal not in SIGNALS:
            raise ValueError(f"signal must be one of {sorted(SIGNALS)}, got {signal!r}")
        super().__init__(
            schedule,
            country=country,
            subdivision=subdivision,
            normalise="abs",
            quantile_method=quantile_method,
            params=params,
            weather_max_gap=weather_max_gap,
            exclude_features=exclude_features,
        )
        self.signal = signal
        self.name = SIGNALS[signal]
