"""Infeasibility explanations: cheap pre-checks per constraint family, and an elastic LP as a last resort.

Each check raises :class:`~flexibility.errors.FlexibilityInfeasible` naming the family, the site and (when it
applies) the workload and the first step that fails. The checks are *sufficient* conditions for infeasibility
(each proves that one family alone cannot be met); interactions between families (e.g. a deferral that only
fails because the grid import limit leaves no room to catch up) are found by :func:`diagnose_infeasible`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from flexibility.errors import FlexibilityInfeasible
from flexibility.highs import solve_lp
from flexibility.model import Layout, Model

_TOL = 1e-6


def fastest_cumulative_kwh(cum_kwh: np.ndarray, cap_kw: np.ndarray, dt_hours: float) -> np.ndarray:
    """Largest possible cumulative served energy S(t) when work is served as soon as it arrives at ≤ ``cap_kw``.

    S_fast(t) = min(A(t), min_{τ ≤ t} [A(τ−1) + (t − τ + 1) · cap · Δt]) with A(−1) = 0
    (the classic "earliest finish" of a fluid queue with arrivals A and service rate cap), vectorised over
    workloads with a running minimum. Shapes: cum_kwh ``(n, T)``, cap_kw ``(n,)`` (``inf`` allowed) or
    ``(n, T)`` for a rate that changes by step, where (t − τ + 1) · cap · Δt becomes C(t) − C(τ − 1) with C the
    cumulative capacity Σ_{u ≤ t} cap_u Δt (a row is either finite at every step or unlimited at every step).

    Raises:
        ValueError: a ``(n, T)`` row that is unlimited at some steps only.
    """
    n, T = cum_kwh.shape
    if n == 0 or T == 0:
        return cum_kwh.copy()
    a_prev = np.concatenate([np.zeros((n, 1)), cum_kwh[:, :-1]], axis=1)
    if cap_kw.ndim == 2:
        finite = np.isfinite(cap_kw)
        rows_finite = finite.all(axis=1)
        if np.any(finite.any(axis=1) & ~rows_finite):
            raise ValueError("cap_kw: a row must be finite at every step or unlimited at every step")
        C = np.cumsum(np.where(finite, cap_kw, 0.0) * dt_hours, axis=1)
        C_prev = np.concatenate([np.zeros((n, 1)), C[:, :-1]], axis=1)
        fast = np.minimum(cum_kwh, np.minimum.accumulate(a_prev - C_prev, axis=1) + C)
        return np.where(rows_finite[:, None], fast, cum_kwh)
    capdt = np.where(np.isfinite(cap_kw), cap_kw, 0.0)[:, None] * dt_hours
    tau = np.arange(T)[None, :]
    run_min = np.minimum.accumulate(a_prev - tau * capdt, axis=1)
    fast = np.minimum(cum_kwh, run_min + (tau + 1) * capdt)
    return np.where(np.isfinite(cap_kw)[:, None], fast, cum_kwh)


def precheck(model: Layout) -> None:
    """Raise :class:`FlexibilityInfeasible` for the first constraint family that cannot be met on its own.

    Families checked: battery SoC bounds at the start (``battery_soc``: the SoC must lie in
    [max(soc_min, backup_reserve), soc_max] from the start, so a backup reserve above soc_initial is
    infeasible), final SoC reachability (``battery_final_soc``), deferrable deadlines with ``max_kw``
    (``deferrable_deadline``), and non-movable load above the import limit (``grid_import_limit``).
    """
    p = model.problem
    bt = model.batt
    sid = [s.id for s in p.sites]
    dt = model.arrays.dt_hours
    T = p.steps
    for b in range(bt.site.size):
        site = sid[bt.site[b]]
        k = bt.count[b]  # merged identical batteries: report per-battery figures
        batt = p.sites[bt.site[b]].batteries
        reserve = max(x.backup_reserve_kwh for x in batt)
        if bt.floor_kwh[b] > bt.soc_max_kwh[b] + _TOL:
            raise FlexibilityInfeasible(
                "battery_soc",
                f"battery SoC floor max(soc_min, backup_reserve)={bt.floor_kwh[b] / k:g} kWh above soc_max="
                f"{bt.soc_max_kwh[b] / k:g} kWh at site {site}",
                site=site,
            )
        if bt.soc0_kwh[b] < bt.floor_kwh[b] - _TOL:
            what = "backup reserve" if reserve >= bt.floor_kwh[b] / k else "soc_min"
            raise FlexibilityInfeasible(
                "battery_soc",
                f"{what} above soc_initial at site {site} ({bt.floor_kwh[b] / k:g} > {bt.soc0_kwh[b] / k:g} kWh)",
                site=site,
            )
        if bt.soc0_kwh[b] > bt.soc_max_kwh[b] + _TOL:
            raise FlexibilityInfeasible("battery_soc", f"soc_initial above soc_max at site {site}", site=site)
        reach = bt.soc0_kwh[b] + bt.eta_c[b] * bt.power_kw[b] * T * dt
        final = bt.final_min_kwh[b]
        if final > bt.soc_max_kwh[b] + _TOL or final > reach + _TOL:
            raise FlexibilityInfeasible(
                "battery_final_soc",
                f"soc_final_min_kwh={final / k:g} cannot be reached at site {site} "
                f"(at most {min(reach, bt.soc_max_kwh[b]) / k:g} kWh by the end of the horizon)",
                site=site,
            )
    _check_min_power(model)
    _check_deadlines(model)
    a = model.arrays
    batt_power = np.zeros(len(p.sites))
    np.add.at(batt_power, bt.site, bt.power_kw)
    need = a.pue[:, None] * a.fixed_it_kw - a.pv_kw - batt_power[:, None]
    over = need > a.import_limit_kw[:, None] + _TOL
    if over.any():
        s, t = map(int, np.argwhere(over)[0])
        raise FlexibilityInfeasible(
            "grid_import_limit",
            f"non-deferrable load at site {sid[s]} needs {need[s, t]:.6g} kW from the grid at step {t}, above "
            f"grid_import_limit_kw={a.import_limit_kw[s]:g} even with all PV and full battery discharge",
            site=sid[s],
            step=t,
        )


def _check_deadlines(model: Layout) -> None:
    """Hard deadlines that ``max_kw`` alone cannot meet (family ``deferrable_deadline``; none when soft)."""
    p, fl, dt, T = model.problem, model.flex, model.arrays.dt_hours, model.problem.steps
    sid = [s.id for s in p.sites]
    if fl.origin.size and p.lateness_penalty_per_mwh is None:  # soft deadlines cannot be missed
        # queued work is available at step 0: it counts as arriving in the first step
        arrived = fl.cum_kwh + fl.queued_kwh[:, None]
        fast = fastest_cumulative_kwh(arrived, fl.max_kw, dt)
        lower = fl.lower_kwh()
        late = fast < lower - _TOL * np.maximum(1.0, np.abs(lower))
        if late.any():
            f, t = map(int, np.argwhere(late)[0])
            w = fl.workloads[f]
            site = sid[fl.origin[f]]
            why = f"max_delay_steps={w.max_delay_steps}" if w.deferrable else "its baseline (not deferrable)"
            if w.backlog_kwh > 0:
                why += f" and its backlog_kwh={w.backlog_kwh:g} due in {w.backlog_due(T)} steps"
            if w.queue:
                why += f" and its queue of {sum(q.energy_kwh for q in w.queue):g} kWh by its due steps"
            raise FlexibilityInfeasible(
                "deferrable_deadline",
                f"deferrable workload {w.id} at site {site} cannot finish within {why}: "
                f"max_kw={w.max_kw:g} is too low (first late at step {t})",
                site=site,
                workload=w.id,
                step=t,
            )


def _check_min_power(model: Layout) -> None:
    """``min_power_fraction`` × baseline above ``max_kw`` cannot be served (family ``min_power_fraction``)."""
    fl = model.flex
    need = fl.min_fraction[:, None] * fl.baseline_kw
    over = need > fl.max_kw[:, None] + _TOL
    if over.any():
        f, t = map(int, np.argwhere(over)[0])
        w, site = fl.workloads[f], model.problem.sites[fl.origin[f]].id
        raise FlexibilityInfeasible(
            "min_power_fraction",
            f"workload {w.id} at site {site} must run min_power_fraction={w.min_power_fraction:g} x "
            f"{w.baseline_kw[t]:g} kW at step {t}, above its max_kw={w.max_kw:g}",
            site=site,
            workload=w.id,
            step=t,
        )


def diagnose_infeasible(model: Model) -> FlexibilityInfeasible:
    """Explain an infeasible LP with an elastic copy: extra (penalised) grid import at every site and step.

    The elastic LP minimises the total import above the limits; the sites and steps that need it are where
    ``grid_import_limit_kw`` cannot be met together with the deferral deadlines, migration caps and final SoC.
    Returns (does not raise) the exception to raise.
    """
    p = model.problem
    n, T = len(p.sites), p.steps
    m = model.n_cols
    green = _diagnose_green_share(model)
    if green is not None:
        return green
    # extra import columns, one per (site, step), entering the balance rows with +1
    rows = model.row_offsets["balance"] + np.arange(n * T)
    E = sp.csc_matrix((np.ones(n * T), (rows, np.arange(n * T))), shape=(model.n_rows, n * T))
    A = sp.hstack([model.A, E], format="csc")
    c = np.concatenate([np.zeros(m), np.ones(n * T)])
    lo = np.concatenate([model.col_lo, np.zeros(n * T)])
    hi = np.concatenate([model.col_hi, np.full(n * T, np.inf)])
    sol = solve_lp(c, lo, hi, A, model.row_lo, model.row_hi)
    if sol.status != "optimal":
        return FlexibilityInfeasible(
            "unknown",
            "no schedule satisfies the constraints, and relaxing the grid import limits does not help "
            f"(elastic LP status: {sol.status})",
        )
    extra = sol.x[m:].reshape(n, T)
    if extra.max() <= _TOL:
        return FlexibilityInfeasible(
            "unknown", "HiGHS reported infeasible but the elastic LP needs no relaxation"
        )
    s, t = map(int, np.unravel_index(np.argmax(extra), extra.shape))
    site = p.sites[s].id
    return FlexibilityInfeasible(
        "grid_import_limit",
        f"grid_import_limit_kw cannot be met at site {site}: {extra[s].sum() * model.arrays.dt_hours:.6g} kWh "
        f"more import needed in total, up to {extra[s, t]:.6g} kW at step {t}, given the deferrable deadlines, "
        "migration options and battery SoC targets",
        site=site,
        step=t,
    )


def _diagnose_green_share(model: Model) -> FlexibilityInfeasible | None:
    """If some ``min_green_share`` is a hard constraint and the LP becomes feasible once the clean-energy
    shortfall is allowed, blame the green share: the site and the first step that needs a shortfall (the elastic
    LP minimises the total shortfall). ``None`` when no hard target exists or relaxing it does not help."""
    gl = model.green
    hard = np.isnan(gl.target_price)
    if not hard.any():
        return None
    T = model.problem.steps
    s_gs = slice(model.offsets["gshort"], model.offsets["gshort"] + gl.target_site.size * T)
    c = np.zeros(model.n_cols)
    c[s_gs] = 1.0
    hi = model.col_hi.copy()
    hi[s_gs] = np.inf
    sol = solve_lp(c, model.col_lo, hi, model.A, model.row_lo, model.row_hi)
    if sol.status != "optimal":
        return None
    short = sol.x[s_gs].reshape(-1, T)
    k, t = map(int, np.unravel_index(np.argmax(short), short.shape))
    if short[k, t] <= _TOL:
        return None
    site = model.problem.sites[gl.target_site[k]]
    dt = model.arrays.dt_hours
    return FlexibilityInfeasible(
        "green_share",
        f"min_green_share={site.min_green_share:g} cannot be met at site {site.id}: at least "
        f"{short[k].sum() * dt:.6g} kWh of clean energy is missing, first at step {int(np.argmax(short[k] > _TOL))} "
        "(more contracted green energy, PV or flexible load is needed; or set green_shortfall_price_per_mwh)",
        site=site.id,
        step=int(np.argmax(short[k] > _TOL)),
    )
