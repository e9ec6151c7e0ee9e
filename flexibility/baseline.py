"""The "run as it arrives" baseline and the cost/emission accounting shared with the optimised schedule.

Baseline (issue 5): every workload runs at its baseline at its own site, batteries idle, PV used up to the
export limit: ``pv_used = min(pv_kw, PUE × IT + grid_export_limit_kw)``; ``grid = PUE × IT − pv_used``,
``import = max(grid, 0)``, ``export = max(−grid, 0)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flexibility.arrays import SiteArrays, site_arrays
from flexibility.problem import Problem


@dataclass(frozen=True, eq=False)
class Baseline:
    """Baseline per-site series, each ``(n_sites, steps)`` in kW."""

    it_kw: np.ndarray
    pv_used_kw: np.ndarray
    grid_kw: np.ndarray
    import_kw: np.ndarray
    export_kw: np.ndarray


def baseline(problem: Problem, arrays: SiteArrays | None = None) -> Baseline:
    """Compute the run-as-it-arrives baseline (vectorised over sites and steps)."""
    a = arrays or site_arrays(problem)
    it = a.baseline_it_kw
    load = a.pue[:, None] * it
    pv_used = np.minimum(a.pv_kw, load + a.export_limit_kw[:, None])
    grid = load - pv_used
    return Baseline(
        it_kw=it,
        pv_used_kw=pv_used,
        grid_kw=grid,
        import_kw=np.maximum(grid, 0.0),
        export_kw=np.maximum(-grid, 0.0),
    )


def cost_breakdown(
    problem: Problem,
    arrays: SiteArrays,
    import_kw: np.ndarray,
    export_kw: np.ndarray,
    discharge_kwh_cost: float,
    shortfall_cost: float,
) -> dict[str, float]:
    """Objective terms in the problem's currency (issue 5 formulas), for ``(n, T)`` import/export in kW.

    energy = Σ (price × import − export_price × export) × Δt / 1000;
    carbon = carbon_price_per_tonne × Σ carbon_g_per_kwh × import × Δt / 10⁶;
    degradation and shortfall_penalty are passed in already in currency.
    """
    dt = arrays.dt_hours
    energy = float(
        np.sum(arrays.price_per_mwh * import_kw - arrays.export_price_per_mwh * export_kw) * dt / 1000
    )
    carbon = float(problem.carbon_price_per_tonne * np.sum(arrays.carbon_g_per_kwh * import_kw) * dt / 1e6)
    return {
        "energy": energy,
        "carbon": carbon,
        "degradation": float(discharge_kwh_cost),
        "shortfall_penalty": float(shortfall_cost),
    }


def emissions_kg(arrays: SiteArrays, import_kw: np.ndarray) -> float:
    """Grid-import emissions in kg: Σ carbon_g_per_kwh × import × Δt / 1000 (exports earn no credit)."""
    return float(np.sum(arrays.carbon_g_per_kwh * import_kw) * arrays.dt_hours / 1000)


def commitment_site_mask(problem: Problem) -> np.ndarray:
    """Boolean ``(n_commitments, n_sites)``: which sites each commitment covers."""
    idx = problem.site_index()
    mask = np.zeros((len(problem.commitments), len(problem.sites)), dtype=bool)
    for c, com in enumerate(problem.commitments):
        if com.sites == "all":
            mask[c] = True
        else:
            mask[c, [idx[s] for s in com.sites]] = True
    return mask


def baseline_costs(problem: Problem, arrays: SiteArrays, base: Baseline) -> tuple[dict[str, float], float]:
    """Baseline cost breakdown and emissions (kg). The baseline delivers no commitment reduction, so each
    commitment's shortfall is ``max(reduction_kw, 0)`` over its window (with an absolute target, the baseline's
    excess over ``max_grid_kw``)."""
    dt = arrays.dt_hours
    masks = commitment_site_mask(problem)
    penalty = 0.0
    for c, members in zip(problem.commitments, masks, strict=True):
        if c.max_grid_kw is not None:  # an absolute target: the baseline's excess over it
            grid = base.grid_kw[members][:, c.start_step : c.end_step].sum(axis=0)
            short_kwh = float(np.maximum(grid - c.max_grid_kw, 0.0).sum()) * dt
        else:
            short_kwh = max(c.reduction_kw, 0.0) * (c.end_step - c.start_step) * dt
        penalty += c.shortfall_penalty_per_mwh * short_kwh / 1000
    return (
        cost_breakdown(problem, arrays, base.import_kw, base.export_kw, 0.0, penalty),
        emissions_kg(arrays, base.import_kw),
    )
