"""Green-contract accounting of a solved schedule: the LP's match with take-or-pay volume topped up, the
run-as-it-arrives baseline's greedy match, and the ``green`` section and cost terms of the result."""

from __future__ import annotations

from typing import Any

import numpy as np

from flexibility.green import Ledger, ledger
from flexibility.model import Layout


def top_up_take_or_pay(model: Layout, import_kw: np.ndarray, matched: np.ndarray) -> np.ndarray:
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


def _greedy_match(model: Layout, import_kw: np.ndarray) -> np.ndarray:
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
    model: Layout, imp: np.ndarray, exp: np.ndarray, pv: np.ndarray, matched_place: np.ndarray
) -> dict[str, Any]:
    """The ``green`` section of the result and the green cost terms (keys ``_cost`` / ``_baseline_cost``).

    Contract cost (currency): take-or-pay Σ (strike − zone price) × profile × Δt/1000 whatever is matched;
    pay-as-used Σ (strike − zone price) × matched × Δt/1000 (the matched energy replaces market purchases that
    the ``energy`` term already charges at the zone price). Shortfall cost: price × Σ max(σ·consumption −
    clean, 0) × Δt/1000 per site with a soft target. Per-site annual shares count take-or-pay volume that no
    site matched as split evenly among the contract's eligible sites (it is paid for and retired anyway).
    """
    p, gl, dt, base = model.problem, model.green, model.arrays.dt_hours, model.base
    short_cost = base_short_cost = 0.0
    sites: dict[str, Any] = {}
    lp_rows = _per_site(model, matched_place, imp, exp, pv)
    base_match = _greedy_match(model, base.import_kw)
    base_rows = _per_site(model, base_match, base.import_kw, base.export_kw, base.pv_used_kw)
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
    lp_cc, base_cc = _contract_costs(model, matched_place), _contract_costs(model, base_match)
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


def _contract_costs(model: Layout, matched: np.ndarray) -> np.ndarray:
    """Cost per green contract (currency) for a match ``(n_gplace, T)`` kW (rule in :func:`green_accounting`)."""
    p, gl, a = model.problem, model.green, model.arrays
    T, dt, ncon = p.steps, a.dt_hours, gl.profile_kw.shape[0]
    out = np.zeros(ncon)
    for ci, c in enumerate(p.green_contracts):
        sel = gl.place_contract == ci
        sites = gl.place_site[sel]
        zone_price = a.price_per_mwh[sites[0]] if sites.size else np.zeros(T)
        volume = gl.profile_kw[ci] if c.take_or_pay else matched[sel].sum(axis=0)
        out[ci] = float(np.sum((c.price_per_mwh - zone_price) * volume) * dt / 1000)
    return out


def _per_site(
    model: Layout, matched: np.ndarray, s_imp: np.ndarray, s_exp: np.ndarray, s_pv: np.ndarray
) -> list[tuple[Ledger, np.ndarray, float]]:
    """Per site: its hourly green :class:`Ledger`, matched kW ``(T,)`` and annual matched share (take-or-pay
    volume no site matched counted as split evenly among the contract's eligible sites)."""
    p, gl = model.problem, model.green
    T, n, dt = p.steps, len(p.sites), model.arrays.dt_hours
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
