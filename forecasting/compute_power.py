"""Compute ↔ power mapping: a monotone piecewise-linear model from utilisation to IT power, and its inverse.

Datacenter operators model a server's (or a cluster's) power as an idle floor plus a roughly linear rise with CPU
utilisation, with a slope that changes with load (Fan, Weber & Barroso, "Power provisioning for a
warehouse-sized computer", ISCA 2007: P(u) = P_idle + (P_busy − P_idle)·u, refined by a calibrated curve;
Barroso, Hölzle & Ranganathan, *The Datacenter as a Computer*, 3rd ed. 2018, §5 "energy proportionality").
This module fits the calibrated curve as a *continuous, non-decreasing piecewise-linear* function

    P(u) = p_0 + Σ_i s_i · clip(u − k_i, 0, k_{i+1} − k_i),   s_i ≥ 0,

with knots ``k_0 < … < k_m`` at quantiles of the training utilisation (so every segment has data) and the
slopes found by bounded linear least squares (``scipy.optimize.lsq_linear``, ``s ≥ 0``, ``p_0`` free). Outside
``[k_0, k_m]`` the end segments extend linearly (power is floored at 0). Because the function is monotone it has
an inverse: a power setpoint becomes the largest utilisation (compute cap) whose predicted power stays within
it — how a kW setpoint is handed to a scheduler that only understands utilisation or work rate.

Units: utilisation is a fraction of the fleet's compute capacity (0…1, e.g. mean normalised CPU usage); power is
in whatever unit the training target uses — a fraction of rated IT power (Google's PDU traces) or kW. Use
:meth:`ComputePowerModel.predict_kw` / :meth:`ComputePowerModel.cap_for_kw` with the rated IT power in kW to
convert. Pure library: numpy/scipy in and out, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import lsq_linear


@dataclass(frozen=True, eq=False)
class ComputePowerModel:
    """A fitted monotone piecewise-linear map utilisation → power.

    Attributes:
        knots_utilization: ``(m + 1,)`` strictly increasing utilisation knots (fraction).
        power_at_knots: ``(m + 1,)`` non-decreasing power at the knots (training unit, e.g. fraction of rated).
        unit: the power unit of ``power_at_knots`` (``"fraction_of_rated"`` or ``"kW"``).
    """

    knots_utilization: np.ndarray
    power_at_knots: np.ndarray
    unit: str = "fraction_of_rated"

    def __post_init__(self) -> None:
        k = np.asarray(self.knots_utilization, dtype=np.float64)
        p = np.asarray(self.power_at_knots, dtype=np.float64)
        if k.ndim != 1 or k.size < 2 or k.shape != p.shape:
            raise ValueError("knots_utilization and power_at_knots need the same length, at least 2")
        if not (np.all(np.isfinite(k)) and np.all(np.isfinite(p))):
            raise ValueError("knots and powers must be finite")
        if np.any(np.diff(k) <= 0):
            raise ValueError("knots_utilization must be strictly increasing")
        if np.any(np.diff(p) < -1e-12):
            raise ValueError("power_at_knots must be non-decreasing (the model is monotone)")
        object.__setattr__(self, "knots_utilization", k)
        object.__setattr__(self, "power_at_knots", p)

    @property
    def slopes(self) -> np.ndarray:
        """Segment slopes ``(m,)``, power unit per unit of utilisation (all ≥ 0)."""
        return np.diff(self.power_at_knots) / np.diff(self.knots_utilization)

    def predict(self, utilization: Any) -> np.ndarray:
        """Power for each utilisation (same shape as the input), in :attr:`unit`; end segments extrapolate
        linearly, and the result is floored at 0.

        Raises:
            ValueError: a non-finite utilisation.
        """
        u = np.asarray(utilization, dtype=np.float64)
        if not np.all(np.isfinite(u)):
            raise ValueError("utilization contains a non-finite value")
        k, p, s = self.knots_utilization, self.power_at_knots, self.slopes
        out = np.interp(u, k, p)
        out = np.where(u < k[0], p[0] + s[0] * (u - k[0]), out)
        out = np.where(u > k[-1], p[-1] + s[-1] * (u - k[-1]), out)
        return np.maximum(out, 0.0)

    def inverse(self, power: Any, *, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        """The largest utilisation in ``[lo, hi]`` whose predicted power is ≤ ``power`` (the compute cap).

        A power below ``predict(lo)`` gives ``lo`` (the setpoint cannot be met by capping compute alone); at or
        above ``predict(hi)`` gives ``hi``. On a flat segment the upper end is returned (the most compute that
        the power allows). Shape follows ``power``.

        Raises:
            ValueError: a non-finite power or ``lo >= hi``.
        """
        target = np.asarray(power, dtype=np.float64)
        if not np.all(np.isfinite(target)):
            raise ValueError("power contains a non-finite value")
        if not lo < hi:
            raise ValueError("need lo < hi")
        grid = np.union1d(self.knots_utilization[(self.knots_utilization > lo) & (self.knots_utilization < hi)],
                          [lo, hi])  # fmt: skip
        values = self.predict(grid)
        # largest grid index whose power is <= target, then interpolate inside the next segment
        idx = np.searchsorted(values, target, side="right") - 1
        idx = np.clip(idx, 0, grid.size - 1)
        nxt = np.minimum(idx + 1, grid.size - 1)
        p0, p1 = values[idx], values[nxt]
        u0, u1 = grid[idx], grid[nxt]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(p1 > p0, (target - p0) / (p1 - p0), 0.0)
        cap = u0 + np.clip(frac, 0.0, 1.0) * (u1 - u0)
        cap = np.where(target >= values[-1], hi, cap)
        return np.where(target < values[0], lo, cap)

    def predict_kw(self, utilization: Any, *, rated_kw: float) -> np.ndarray:
        """IT power in kW for a model fitted on ``fraction_of_rated``: ``predict(u) × rated_kw``.

        Raises:
            ValueError: the model is not in fraction of rated, or ``rated_kw`` is not positive.
        """
        self._check_rated(rated_kw)
        return self.predict(utilization) * rated_kw

    def cap_for_kw(self, setpoint_kw: Any, *, rated_kw: float) -> np.ndarray:
        """Compute cap (utilisation fraction, 0…1) that keeps IT power within ``setpoint_kw``.

        Raises:
            ValueError: as :meth:`predict_kw`.
        """
        self._check_rated(rated_kw)
        return self.inverse(np.asarray(setpoint_kw, dtype=np.float64) / rated_kw)

    def _check_rated(self, rated_kw: float) -> None:
        if self.unit != "fraction_of_rated":
            raise ValueError(f"the model predicts {self.unit}, not a fraction of rated power")
        if not (np.isfinite(rated_kw) and rated_kw > 0):
            raise ValueError("rated_kw must be a positive number of kW")

    def to_json(self) -> dict[str, Any]:
        """``{"knots_utilization": [...], "power_at_knots": [...], "unit": ...}``."""
        return {
            "knots_utilization": [float(x) for x in self.knots_utilization],
            "power_at_knots": [float(x) for x in self.power_at_knots],
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComputePowerModel:
        """Read the dict written by :meth:`to_json`.

        Raises:
            ValueError: missing keys or an invalid (non-monotone, unsorted) model.
        """
        try:
            return cls(
                knots_utilization=np.asarray(data["knots_utilization"], dtype=np.float64),
                power_at_knots=np.asarray(data["power_at_knots"], dtype=np.float64),
                unit=str(data.get("unit", "fraction_of_rated")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a compute-power model: {exc}") from exc


def _hinge_basis(u: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Design matrix ``(n, m + 1)``: a column of ones, then clip(u − k_i, 0, k_{i+1} − k_i) per segment, with the
    first and last segment extended linearly beyond the end knots (so the fit matches :meth:`predict`)."""
    widths = np.diff(knots)
    cols = np.clip(u[:, None] - knots[None, :-1], 0.0, widths[None, :])
    cols[:, 0] = np.where(u < knots[0], u - knots[0], cols[:, 0])
    cols[:, -1] = np.where(u > knots[-1], u - knots[-2], cols[:, -1])
    return np.hstack([np.ones((u.size, 1)), cols])


