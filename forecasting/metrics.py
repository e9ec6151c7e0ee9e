"""Forecast error metrics.

All functions take equally long 1-D array-likes (NaN pairs are dropped) and return a float in the units of the
input (or percent where the name says ``_pct``). They raise ``ValueError`` on mismatched lengths or when nothing
is left to score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=float).ravel()
    f = np.asarray(forecast, dtype=float).ravel()
    if a.shape != f.shape:
        raise ValueError(f"actual and forecast lengths differ: {a.size} vs {f.size}")
    keep = np.isfinite(a) & np.isfinite(f)
    if not keep.any():
        raise ValueError("no finite (actual, forecast) pair to score")
    return a[keep], f[keep]


def mae(actual, forecast) -> float:
    """Mean absolute error, mean(|a − f|)."""
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f)))


def rmse(actual, forecast) -> float:
    """Root mean squared error, sqrt(mean((a − f)²))."""
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mape(actual, forecast, *, min_abs_actual: float = 0.0) -> float:
    """Mean absolute percentage error in percent, 100·mean(|a − f| / |a|), over pairs with |a| > min_abs_actual.

    ``min_abs_actual`` excludes near-zero actuals (e.g. PV at dawn), where the ratio is meaningless.

    Raises:
        ValueError: no actual above ``min_abs_actual``.
    """
    a, f = _pair(actual, forecast)
    keep = np.abs(a) > min_abs_actual
    if not keep.any():
        raise ValueError(f"MAPE undefined: no actual with |value| > {min_abs_actual}")
    return float(100.0 * np.mean(np.abs(a[keep] - f[keep]) / np.abs(a[keep])))


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent, 100·mean(2·|a − f| / (|a| + |f|)), in [0, 200]; pairs with |a| + |f| = 0 count
    as 0 (Makridakis 1993, "Accuracy measures", IJF 9(4); the M4 competition's form). Defined for prices near or
    below zero where MAPE is not.
    """
    a, f = _pair(actual, forecast)
    denominator = np.abs(a) + np.abs(f)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(denominator > 0, 2.0 * np.abs(a - f) / denominator, 0.0)
    return float(100.0 * np.mean(ratio))


def nmae(actual, forecast, *, normaliser: float) -> float:
    """Normalised MAE in percent, 100·MAE / normaliser (PV: normaliser = capacity; load: mean actual)."""
    if not normaliser > 0:
        raise ValueError(f"normaliser must be positive, got {normaliser}")
    return 100.0 * mae(actual, forecast) / normaliser


def nrmse(actual, forecast, *, normaliser: float) -> float:
    """Normalised RMSE in percent, 100·RMSE / normaliser (PV: normaliser = capacity; load: mean actual)."""
    if not normaliser > 0:
        raise ValueError(f"normaliser must be positive, got {normaliser}")
    return 100.0 * rmse(actual, forecast) / normaliser


def pinball_loss(actual, forecast, quantile: float) -> float:
    """Mean pinball (quantile) loss of forecast quantile ``quantile`` (Koenker & Bassett 1978, *Regression
    Quantiles*, Econometrica 46(1)): ρ_τ(u) = u·(τ − 1[u < 0]) with u = a − f.

    Raises:
        ValueError: ``quantile`` outside (0, 1).
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    a, f = _pair(actual, forecast)
    u = a - f
    return float(np.mean(np.maximum(quantile * u, (quantile - 1.0) * u)))


def mean_pinball_loss(actual, quantile_forecasts: Mapping[float, Sequence[float] | np.ndarray]) -> float:
    """Pinball loss averaged over several quantiles, e.g. ``{0.1: p10, 0.5: p50, 0.9: p90}``.

    A point forecast can be scored by passing it for every quantile (its score is then 0.5·MAE on average
    over symmetric quantile sets).
    """
    if not quantile_forecasts:
        raise ValueError("quantile_forecasts is empty")
    return float(np.mean([pinball_loss(actual, f, q) for q, f in quantile_forecasts.items()]))


def skill(metric: float, baseline_metric: float) -> float:
    """Skill score 1 − metric / baseline_metric (1 = perfect, 0 = as good as the baseline, < 0 = worse).

    Raises:
        ValueError: baseline_metric is not positive.
    """
    if not baseline_metric > 0:
        raise ValueError(f"baseline metric must be positive, got {baseline_metric}")
    return 1.0 - metric / baseline_metric


def daily_peak_error_pct(actual: pd.Series, forecast: pd.Series, *, tz: str = "UTC") -> float:
    """Mean daily peak error in percent: 100·mean over local days of |max(f) − max(a)| / max(a).

    Days are local calendar days in ``tz``; only pairs where both values are finite count, and days whose actual
    peak is not positive are skipped.

    Raises:
        ValueError: indexes differ or no day can be scored.
    """
    if not actual.index.equals(forecast.index):
        raise ValueError("actual and forecast must share the same index")
    frame = pd.DataFrame({"a": actual.to_numpy(float), "f": forecast.to_numpy(float)}, index=actual.index)
    frame = frame.dropna()
    day = frame.index.tz_convert(tz).date
    peaks = frame.groupby(day).max()
    peaks = peaks[peaks["a"] > 0]
    if peaks.empty:
        raise ValueError("no day with a positive actual peak to score")
    return float(100.0 * np.mean(np.abs(peaks["f"] - peaks["a"]) / peaks["a"]))


@dataclass(frozen=True)
class Scores:
    """The standard score card of one forecast against actuals (units of the series, or percent).

    ``nrmse_pct``/``nmae_pct`` are normalised by capacity for PV and by the mean actual for load. ``pinball`` is
    the mean pinball loss over p10/p50/p90 (a point forecast is used for all three).
    """

    mae: float
    rmse: float
    mape_pct: float
    nmae_pct: float
    nrmse_pct: float
    pinball: float
    peak_error_pct: float

    def contract_dict(self) -> dict[str, float]:
        """The keys of the CLI JSON contract (issue 4): mae, rmse, mape_pct, nrmse_pct, pinball, peak_error_pct."""
        data = asdict(self)
        data.pop("nmae_pct")
        return data


def score(
    actual: pd.Series,
    quantiles: pd.DataFrame | pd.Series,
    *,
    normaliser: float | None = None,
    tz: str = "UTC",
    mape_min_abs_actual: float = 0.0,
) -> Scores:
    """Score a forecast (DataFrame with p10/p50/p90, or a point Series) against ``actual`` on the same index.

    Args:
        normaliser: divisor for nMAE/nRMSE (capacity for PV); mean |actual| when None.
        tz: zone of the local days for the daily peak error.
        mape_min_abs_actual: actuals at or below this are left out of MAPE.
    """
    if isinstance(quantiles, pd.Series):
        quantiles = pd.DataFrame({"p10": quantiles, "p50": quantiles, "p90": quantiles})
    p50 = quantiles["p50"]
    norm = float(np.nanmean(np.abs(actual.to_numpy(float)))) if normaliser is None else float(normaliser)
    return Scores(
        mae=mae(actual, p50),
        rmse=rmse(actual, p50),
        mape_pct=mape(actual, p50, min_abs_actual=mape_min_abs_actual),
        nmae_pct=nmae(actual, p50, normaliser=norm),
        nrmse_pct=nrmse(actual, p50, normaliser=norm),
        pinball=mean_pinball_loss(actual, {0.1: quantiles["p10"], 0.5: p50, 0.9: quantiles["p90"]}),
        peak_error_pct=daily_peak_error_pct(actual, p50, tz=tz),
    )
