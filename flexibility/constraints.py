"""The scheduling LP's columns and constraint families as sparse COO triplets (semantics in :mod:`flexibility.model`).

:func:`column_layout` gives each column block its first column; :func:`column_data` fills the objective and the
column bounds block by block. Each ``*_rows`` function builds one constraint family starting at row ``r`` and
returns a :class:`Rows` (its triplets with absolute row and column indices and its row bounds), or ``None`` when
the family is empty for this problem. :func:`flexibility.model.build_model` stacks them in a fixed order.
"""

from __future__ import annotations

import numpy as np

from flexibility.lp_inputs import Batteries, Flex, GreenLayout
from flexibility.lp_parts import Parts, Rows, _block, _placement_sum
from flexibility.workload_rows import (
    it_capacity_rows,
    lateness_rows,
    migration_lead_rows,
    min_power_rows,
    ramp_rows,
    workload_columns,
)

__all__ = ["FAMILIES", "Parts", "Rows", "column_data", "column_layout"]


def column_layout(
    n: int, T: int, fl: Flex, bt: Batteries, gl: GreenLayout, short_len: int, *, soft_deadlines: bool = False
) -> tuple[dict[str, int], int]:
    """First column of every block (order of the :mod:`flexibility.model` table) and the column count;
    ``soft_deadlines`` adds the ``late`` block (one column per flexible workload and step)."""
    off: dict[str, int] = {}
    pos = 0
    nb, nf, npl = bt.site.size, fl.origin.size, fl.place_flex.size
    ngp, ntg = gl.place_contract.size, gl.target_site.size
    n_late, n_lead = (nf if soft_deadlines else 0), fl.lead_flex().size
    for name, size in (
        ("imp", n * T),
        ("exp", n * T),
        ("pv", n * T),
        ("ch", nb * T),
        ("dis", nb * T),
        ("soc", nb * T),
        ("x", npl * T),
        ("cum", nf * T),
        ("green", ngp * T),
        ("gshort", ntg * T),
        ("late", n_late * T),
        ("rcum", n_lead * T),
        ("short", short_len),
    ):
        off[name] = pos
        pos += size
    return off, pos


def _span(p: Parts, name: str, rows: int) -> slice:
    return slice(p.off[name], p.off[name] + rows * p.T)


def _grid_columns(p: Parts, c: np.ndarray, hi: np.ndarray) -> None:
    a, T, dt = p.a, p.T, p.a.dt_hours
    s_imp, s_exp, s_pv = _span(p, "imp", p.n), _span(p, "exp", p.n), _span(p, "pv", p.n)
    c[s_imp] = (
        a.price_per_mwh * dt / 1000 + p.problem.carbon_price_per_tonne * a.carbon_g_per_kwh * dt / 1e6
    ).ravel()
    c[s_exp] = (-a.export_price_per_mwh * dt / 1000).ravel()
    hi[s_imp] = np.repeat(a.import_limit_kw, T)
    hi[s_exp] = np.repeat(a.export_limit_kw, T)
    hi[s_pv] = a.pv_kw.ravel()