def fit(
    utilization: Any, power: Any, *, segments: int = 4, unit: str = "fraction_of_rated"
) -> ComputePowerModel:
    """Fit a :class:`ComputePowerModel` by monotone (slopes ≥ 0) piecewise-linear least squares.

    Args:
        utilization: ``(n,)`` utilisation fractions.
        power: ``(n,)`` power observed in the same intervals (unit ``unit``).
        segments: number of linear segments; the knots are the 0, 1/m, …, 1 quantiles of ``utilization``
            (duplicates merged, so fewer segments may result on very discrete data).
        unit: unit of ``power``.

    Returns:
        the fitted model; pairs with a NaN on either side are dropped first.

    Raises:
        ValueError: different lengths, ``segments < 1``, fewer than ``2 × segments`` finite pairs, or no spread
            in ``utilization``.
    """
    u = np.asarray(utilization, dtype=np.float64).ravel()
    y = np.asarray(power, dtype=np.float64).ravel()
    if u.shape != y.shape:
        raise ValueError(f"utilization and power lengths differ: {u.size} vs {y.size}")
    if segments < 1:
        raise ValueError("segments must be >= 1")
    keep = np.isfinite(u) & np.isfinite(y)
    u, y = u[keep], y[keep]
    if u.size < 2 * segments:
        raise ValueError(f"need at least {2 * segments} finite pairs, got {u.size}")
    knots = np.unique(np.quantile(u, np.linspace(0.0, 1.0, segments + 1)))
    if knots.size < 2:
        raise ValueError("utilization has no spread: every value is the same")
    X = _hinge_basis(u, knots)
    lower = np.concatenate([[-np.inf], np.zeros(knots.size - 1)])
    sol = lsq_linear(X, y, bounds=(lower, np.full(knots.size, np.inf)), method="bvls")
    p0, slopes = sol.x[0], np.maximum(sol.x[1:], 0.0)
    power_at = p0 + np.concatenate([[0.0], np.cumsum(slopes * np.diff(knots))])
    return ComputePowerModel(knots_utilization=knots, power_at_knots=power_at, unit=unit)


