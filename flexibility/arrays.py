"""Dense per-site arrays derived from a :class:`~flexibility.problem.Problem` (shared by LP, baseline, envelope),
and the checked readers of JSON series and numbers (``_array``, ``_number``) that every problem dataclass uses.

All arrays are ``numpy.float64``; per-site series have shape ``(n_sites, steps)``. This module imports no other
problem module at run time (``Problem`` only for type checking), so the dataclass modules can import it
without an import circle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from flexibility.errors import FlexibilityInputError

if TYPE_CHECKING:
    from flexibility.problem import Problem


@dataclass(frozen=True, eq=False)
class SiteArrays:
    """Per-site series and scalars.

    Attributes:
        price_per_mwh, export_price_per_mwh, carbon_g_per_kwh: zone series of each site's zone, ``(n, T)``.
        pue: ``(n,)``; import_limit_kw, export_limit_kw, it_capacity_kw: ``(n,)`` (may be ``inf``).
        pv_kw: PV available, ``(n, T)`` (zeros when a site has none).
        fixed_it_kw: IT power of workloads the LP cannot move (not deferrable, not migratable), ``(n, T)``.
        baseline_it_kw: IT power of all own workloads at baseline, ``(n, T)``.
        dt_hours: step length in hours.
    """

    price_per_mwh: np.ndarray
    export_price_per_mwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    pue: np.ndarray
    import_limit_kw: np.ndarray
    export_limit_kw: np.ndarray
    it_capacity_kw: np.ndarray
    pv_kw: np.ndarray
    fixed_it_kw: np.ndarray
    baseline_it_kw: np.ndarray
    dt_hours: float


def site_arrays(problem: Problem) -> SiteArrays:
    """Stack the problem's per-site data into :class:`SiteArrays` (O(n·T), no per-step Python loops)."""
    T = problem.steps
    n = len(problem.sites)
    zone_names = list(problem.zones)
    zone_of = np.array([zone_names.index(s.zone) for s in problem.sites], dtype=np.int64)
    price = np.stack([problem.zones[z].price_per_mwh for z in zone_names])[zone_of]
    export = np.stack([problem.zones[z].export_price_per_mwh for z in zone_names])[zone_of]
    carbon = np.stack([problem.zones[z].carbon_g_per_kwh for z in zone_names])[zone_of]
    pv = np.zeros((n, T))
    fixed = np.zeros((n, T))
    base = np.zeros((n, T))
    for i, s in enumerate(problem.sites):
        if s.pv_kw is not None:
            pv[i] = s.pv_kw
        for w in s.workloads:
            base[i] += w.baseline_kw
            if not w.flexible:
                fixed[i] += w.baseline_kw
    return SiteArrays(
        price_per_mwh=price,
        export_price_per_mwh=export,
        carbon_g_per_kwh=carbon,
        pue=np.array([s.pue for s in problem.sites]),
        import_limit_kw=np.array([s.grid_import_limit_kw for s in problem.sites]),
        export_limit_kw=np.array([s.grid_export_limit_kw for s in problem.sites]),
        it_capacity_kw=np.array([s.it_capacity_kw for s in problem.sites], dtype=np.float64),
        pv_kw=pv,
        fixed_it_kw=fixed,
        baseline_it_kw=base,
        dt_hours=problem.dt_hours,
    )


def _array(value: Any, steps: int, name: str, *, nonnegative: bool = False) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise FlexibilityInputError(name, f"expected a list of {steps} numbers") from exc
    if arr.shape != (steps,):
        raise FlexibilityInputError(name, f"expected {steps} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise FlexibilityInputError(name, "contains a non-finite value")
    if nonnegative and np.any(arr < 0):
        raise FlexibilityInputError(name, "must be >= 0")
    arr.setflags(write=False)
    return arr


def _number(value: Any, name: str, *, minimum: float | None = None, allow_none: bool = False) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise FlexibilityInputError(name, "is required")
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise FlexibilityInputError(name, "expected a number") from exc
    if math.isnan(x):
        raise FlexibilityInputError(name, "is NaN")
    if minimum is not None and x < minimum:
        raise FlexibilityInputError(name, f"must be >= {minimum}")
    return x


def _list(value: np.ndarray) -> list[float]:
    return [float(v) for v in value]


def _limit_out(value: float) -> float | None:
    return None if math.isinf(value) else value
