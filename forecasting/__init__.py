"""Pure forecasting library: features, models, baselines, backtests and metrics.

Never imports Django, Celery or ``apps``: pandas/numpy in, pandas/numpy or dataclasses out.

Series are ``pd.Series`` on a tz-aware UTC ``DatetimeIndex`` at a fixed step; a label is the start of the
half-open interval ``[start, start + step)`` and its value is known from ``start + step`` on. Forecasts are
DataFrames with columns ``p10``, ``p50``, ``p90`` (same unit as the series; PV in kW).

Public API::

    schedule = DayAheadSchedule(tz="America/Chicago", issue_time="10:00", horizon="PT24H", freq="PT1H")
    model = LoadForecaster(schedule, country="US", subdivision="TX").fit(load, weather=weather)
    model.predict(issue_time, horizon_index)            # -> DataFrame p10/p50/p90

    pv = PVForecaster(PVArraySpec(lat, lon, tilt, azimuth, capacity_kw), schedule).fit(power_kw, weather)
    zone = ZoneSignalForecaster(DayAheadSchedule(tz="America/Chicago"), signal="price").fit(price, weather=exog)
    intraday = LoadForecaster(IntradaySchedule(tz="America/Chicago", freq="PT15M")).fit(it_power_kw)
    intraday.predict(now)                                # rest of today and tomorrow

    result = run_backtest(model, load, start="2023-01-01", end="2023-12-31", weather=weather)
    result.contract_json()                               # the CLI JSON document

CLI: ``python -m forecasting backtest ...`` (see :mod:`forecasting.cli`).
"""

from forecasting.backtest import BacktestResult, run_backtest
from forecasting.baselines import persistence, seasonal_naive, smart_persistence
from forecasting.ensemble import EnsembleForecaster
from forecasting.load import LoadForecaster, load_ensemble
from forecasting.metrics import (
    Scores,
    daily_peak_error_pct,
    mae,
    mape,
    mean_pinball_loss,
    nmae,
    nrmse,
    pinball_loss,
    rmse,
    score,
    skill,
    smape,
)
from forecasting.peaks import PeakLiftedForecaster, lift_daily_peak
from forecasting.pv import PVForecaster
from forecasting.quantiles import GBMParams, QuantileModel
from forecasting.schedule import DayAheadSchedule, IntradaySchedule, Origin
from forecasting.solar import PVArraySpec, clear_sky_power, cloud_cover_ghi
from forecasting.zone import ZoneSignalForecaster

__all__ = [
    "BacktestResult",
    "DayAheadSchedule",
    "EnsembleForecaster",
    "GBMParams",
    "IntradaySchedule",
    "LoadForecaster",
    "Origin",
    "PVArraySpec",
    "PVForecaster",
    "PeakLiftedForecaster",
    "QuantileModel",
    "Scores",
    "ZoneSignalForecaster",
    "clear_sky_power",
    "cloud_cover_ghi",
    "daily_peak_error_pct",
    "lift_daily_peak",
    "load_ensemble",
    "mae",
    "mape",
    "mean_pinball_loss",
    "nmae",
    "nrmse",
    "persistence",
    "pinball_loss",
    "rmse",
    "run_backtest",
    "score",
    "seasonal_naive",
    "skill",
    "smape",
    "smart_persistence",
]