@dataclass(frozen=True)
class FitReport:
    """Held-out error of a fitted model: MAE and RMSE in the power unit, MAPE in %, R² (1 − SSE/SST)."""

    mae: float
    rmse: float
    mape_pct: float
    r2: float
    n_train: int
    n_test: int

    def to_json(self) -> dict[str, float | int]:
        """The figures as a dict."""
        return dict(self.__dict__)


def evaluate(model: ComputePowerModel, utilization: Any, power: Any, *, n_train: int = 0) -> FitReport:
    """Error of ``model`` on held-out pairs (NaNs dropped).

    R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (coefficient of determination on the test set; may be negative).

    Raises:
        ValueError: different lengths, no finite pair, or a zero actual (MAPE undefined).
    """
    u = np.asarray(utilization, dtype=np.float64).ravel()
    y = np.asarray(power, dtype=np.float64).ravel()
    if u.shape != y.shape:
        raise ValueError(f"utilization and power lengths differ: {u.size} vs {y.size}")
    keep = np.isfinite(u) & np.isfinite(y)
    u, y = u[keep], y[keep]
    if not u.size:
        raise ValueError("no finite pair to evaluate")
    if np.any(y == 0):
        raise ValueError("MAPE undefined: an actual power is 0")
    err = model.predict(u) - y
    sst = float(np.sum((y - y.mean()) ** 2))
    return FitReport(
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        mape_pct=float(100 * np.mean(np.abs(err) / np.abs(y))),
        r2=float(1 - np.sum(err**2) / sst) if sst > 0 else float("nan"),
        n_train=int(n_train),
        n_test=int(u.size),
    )