def _battery_columns(p: Parts, c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    bt, T, nb = p.bt, p.T, p.bt.site.size
    hi[_span(p, "ch", nb)] = np.repeat(bt.power_kw, T)
    hi[_span(p, "dis", nb)] = np.repeat(bt.power_kw, T)
    c[_span(p, "dis", nb)] = np.repeat(bt.cycle_cost_per_mwh * p.a.dt_hours / 1000, T)
    soc_lo = np.repeat(bt.floor_kwh[:, None], T, axis=1)
    if T and nb:
        soc_lo[:, -1] = np.maximum(soc_lo[:, -1], bt.final_min_kwh)
    lo[_span(p, "soc", nb)] = soc_lo.ravel()
    hi[_span(p, "soc", nb)] = np.repeat(bt.soc_max_kwh, T)


def _flex_columns(p: Parts, lo: np.ndarray, hi: np.ndarray) -> None:
    fl, T = p.fl, p.T
    nf, npl = fl.origin.size, fl.place_flex.size
    n_places = p.n_places
    single_cap = (
        np.where(n_places[fl.place_flex] == 1, fl.max_kw[fl.place_flex], np.inf) if npl else np.zeros(0)
    )
    hi[_span(p, "x", npl)] = np.repeat(single_cap, T)
    lo[_span(p, "cum", nf)] = fl.lower_kwh().ravel()
    hi[_span(p, "cum", nf)] = fl.upper_kwh().ravel()


def _green_columns(p: Parts, c: np.ndarray, hi: np.ndarray) -> None:
    gl, T, dt = p.gl, p.T, p.a.dt_hours
    ngp, ntg = gl.place_contract.size, gl.target_site.size
    contracts = p.problem.green_contracts
    if ngp:
        s_g = _span(p, "green", ngp)
        hi[s_g] = gl.profile_kw[gl.place_contract].ravel()
        top = np.array([contracts[k].take_or_pay for k in gl.place_contract], dtype=bool)
        strike = np.array([contracts[k].price_per_mwh for k in gl.place_contract])
        premium = np.where(top[:, None], 0.0, strike[:, None] - p.a.price_per_mwh[gl.place_site])
        c[s_g] = (premium * dt / 1000).ravel()
    if ntg:
        s_gs = _span(p, "gshort", ntg)
        hard = np.isnan(gl.target_price)
        hi[s_gs] = np.repeat(np.where(hard, 0.0, np.inf), T)
        c[s_gs] = np.repeat(np.where(hard, 0.0, gl.target_price) * dt / 1000, T)


def _short_columns(p: Parts, c: np.ndarray, hi: np.ndarray, short_len: int) -> None:
    if short_len:
        s_sh = slice(p.off["short"], p.off["short"] + short_len)
        hi[s_sh] = np.inf
        dt = p.a.dt_hours
        c[s_sh] = np.concatenate(
            [np.full(cm.end_step - cm.start_step, cm.shortfall_penalty_per_mwh * dt / 1000) for cm in p.comm]
        )


def column_data(p: Parts, n_cols: int, short_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Objective ``c`` and column bounds ``lo``, ``hi``, each ``(n_cols,)`` (currency per column unit; kW/kWh)."""
    c, lo, hi = np.zeros(n_cols), np.zeros(n_cols), np.zeros(n_cols)
    _grid_columns(p, c, hi)
    _battery_columns(p, c, lo, hi)
    _flex_columns(p, lo, hi)
    _green_columns(p, c, hi)
    _short_columns(p, c, hi, short_len)
    workload_columns(p, c, lo, hi)
    return c, lo, hi


def balance_rows(p: Parts, r: int) -> Rows:
    """Power balance per site and step (=): ``imp − exp + pv − Σch + Σdis − PUE·Σ k·x = PUE·fixed_IT`` with
    k = 1 at a workload's origin and 1 + ``migration_overhead`` at a destination."""
    T, n, off, bt, fl = p.T, p.n, p.off, p.bt, p.fl
    nb, npl = bt.site.size, fl.place_flex.size
    sites = np.arange(n)
    bal = _block(sites, T, r)
    rows, cols, vals = [], [], []
    for block, v in (("imp", 1.0), ("exp", -1.0), ("pv", 1.0)):
        rows.append(bal.ravel())
        cols.append(_block(sites, T, off[block]).ravel())
        vals.append(np.full(n * T, v))
    if nb:
        bidx = np.arange(nb)
        brows = _block(bt.site, T, r).ravel()
        rows += [brows, brows]
        cols += [_block(bidx, T, off["ch"]).ravel(), _block(bidx, T, off["dis"]).ravel()]
        vals += [np.full(nb * T, -1.0), np.full(nb * T, 1.0)]
    if npl:
        rows.append(_block(fl.place_site, T, r).ravel())
        cols.append(_block(np.arange(npl), T, off["x"]).ravel())
        coef = p.a.pue[fl.place_site]
        if fl.overhead.any():  # a destination runs (1 + migration_overhead) × the migrated work
            coef = coef * fl.place_coef
        vals.append(np.repeat(-coef, T))
    rhs = (p.a.pue[:, None] * p.a.fixed_it_kw).ravel()
    return Rows(rows, cols, vals, rhs, rhs)


def soc_rows(p: Parts, r: int) -> Rows | None:
    """Battery state of charge per battery and step (=): ``soc_t − soc_{t−1} − η_c Δt ch_t + Δt/η_d dis_t =
    soc_initial·[t = 0]``."""
    T, off, bt, dt = p.T, p.off, p.bt, p.a.dt_hours
    nb = bt.site.size
    if not nb:
        return None
    bidx = np.arange(nb)
    srow = _block(bidx, T, r).ravel()
    rows = [srow, srow, srow]
    cols = [
        _block(bidx, T, off["soc"]).ravel(),
        _block(bidx, T, off["ch"]).ravel(),
        _block(bidx, T, off["dis"]).ravel(),
    ]
    vals = [np.ones(nb * T), np.repeat(-bt.eta_c * dt, T), np.repeat(dt / bt.eta_d, T)]
    prev = _block(bidx, T, off["soc"])[:, :-1].ravel()
    rows.append(_block(bidx, T, r)[:, 1:].ravel())
    cols.append(prev)
    vals.append(-np.ones(prev.size))
    rhs = np.zeros((nb, T))
    rhs[:, 0] = bt.soc0_kwh
    return Rows(rows, cols, vals, rhs.ravel(), rhs.ravel())


def cumulative_rows(p: Parts, r: int) -> Rows | None:
    """Cumulative served energy per flexible workload and step (=): ``S_t − S_{t−1} − Δt Σ_sites x_t = 0``."""
    T, off, fl, dt = p.T, p.off, p.fl, p.a.dt_hours
    nf, npl = fl.origin.size, fl.place_flex.size
    if not nf:
        return None
    fidx = np.arange(nf)
    crow = _block(fidx, T, r)
    prev = _block(fidx, T, off["cum"])[:, :-1].ravel()
    rows = [crow.ravel(), crow[:, 1:].ravel(), _block(fl.place_flex, T, r).ravel()]
    cols = [_block(fidx, T, off["cum"]).ravel(), prev, _block(np.arange(npl), T, off["x"]).ravel()]
    vals = [np.ones(nf * T), -np.ones(prev.size), np.full(npl * T, -dt)]
    return Rows(rows, cols, vals, np.zeros(nf * T), np.zeros(nf * T))


def max_kw_rows(p: Parts, r: int) -> Rows | None:
    """``Σ_sites x_t ≤ max_kw`` per migratable workload with a cap and step (single-site caps are bounds)."""
    fl = p.fl
    nf = fl.origin.size
    if not nf:
        return None
    capped = np.flatnonzero((p.n_places > 1) & np.isfinite(fl.max_kw))
    if not capped.size:
        return None
    rr, cc, vv = _placement_sum(fl.place_flex, nf, capped, p.T, r, p.off["x"])
    return Rows([rr], [cc], [vv], np.full(capped.size * p.T, -np.inf), np.repeat(fl.max_kw[capped], p.T))


def green_match_rows(p: Parts, r: int) -> Rows | None:
    """Per site with contracts and step (≤): ``Σ_contracts green − imp ≤ 0`` (contract energy covers import)."""
    T, n, gl, off = p.T, p.n, p.gl, p.off
    ngp = gl.place_contract.size
    if not ngp:
        return None
    match_sites = np.unique(gl.place_site)
    remap = np.full(n, -1)
    remap[match_sites] = np.arange(match_sites.size)
    rows = [_block(remap[gl.place_site], T, r).ravel(), _block(np.arange(match_sites.size), T, r).ravel()]
    cols = [_block(np.arange(ngp), T, off["green"]).ravel(), _block(match_sites, T, off["imp"]).ravel()]
    vals = [np.ones(ngp * T), -np.ones(match_sites.size * T)]
    return Rows(rows, cols, vals, np.full(match_sites.size * T, -np.inf), np.zeros(match_sites.size * T))


def green_volume_rows(p: Parts, r: int) -> Rows | None:
    """Per contract with several eligible sites and step (≤): ``Σ_sites green ≤ profile_kwh / Δt``."""
    T, gl = p.T, p.gl
    if not gl.place_contract.size:
        return None
    n_contracts = gl.profile_kw.shape[0]
    shared = np.flatnonzero(np.bincount(gl.place_contract, minlength=n_contracts) > 1)
    if not shared.size:
        return None
    remap_c = np.full(n_contracts, -1)
    remap_c[shared] = np.arange(shared.size)
    pl = np.flatnonzero(remap_c[gl.place_contract] >= 0)
    rows = [_block(remap_c[gl.place_contract[pl]], T, r).ravel()]
    cols = [_block(pl, T, p.off["green"]).ravel()]
    vals = [np.ones(pl.size * T)]
    return Rows(rows, cols, vals, np.full(shared.size * T, -np.inf), gl.profile_kw[shared].ravel())


def green_share_rows(p: Parts, r: int) -> Rows | None:
    """Per site with a ``min_green_share`` σ and step (≥ 0), lc the zone's low-carbon share:
    ``(1 − σ)·pv + (1 − lc)·Σ green + (lc − σ)·imp − (1 − σ)·exp + gshort ≥ 0`` (:mod:`flexibility.green`)."""
    T, n, gl, off = p.T, p.n, p.gl, p.off
    ngp, ntg = gl.place_contract.size, gl.target_site.size
    if not ntg:
        return None
    sigma, tg = gl.target_share, gl.target_site
    trow = _block(np.arange(ntg), T, r)
    rows, cols, vals = [], [], []
    for block, coef in (("pv", 1 - sigma[:, None]), ("exp", -(1 - sigma[:, None]))):
        rows.append(trow.ravel())
        cols.append(_block(tg, T, off[block]).ravel())
        vals.append(np.broadcast_to(coef, (ntg, T)).ravel())
    rows += [trow.ravel(), trow.ravel()]
    cols += [_block(tg, T, off["imp"]).ravel(), _block(np.arange(ntg), T, off["gshort"]).ravel()]
    vals += [(gl.low_carbon_share[tg] - sigma[:, None]).ravel(), np.ones(ntg * T)]
    if ngp:
        remap_t = np.full(n, -1)
        remap_t[tg] = np.arange(ntg)
        pl = np.flatnonzero(remap_t[gl.place_site] >= 0)
        if pl.size:
            rows.append(_block(remap_t[gl.place_site[pl]], T, r).ravel())
            cols.append(_block(pl, T, off["green"]).ravel())
            vals.append((1 - gl.low_carbon_share[gl.place_site[pl]]).ravel())
    return Rows(rows, cols, vals, np.zeros(ntg * T), np.full(ntg * T, np.inf))


def commitment_rows(p: Parts, r: int) -> Rows | None:
    """Per commitment window step (≤): ``Σ_sites (imp − exp) − short_t ≤ Σ_sites baseline_grid − reduction_kw``
    (or ``≤ max_grid_kw`` for a commitment with an absolute target)."""
    if not p.comm:
        return None
    T, off = p.T, p.off
    rows, cols, vals, lo, hi = [], [], [], [], []
    k = 0
    for ci, cm in enumerate(p.comm):
        steps = np.arange(cm.start_step, cm.end_step)
        L = steps.size
        members = np.flatnonzero(p.cmask[ci])
        crows = r + k + np.arange(L)
        for block, v in (("imp", 1.0), ("exp", -1.0)):
            rows.append(np.repeat(crows[None, :], members.size, axis=0).ravel())
            cols.append((off[block] + members[:, None] * T + steps[None, :]).ravel())
            vals.append(np.full(members.size * L, v))
        rows.append(crows)
        cols.append(off["short"] + k + np.arange(L))
        vals.append(-np.ones(L))
        lo.append(np.full(L, -np.inf))
        if cm.max_grid_kw is not None:  # an absolute target (Commitment docstring)
            hi.append(np.asarray(cm.max_grid_kw, dtype=np.float64))
        else:
            hi.append(p.base.grid_kw[members][:, steps].sum(axis=0) - cm.reduction_kw)
        k += L
    if not k:
        return None
    return Rows(rows, cols, vals, np.concatenate(lo), np.concatenate(hi))


#: the constraint families in row order: (row-offset name, builder); the issue-17 families
#: (:mod:`flexibility.workload_rows`) are empty unless a workload or the problem sets their fields
FAMILIES = (
    ("balance", balance_rows),
    ("soc", soc_rows),
    ("cumulative", cumulative_rows),
    ("max_kw", max_kw_rows),
    ("it_capacity", it_capacity_rows),
    ("green_match", green_match_rows),
    ("green_volume", green_volume_rows),
    ("green_share", green_share_rows),
    ("min_power", min_power_rows),
    ("ramp", ramp_rows),
    ("migration_lead", migration_lead_rows),
    ("lateness", lateness_rows),
    ("commitment", commitment_rows),  # last: flexibility.decompose treats the rows from here on as coupling
)
