"""``solve``: build the LP, solve it with HiGHS, and turn the primal values into a :class:`Result`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from flexibility.baseline import baseline_costs, cost_breakdown, emissions_kg
from flexibility.blocks import BlockResult, combine_solution, plan_blocks, solve_specs
from flexibility.checks import diagnose_infeasible, precheck
from flexibility.decompose import BlockSolution
from flexibility.errors import FlexibilityError
from flexibility.green_accounting import green_accounting, top_up_take_or_pay
from flexibility.highs import LpSolution, new_highs, pass_lp, run
from flexibility.model import Layout, Model, build_layout, build_model
from flexibility.problem import Problem, as_problem
from flexibility.result import CommitmentResult, Migration, Result, SiteResult, WorkloadResult

_MIGRATION_TOL_KW = 1e-6


def solve(
    problem: Problem | Mapping[str, Any],
    *,
    threads: int | None = None,
    decompose: bool = True,
    merge_batteries: bool = True,
    workers: int = 1,
) -> Result:
    """Cost-optimal schedule of every site, workload and battery over the horizon (issue 5 semantics).

    Args:
        problem: a :class:`~flexibility.problem.Problem` or its JSON dict.
        threads: HiGHS thread count (default: HiGHS' own choice).
        decompose: solve independent groups of sites (no migration or commitment between them) as separate
            HiGHS runs with basis reuse (:mod:`flexibility.decompose`; same optimum). ``False`` solves the
            assembled LP in one HiGHS run.
        workers: threads solving independent blocks in parallel (``decompose`` only; HiGHS releases the GIL).
        merge_batteries: merge identical batteries of a site into one LP battery (exact, see
            :class:`flexibility.model.Batteries`); ``False`` keeps one set of columns per battery.

    Returns:
        :class:`~flexibility.result.Result` with ``status == "optimal"``; ``timings`` holds
        ``build_seconds`` (validation, baseline and sparse assembly) and ``solve_seconds`` (HiGHS only),
        plus ``extract_seconds``.

    Raises:
        FlexibilityInputError: malformed problem (names the field).
        FlexibilityInfeasible: no schedule meets the hard constraints; ``family`` names the constraint family
            (battery_soc, battery_final_soc, deferrable_deadline, grid_import_limit, unknown).
    """
    t0 = time.perf_counter()
    p = as_problem(problem)
    model = build_model(p, merge_batteries=merge_batteries)
    precheck(model)
    build_s = time.perf_counter() - t0
    sol: BlockSolution | LpSolution
    timings = {"build_seconds": build_s}
    if decompose:
        t1 = time.perf_counter()
        results = solve_specs(
            plan_blocks(p, merge_batteries=merge_batteries), workers=workers, threads=threads
        )
        timings["blocks_seconds"] = time.perf_counter() - t1
        sol = combine_solution(model, results, threads=threads)
    else:
        h = new_highs(threads=threads)
        pass_lp(h, model.c, model.col_lo, model.col_hi, model.A, model.row_lo, model.row_hi)
        timings["build_seconds"] = time.perf_counter() - t0
        sol = run(h)
    return finish(model, sol, timings)


def combine(
    problem: Problem | Mapping[str, Any],
    results: Sequence[BlockResult],
    *,
    model: Layout | None = None,
    threads: int | None = None,
    timings: Mapping[str, float] | None = None,
) -> Result:
    """The schedule of ``problem`` from its blocks' optima (:func:`flexibility.blocks.plan_blocks` then
    :func:`~flexibility.blocks.solve_block` anywhere), the commitment rows repaired exactly: the same result as
    :func:`solve` (which runs these steps in one process).

    Args:
        problem: the problem the blocks were planned from (Problem or its JSON dict).
        results: one :class:`~flexibility.blocks.BlockResult` per planned block, any order.
        model: the whole LP (:func:`~flexibility.model.build_model`) or, for a problem without commitments,
            its :class:`~flexibility.model.Layout` (:func:`~flexibility.model.build_layout`: no constraint
            matrix, all the combine needs), if the caller built it already (e.g. while the blocks were being
            solved), with the same ``merge_batteries`` as the blocks; built here (and prechecked) otherwise,
            the layout only when there are no commitments.
        timings: extra figures for ``Result.timings``.

    Raises:
        FlexibilityInfeasible: a block or the repaired LP is infeasible (``family`` names the constraint).
        FlexibilityError: another HiGHS failure. ValueError: results that do not fit the problem's blocks, or
            a layout passed for a problem with commitments.
    """
    t0 = time.perf_counter()
    if model is None:
        p = as_problem(problem)
        model = build_model(p) if p.commitments else build_layout(p)
        precheck(model)
    out = {"build_seconds": time.perf_counter() - t0, **(timings or {})}
    return finish(model, combine_solution(model, results, threads=threads), out)


def finish(model: Layout, sol: BlockSolution | LpSolution, timings: Mapping[str, float]) -> Result:
    """The :class:`Result` of an LP solution, or the error that explains a failed one (see :func:`solve`);
    the diagnosis builds the whole LP when ``model`` is only its layout."""
    if sol.status != "optimal":
        if sol.status in ("infeasible", "unbounded_or_infeasible"):
            whole = model if isinstance(model, Model) else build_model(model.problem)
            raise diagnose_infeasible(whole)
        raise FlexibilityError(f"HiGHS did not solve the LP: {sol.status}")
    t1 = time.perf_counter()
    if isinstance(model, Model):
        lp = {"rows": model.n_rows, "cols": model.n_cols, "nonzeros": int(model.A.nnz)}
    else:
        assert isinstance(sol, BlockSolution) and sol.lp_rows is not None and sol.lp_nonzeros is not None
        lp = {"rows": sol.lp_rows, "cols": model.n_cols, "nonzeros": sol.lp_nonzeros}
    result = extract(model, sol.x, {**timings, "solve_seconds": sol.solve_seconds}, lp=lp)
    out = dict(result.timings)
    out["extract_seconds"] = time.perf_counter() - t1
    return Result(**{**result.__dict__, "timings": out})


def extract(
    model: Layout, x: np.ndarray, timings: dict[str, float], *, lp: Mapping[str, int] | None = None
) -> Result:
    """Turn LP primal values ``x`` (shape ``(n_cols,)``) into a :class:`Result` (vectorised); ``lp`` is the LP's
    ``rows``/``cols``/``nonzeros`` (read from a whole :class:`Model`; a bare layout without it: ValueError)."""
    p = model.problem
    a = model.arrays
    T, n = p.steps, len(p.sites)
    off = model.offsets
    fl, bt = model.flex, model.batt
    nb, npl = bt.site.size, fl.place_flex.size
    dt = a.dt_hours

    def block(name: str, rows: int) -> np.ndarray:
        """Block ``name`` of the primal values as ``(rows, T)``."""
        return x[off[name] : off[name] + rows * T].reshape(rows, T)

    imp, exp, pv = block("imp", n), block("exp", n), block("pv", n)
    ch, dis, soc = block("ch", nb), block("dis", nb), block("soc", nb)
    xs = block("x", npl)
    it = a.fixed_it_kw.copy()
    np.add.at(it, fl.place_site, xs * fl.place_coef[:, None] if fl.overhead.any() else xs)
    batt_kw = np.zeros((n, T))
    np.add.at(batt_kw, bt.site, ch - dis)
    soc_site = np.zeros((n, T))
    np.add.at(soc_site, bt.site, soc)
    has_batt = np.zeros(n, dtype=bool)
    has_batt[bt.site] = True

    commitments, short_cost = _commitments(model, x, imp - exp)
    degradation = float(np.sum(bt.cycle_cost_per_mwh[:, None] * dis) * dt / 1000)
    cost = cost_breakdown(p, a, imp, exp, degradation, short_cost)
    base_cost, base_em = baseline_costs(p, a, model.base)
    green = None
    if model.green.active:
        matched = top_up_take_or_pay(model, imp, block("green", model.green.place_contract.size))
        green = green_accounting(model, imp, exp, pv, matched)
        cost.update(green.pop("_cost"))
        base_cost.update(green.pop("_baseline_cost"))
    late = np.zeros((fl.origin.size, T))
    if p.lateness_penalty_per_mwh is not None:
        late = block("late", fl.origin.size)
        cost["lateness_penalty"] = p.lateness_penalty_per_mwh * float(late.sum()) * dt / 1000
        base_cost["lateness_penalty"] = 0.0
    total, base_total = sum(cost.values()), sum(base_cost.values())

    site_wl, migrations = _workloads(model, xs, late)
    sids = [s.id for s in p.sites]
    sites = {
        sids[i]: SiteResult(
            grid_kw=imp[i] - exp[i],
            it_kw=it[i],
            battery_kw=batt_kw[i],
            soc_kwh=soc_site[i] if has_batt[i] else None,
            import_kw=imp[i],
            export_kw=exp[i],
            pv_used_kw=pv[i],
            baseline_grid_kw=model.base.grid_kw[i],
            workloads=site_wl[i],
        )
        for i in range(n)
    }
    return Result(
        status="optimal",
        objective=total,
        currency=p.currency,
        cost=cost,
        baseline_cost=base_cost,
        savings_pct=None if base_total == 0 else (base_total - total) / abs(base_total) * 100,
        emissions_kg=emissions_kg(a, imp),
        baseline_emissions_kg=base_em,
        sites=sites,
        migrations=tuple(migrations),
        commitments=commitments,
        timings=timings,
        lp=dict(lp) if lp is not None else _lp_size(model),
        green=green,
        late_kwh_hours=float(late.sum() * dt),
    )


def _lp_size(model: Layout) -> dict[str, int]:
    if not isinstance(model, Model):
        raise ValueError("extract: a bare layout needs the LP size (lp=...)")
    return {"rows": model.n_rows, "cols": model.n_cols, "nonzeros": int(model.A.nnz)}


def _commitments(
    model: Layout, x: np.ndarray, grid_kw: np.ndarray
) -> tuple[dict[str, CommitmentResult], float]:
    """Delivered kW and shortfall kWh per commitment, and the shortfall penalty (currency), from the primal
    values ``x`` and the grid power ``(n_sites, T)``."""
    p, off, dt = model.problem, model.offsets, model.arrays.dt_hours
    short_cost = 0.0
    commitments: dict[str, CommitmentResult] = {}
    k = 0
    for ci, cm in enumerate(p.commitments):
        steps = np.arange(cm.start_step, cm.end_step)
        members = model.commitment_mask[ci]
        delivered = (model.base.grid_kw[members][:, steps] - grid_kw[members][:, steps]).sum(axis=0)
        short = x[off["short"] + k : off["short"] + k + steps.size]
        k += steps.size
        short_cost += cm.shortfall_penalty_per_mwh * float(short.sum()) * dt / 1000
        if cm.max_grid_kw is not None:  # an absolute target: the shortfall is the excess over it
            excess = grid_kw[members][:, steps].sum(axis=0) - cm.max_grid_kw
        else:
            excess = cm.reduction_kw - delivered
        commitments[cm.id] = CommitmentResult(
            delivered_kw=delivered, shortfall_kwh=float(np.maximum(excess, 0).sum() * dt)
        )
    return commitments, short_cost


def _workloads(
    model: Layout, xs: np.ndarray, late: np.ndarray
) -> tuple[list[dict[str, WorkloadResult]], list[Migration]]:
    """Served power per workload per site (a migrated share keyed ``origin/workload`` at its destination) and
    the migrations above a tolerance, from the placement values ``xs`` ``(n_place, T)`` kW; a flexible
    workload's own entry carries its ``late_kwh`` (row of ``late`` ``(n_flex, T)`` kWh, zeros when hard)."""
    p, fl, dt = model.problem, model.flex, model.arrays.dt_hours
    site_wl: list[dict[str, WorkloadResult]] = [{} for _ in p.sites]
    for si, s in enumerate(p.sites):
        for w in s.workloads:
            if not w.flexible:
                site_wl[si][w.id] = WorkloadResult(served_kw=w.baseline_kw.copy())
    migrations = []
    sids = [s.id for s in p.sites]
    for k_pl in range(fl.place_flex.size):
        f, dest = fl.place_flex[k_pl], fl.place_site[k_pl]
        w, origin = fl.workloads[f], fl.origin[f]
        served = xs[k_pl]
        if dest == origin:
            site_wl[dest][w.id] = WorkloadResult(served_kw=served, late_kwh=late[f].copy())
        else:
            site_wl[dest][f"{sids[origin]}/{w.id}"] = WorkloadResult(served_kw=served, origin=sids[origin])
            if served.max(initial=0.0) > _MIGRATION_TOL_KW:
                migrations.append(
                    Migration(
                        workload=w.id,
                        from_site=sids[origin],
                        to_site=sids[dest],
                        kw=served,
                        kwh=float(served.sum() * dt),
                    )
                )
    return site_wl, migrations