def fit_holdout(
    utilization: Any,
    power: Any,
    day: Any,
    *,
    test_days: Any,
    segments: int = 4,
    unit: str = "fraction_of_rated",
) -> tuple[ComputePowerModel, FitReport]:
    """Fit on every day not in ``test_days`` and report the error on ``test_days`` (held-out whole days, so
    the daily cycle of the test period is never seen in training).

    Args:
        utilization, power: ``(n,)`` aligned samples.
        day: ``(n,)`` day label of each sample (any hashable; e.g. the UTC date).
        test_days: the labels held out.

    Raises:
        ValueError: as :func:`fit` / :func:`evaluate`, or an empty train or test set.
    """
    u = np.asarray(utilization, dtype=np.float64).ravel()
    y = np.asarray(power, dtype=np.float64).ravel()
    d = np.asarray(day).ravel()
    if not (u.shape == y.shape == d.shape):
        raise ValueError("utilization, power and day need the same length")
    test = np.isin(d, np.asarray(list(test_days)))
    if test.all() or not test.any():
        raise ValueError("test_days must select some, but not all, samples")
    model = fit(u[~test], y[~test], segments=segments, unit=unit)
    return model, evaluate(model, u[test], y[test], n_train=int((~test).sum()))


#: Empirical alignment of the Google 2019 cluster-usage trace to the cell-a PDU traces (5-min windows): the usage
#: trace's first window lines up with PDU window 61 (2019-05-01T12:05Z), the peak of the cross-correlation of mean
#: CPU usage with mean PDU power over lags −300…+900 windows (r = 0.66 there, 0.08 at lag 0). The source does not
#: state the usage trace's absolute start; see ``data/greenpower/SOURCE.md``.
GOOGLE2019_USAGE_LAG_WINDOWS = 61


def align_google2019(
    usage_cpu: Any, pdu_power: Any, *, lag_windows: int = GOOGLE2019_USAGE_LAG_WINDOWS
) -> tuple[np.ndarray, np.ndarray]:
    """Pair usage window ``i`` with PDU window ``i + lag_windows``; returns ``(utilization, power)`` of equal
    length (the overlap).

    Raises:
        ValueError: negative lag or no overlap.
    """
    u = np.asarray(usage_cpu, dtype=np.float64).ravel()
    p = np.asarray(pdu_power, dtype=np.float64).ravel()
    if lag_windows < 0:
        raise ValueError("lag_windows must be >= 0")
    n = min(u.size, p.size - lag_windows)
    if n <= 0:
        raise ValueError("the traces do not overlap at this lag")
    return u[:n], p[lag_windows : lag_windows + n]


#: z-score of the 90th percentile of a standard normal (p10/p90 lie ±1.2816 σ from the median).
Z_P90 = 1.2815515655446004


def widen_band(p10: Any, p50: Any, p90: Any, *, rmse: float) -> tuple[np.ndarray, np.ndarray]:
    """Widen a p10–p90 band mapped through the model by the model's own error, returns ``(p10, p90)``.

    A utilisation forecast mapped through the model carries the forecast's uncertainty only; the map itself
    misses by about ``rmse`` (same unit as the values). Treating the two errors as independent and the map's as
    normal, each half-width becomes ``sqrt(h² + (z·rmse)²)`` with ``z`` = :data:`Z_P90` (variances of independent
    errors add; for normal errors the 80 % half-width is ``z·σ``). The median is unchanged and the result is
    floored at 0 (power).

    Raises:
        ValueError: a negative or non-finite ``rmse``, or ``p10 > p50`` / ``p50 > p90`` somewhere.
    """
    lo, mid, hi = (np.asarray(a, dtype=np.float64) for a in (p10, p50, p90))
    if not (np.isfinite(rmse) and rmse >= 0):
        raise ValueError("rmse must be a finite number >= 0")
    if np.any(lo > mid + 1e-12) or np.any(mid > hi + 1e-12):
        raise ValueError("quantiles must be ordered p10 <= p50 <= p90")
    extra = (Z_P90 * rmse) ** 2
    return (
        np.maximum(mid - np.sqrt((mid - lo) ** 2 + extra), 0.0),
        mid + np.sqrt((hi - mid) ** 2 + extra),
    )
