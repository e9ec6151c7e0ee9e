"""``solve``: build the LP, solve it with HiGHS, and turn the primal values into a :class:`Result`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from flexibility.baseline import baseline_costs, cost_breakdown, emissions_kg
from flexibility.checks import diagnose_infeasible, precheck
from flexibility.decompose import BlockSolution, solve_blocks
from flexibility.errors import FlexibilityError
from flexibility.green import ledger
from flexibility.highs import LpSolution, new_highs, pass_lp, run
from flexibility.model import Model, build_model
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
    if decompose:
        sol = solve_blocks(model, threads=threads, workers=workers)
    else:
        h = new_highs(threads=threads)
        pass_lp(h, model.c, model.col_lo, model.col_hi, model.A, model.row_lo, model.row_hi)
        build_s = time.perf_counter() - t0
        sol = run(h)
    if sol.status != "optimal":
        if sol.status in ("infeasible", "unbounded_or_infeasible"):
            raise diagnose_infeasible(model)
        raise FlexibilityError(f"HiGHS did not solve the LP: {sol.status}")
    t1 = time.perf_counter()
    result = extract(model, sol.x, {"build_seconds": build_s, "solve_seconds": sol.solve_seconds})
    timings = dict(result.timings)
    timings["extract_seconds"] = time.perf_counter() - t1
    return Result(**{**result.__dict__, "timings": timings})


def extract(model: Model, x: np.ndarray, timings: dict[str, float]) -> Result:
    """Turn LP primal values ``x`` (shape ``(n_cols,)``) into a :class:`Result` (vectorised)."""
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
    np.add.at(it, fl.place_site, xs)
    batt_kw = np.zeros((n, T))
    np.add.at(batt_kw, bt.site, ch - dis)
    soc_site = np.zeros((n, T))
    np.add.at(soc_site, bt.site, soc)
    has_batt = np.zeros(n, dtype=bool)
    has_batt[bt.site] = True

    short_cost = 0.0
    commitments: dict[str, CommitmentResult] = {}
    k = 0
    for ci, cm in enumerate(p.commitments):
        steps = np.arange(cm.start_step, cm.end_step)
        members = model.commitment_mask[ci]
        delivered = (model.base.grid_kw[members][:, steps] - (imp - exp)[members][:, steps]).sum(axis=0)
        short = x[off["short"] + k : off["short"] + k + steps.size]
        k += steps.size
        short_cost += cm.shortfall_penalty_per_mwh * float(short.sum()) * dt / 1000
        commitments[cm.id] = CommitmentResult(
            delivered_kw=delivered, shortfall_kwh=float(np.maximum(cm.reduction_kw - delivered, 0).sum() * dt)
        )
    degradation = float(np.sum(bt.cycle_cost_per_mwh[:, None] * dis) * dt / 1000)
    cost = cost_breakdown(p, a, imp, exp, degradation, short_cost)
    base_cost, base_em = baseline_costs(p, a, model.base)
    green = None
    if model.green.active:
        matched = _top_up_take_or_pay(model, imp, block("green", model.green.place_contract.size))
        green = green_accounting(model, imp, exp, pv, matched)
        cost.update(green.pop("_cost"))
        base_cost.update(green.pop("_baseline_cost"))
    total, base_total = sum(cost.values()), sum(base_cost.values())

    # served power per workload per site; migrations
    site_wl: list[dict[str, WorkloadResult]] = [{} for _ in range(n)]
    for si, s in enumerate(p.sites):
        for w in s.workloads:
            if not w.flexible:
                site_wl[si][w.id] = WorkloadResult(served_kw=w.baseline_kw.copy())
    migrations = []
    sids = [s.id for s in p.sites]
    for k_pl in range(npl):
        f, dest = fl.place_flex[k_pl], fl.place_site[k_pl]
        w, origin = fl.workloads[f], fl.origin[f]
        served = xs[k_pl]
        if dest == origin:
            site_wl[dest][w.id] = WorkloadResult(served_kw=served)
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
        lp={"rows": model.n_rows, "cols": model.n_cols, "nonzeros": int(model.A.nnz)},
        green=green,
    )


def _top_up_take_or_pay(model: Model, import_kw: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """The LP's match ``(n_gplace, T)`` kW with take-or-pay placements topped up greedily to the import left
    unmatched and the volume left over. Take-or-pay energy costs the same matched or not, so the LP may leave
    any amount of it unmatched where no green-share row needs it; topping up changes no cost and only adds clean
    energy (every green-share row has a coefficient 1 − lc ≥ 0 on it), so the schedule stays feasible and
    optimal, and the reported match is the largest one."""
    gl = model.green
    out = np.maximum(matched, 0.0)
    left = import_kw.copy()
    np.subtract.at(left, gl.place_site, out)
    left_c = gl.profile_kw.copy()
    np.subtract.at(left_c, gl.place_contract, out)
    for k, (ci, si) in enumerate(zip(gl.place_contract, gl.place_site, strict=True)):
        if not model.problem.green_contracts[ci].take_or_pay:
            continue
        add = np.maximum(np.minimum(left[si], left_c[ci]), 0.0)
        out[k] += add
        left[si] -= add
        left_c[ci] -= add
    return out


def _greedy_match(model: Model, import_kw: np.ndarray) -> np.ndarray:
    """Baseline matching ``(n_gplace, T)`` kW: each contract, in order, covers the remaining import of its sites
    in their order (the run-as-it-arrives site takes whatever green energy its contracts deliver)."""
    gl = model.green
    left = import_kw.copy()
    left_c = gl.profile_kw.copy()
    out = np.zeros((gl.place_contract.size, import_kw.shape[1]))
    for k, (ci, si) in enumerate(zip(gl.place_contract, gl.place_site, strict=True)):
        take = np.minimum(left[si], left_c[ci])
        out[k] = take
        left[si] -= take
        left_c[ci] -= take
    return out


def green_accounting(
    model: Model, imp: np.ndarray, exp: np.ndarray, pv: np.ndarray, matched_place: np.ndarray
) -> dict[str, Any]:
    """The ``green`` section of the result and the green cost terms (keys ``_cost`` / ``_baseline_cost``).

    Contract cost (currency): take-or-pay Σ (strike − zone price) × profile × Δt/1000 whatever is matched;
    pay-as-used Σ (strike − zone price) × matched × Δt/1000 (the matched energy replaces market purchases that
    the ``energy`` term already charges at the zone price). Shortfall cost: price × Σ max(σ·consumption −
    clean, 0) × Δt/1000 per site with a soft target. Per-site annual shares count take-or-pay volume that no
    site matched as split evenly among the contract's eligible sites (it is paid for and retired anyway).
    """
    p, gl, a = model.problem, model.green, model.arrays
    T, n, dt = p.steps, len(p.sites), a.dt_hours
    base = model.base
    ncon = gl.profile_kw.shape[0]

    def contract_costs(matched: np.ndarray) -> np.ndarray:
        out = np.zeros(ncon)
        for ci, c in enumerate(p.green_contracts):
            sel = gl.place_contract == ci
            sites = gl.place_site[sel]
            zone_price = a.price_per_mwh[sites[0]] if sites.size else np.zeros(T)
            volume = gl.profile_kw[ci] if c.take_or_pay else matched[sel].sum(axis=0)
            out[ci] = float(np.sum((c.price_per_mwh - zone_price) * volume) * dt / 1000)
        return out

    def per_site(matched: np.ndarray, s_imp: np.ndarray, s_exp: np.ndarray, s_pv: np.ndarray):
        m_site = np.zeros((n, T))
        np.add.at(m_site, gl.place_site, matched)
        unmatched = np.zeros((n, T))
        for ci, c in enumerate(p.green_contracts):
            sel = np.flatnonzero(gl.place_contract == ci)
            if c.take_or_pay and sel.size:
                rest = np.maximum(gl.profile_kw[ci] - matched[sel].sum(axis=0), 0.0)
                np.add.at(unmatched, gl.place_site[sel], np.broadcast_to(rest / sel.size, (sel.size, T)))
        rows = []
        for i in range(n):
            # the LP's match is <= import, so ledger() reproduces it; unmatched volume only enters the annual sum
            led = ledger(
                import_kwh=s_imp[i] * dt,
                pv_used_kwh=s_pv[i] * dt,
                contract_kwh=m_site[i] * dt,
                low_carbon_share=gl.low_carbon_share[i],
                export_kwh=s_exp[i] * dt,
            )
            total = float(led.consumption_kwh.sum())
            annual_clean = float(led.clean_kwh.sum() + unmatched[i].sum() * dt)
            annual = min(annual_clean, total) / total if total > 0 else float("nan")
            rows.append((led, m_site[i], annual))
        return rows

    short_cost = base_short_cost = 0.0
    sites: dict[str, Any] = {}
    lp_rows = per_site(matched_place, imp, exp, pv)
    base_match = _greedy_match(model, base.import_kw)
    base_rows = per_site(base_match, base.import_kw, base.export_kw, base.pv_used_kw)
    target = dict(
        zip(gl.target_site.tolist(), zip(gl.target_share, gl.target_price, strict=True), strict=True)
    )
    for i, s in enumerate(p.sites):
        led, m_kw, annual = lp_rows[i]
        base_led = base_rows[i][0]
        short_kwh = 0.0
        if i in target:
            share, price = target[i]
            short_kwh = float(led.shortfall_kwh(share).sum())
            if not np.isnan(price):
                short_cost += price * short_kwh / 1000
                base_short_cost += price * float(base_led.shortfall_kwh(share).sum()) / 1000
        sites[s.id] = {
            "matched_kw": [float(v) for v in m_kw],
            "clean_kw": [float(v) for v in led.clean_kwh / dt],
            "hourly_share": [None if np.isnan(v) else float(v) for v in led.hourly_share],
            "hourly_matched_share": led.hourly_matched_share,
            "annual_matched_share": annual,
            "min_green_share": s.min_green_share,
            "shortfall_kwh": short_kwh,
            "baseline_hourly_matched_share": base_led.hourly_matched_share,
        }
    lp_cc, base_cc = contract_costs(matched_place), contract_costs(base_match)
    contracts = {
        c.id: {
            "profile_kwh": float(c.profile_kwh.sum()),
            "matched_kwh": float(matched_place[gl.place_contract == ci].sum() * dt),
            "cost": float(lp_cc[ci]),
        }
        for ci, c in enumerate(p.green_contracts)
    }
    return {
        "sites": sites,
        "contracts": contracts,
        "_cost": {"green_contracts": float(lp_cc.sum()), "green_shortfall": short_cost},
        "_baseline_cost": {"green_contracts": float(base_cc.sum()), "green_shortfall": base_short_cost},
    }
