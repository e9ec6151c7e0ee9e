"""Assembly of the scheduling LP as sparse matrices (issue 5 semantics), vectorised over time steps.

Columns (each block has one entry per time step ``t = 0..T-1``):

===========  =================  ==========================================================================
block        size               meaning (units)
===========  =================  ==========================================================================
``imp``      n_sites · T        grid import, kW, in [0, grid_import_limit_kw]
``exp``      n_sites · T        grid export, kW, in [0, grid_export_limit_kw]
``pv``       n_sites · T        PV used, kW, in [0, pv_kw(t)] (curtailable)
``ch``       n_batt · T         battery charge, kW, in [0, power_kw]
``dis``      n_batt · T         battery discharge, kW, in [0, power_kw]
``soc``      n_batt · T         state of charge at the end of step t, kWh, in [max(soc_min, reserve), soc_max]
``x``        n_place · T        served IT power of a flexible workload at one allowed site, kW
``cum``      n_flex · T         cumulative served energy S(t) of a flexible workload, kWh, in [A(t-d), A(t)]
``green``    n_gplace · T       green-contract energy matched at one eligible site, kW, in [0, profile/Δt]
``gshort``   n_target · T       clean-energy shortfall below a site's ``min_green_share``, kW, >= 0
                                (upper bound 0 when the share is a hard constraint)
``short``    Σ window lengths   commitment shortfall, kW, >= 0
===========  =================  ==========================================================================

Rows:

* balance (n_sites · T, =): ``imp − exp + pv − Σch + Σdis − PUE · Σx = PUE · fixed_IT``
  i.e. grid = import − export = PUE × IT − PV used + charge − discharge.
* soc (n_batt · T, =): ``soc_t − soc_{t−1} − η_c Δt ch_t + Δt/η_d dis_t = soc_initial·[t = 0]``.
* cumulative (n_flex · T, =): ``S_t − S_{t−1} − Δt Σ_sites x_t = 0``; S bounds carry
  S(t) ≤ A(t) + B, S(t) ≥ A(t − max_delay_steps) + B·[t ≥ D − 1] and S(T−1) = A(T−1) + B, with B the
  workload's ``backlog_kwh`` (work already waiting, 0 when none) and D its due step (``Workload.backlog_due``).
* max_kw (per migratable workload with a cap, T rows, ≤): ``Σ_sites x_t ≤ max_kw`` (single-site caps are bounds).
* it_capacity (per site with a finite ``it_capacity_kw`` where a flexible workload may run, T rows, ≤):
  ``Σ_{placements at the site} x_t ≤ max(it_capacity_kw − fixed_IT_t, own_flexible_baseline_t + own_backlog_t)``:
  the capacity limits work *added* at the site (caught up or migrated in); the site's own work as it arrives
  stays feasible (a load forecast above the capacity is one the site meets somehow), so run-as-it-arrives is
  always a solution; ``own_backlog_t`` = Σ B/(D·Δt) over its own workloads with a backlog for t < D (the backlog
  run evenly until it is due), so that run-as-it-arrives plus the backlog spread evenly stays one too.
* green_match (per site with contracts, T rows, ≤): ``Σ_contracts green − imp ≤ 0`` (contract energy covers import).
* green_volume (per contract with several eligible sites, T rows, ≤): ``Σ_sites green ≤ profile_kwh / Δt``.
* green_share (per site with ``min_green_share`` σ, T rows, ≥ 0), with the zone's low-carbon share lc:
  ``(1 − σ)·pv + (1 − lc)·Σ green + (lc − σ)·imp − (1 − σ)·exp + gshort ≥ 0``, i.e. clean ≥ σ × consumption
  (clean and consumption as in :mod:`flexibility.green`).
* commitment (per window step, ≤): ``Σ_sites (imp − exp) − short_t ≤ Σ_sites baseline_grid − reduction_kw``.

Objective (currency): Σ (price × imp − export_price × exp) Δt/1000 + carbon_price × Σ CI × imp Δt/10⁶
+ cycle_cost × Σ dis Δt/1000 + Σ penalty × short Δt/1000
+ Σ (contract price − zone price) × green Δt/1000 (pay-as-used contracts; take-or-pay ones cost a constant, so
their columns cost 0 and the result tops their match up afterwards) + Σ green_shortfall_price × gshort Δt/1000.
The green blocks and rows are empty unless the problem has green contracts or a ``min_green_share``, so other
problems build exactly the LP they always did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from flexibility.arrays import SiteArrays, site_arrays
from flexibility.baseline import Baseline, baseline, commitment_site_mask
from flexibility.problem import Problem, Workload


@dataclass(frozen=True, eq=False)
class Flex:
    """Flexible (deferrable and/or migratable) workloads and where they may run.

    Attributes:
        origin: ``(n_flex,)`` origin site index; workloads: the :class:`Workload` objects.
        delay: ``(n_flex,)`` max_delay_steps (0 for migratable-only); max_kw: ``(n_flex,)`` (inf when none).
        cum_kwh: ``(n_flex, T)`` cumulative baseline energy A(t) (work as it arrives; the backlog excluded).
        backlog_kwh: ``(n_flex,)`` work already waiting at the start, kWh; backlog_due: ``(n_flex,)`` its due
            step D in ``[1, T]`` (it must have run by the end of step D − 1).
        place_flex, place_site: ``(n_place,)`` workload index and site index of each placement
            (the origin placement comes first for each workload).
    """

    origin: np.ndarray
    workloads: tuple[Workload, ...]
    delay: np.ndarray
    max_kw: np.ndarray
    cum_kwh: np.ndarray
    place_flex: np.ndarray
    place_site: np.ndarray
    backlog_kwh: np.ndarray
    backlog_due: np.ndarray

    def lower_kwh(self) -> np.ndarray:
        """The lower bound of S(t), ``(n_flex, T)``: :func:`cumulative_lower_kwh` with the backlogs."""
        return cumulative_lower_kwh(self.cum_kwh, self.delay, self.backlog_kwh, self.backlog_due)

    def upper_kwh(self) -> np.ndarray:
        """The upper bound of S(t), ``(n_flex, T)``: A(t) + B (the backlog is available from step 0)."""
        return self.cum_kwh + self.backlog_kwh[:, None]


def flex_workloads(problem: Problem) -> Flex:
    """Collect the flexible workloads of every site and their placements (origin + ``migratable_to``)."""
    idx = problem.site_index()
    origin: list[int] = []
    wls: list[Workload] = []
    delay: list[int] = []
    maxkw: list[float] = []
    base: list[np.ndarray] = []
    backlog: list[float] = []
    due: list[int] = []
    pf, ps = [], []
    for si, s in enumerate(problem.sites):
        for w in s.workloads:
            if not w.flexible:
                continue
            f = len(wls)
            origin.append(si)
            wls.append(w)
            delay.append(w.max_delay_steps or 0)
            maxkw.append(np.inf if w.max_kw is None else w.max_kw)
            base.append(w.baseline_kw)
            backlog.append(w.backlog_kwh)
            due.append(w.backlog_due(problem.steps))
            dests = [si] + [idx[d] for d in dict.fromkeys(w.migratable_to) if idx[d] != si]
            pf.extend([f] * len(dests))
            ps.extend(dests)
    T = problem.steps
    cum = np.cumsum(np.array(base).reshape(len(wls), T), axis=1) * problem.dt_hours
    return Flex(
        origin=np.array(origin, dtype=np.int64),
        workloads=tuple(wls),
        delay=np.array(delay, dtype=np.int64),
        max_kw=np.array(maxkw, dtype=np.float64),
        cum_kwh=cum,
        place_flex=np.array(pf, dtype=np.int64),
        place_site=np.array(ps, dtype=np.int64),
        backlog_kwh=np.array(backlog, dtype=np.float64),
        backlog_due=np.array(due, dtype=np.int64),
    )


def cumulative_lower_kwh(
    cum_kwh: np.ndarray,
    delay: np.ndarray,
    backlog_kwh: np.ndarray | None = None,
    backlog_due: np.ndarray | None = None,
) -> np.ndarray:
    """A(t − d) per workload, ``(n_flex, T)``; 0 where t − d < 0; the last step equals A(T−1).

    With ``backlog_kwh`` B and ``backlog_due`` D (each ``(n_flex,)``) the work already waiting is added from
    step D − 1 on (it must have run by the end of that step), so the last step equals A(T−1) + B."""
    T = cum_kwh.shape[1]
    t = np.arange(T)[None, :] - delay[:, None]
    lower = np.where(t >= 0, np.take_along_axis(cum_kwh, np.clip(t, 0, T - 1), axis=1), 0.0)
    if T:
        lower[:, -1] = cum_kwh[:, -1]
    if backlog_kwh is not None and backlog_due is not None and backlog_kwh.size:
        due = np.arange(T)[None, :] >= (backlog_due[:, None] - 1)
        lower = lower + np.where(due, backlog_kwh[:, None], 0.0)
    return lower


@dataclass(frozen=True, eq=False)
class Batteries:
    """All batteries, flattened: ``site`` index and parameters, each ``(n_batt,)``.

    Identical batteries at one site are merged into one (``count`` > 1) with ``count`` times the power and
    energy figures. This is exact: the merged constraints are the sum of the individual ones, and any merged
    schedule split evenly satisfies every individual battery (all constraints are linear and homogeneous in
    the battery's size). It removes the symmetry that makes fleets of equal batteries slow to solve.
    """

    site: np.ndarray
    count: np.ndarray
    power_kw: np.ndarray
    eta_c: np.ndarray
    eta_d: np.ndarray
    soc0_kwh: np.ndarray
    floor_kwh: np.ndarray
    soc_max_kwh: np.ndarray
    final_min_kwh: np.ndarray
    cycle_cost_per_mwh: np.ndarray


def batteries(problem: Problem, *, merge: bool = True) -> Batteries:
    """Flatten every site's batteries into :class:`Batteries`, merging identical ones per site if ``merge``."""
    groups: dict[tuple, int] = {}
    for i, s in enumerate(problem.sites):
        for j, b in enumerate(s.batteries):
            key = (i, *b.to_json().values()) if merge else (i, j)
            groups[key] = groups.get(key, 0) + 1
    rows = []
    for key, count in groups.items():
        i = key[0]
        b = (
            next(b for b in problem.sites[i].batteries if (i, *b.to_json().values()) == key)
            if merge
            else problem.sites[i].batteries[key[1]]
        )
        rows.append((i, count, b))
    k = np.array([n for _, n, _ in rows], dtype=np.float64)
    return Batteries(
        site=np.array([i for i, _, _ in rows], dtype=np.int64),
        count=k,
        power_kw=k * np.array([b.power_kw for _, _, b in rows], dtype=np.float64),
        eta_c=np.array([b.charge_efficiency for _, _, b in rows], dtype=np.float64),
        eta_d=np.array([b.discharge_efficiency for _, _, b in rows], dtype=np.float64),
        soc0_kwh=k * np.array([b.soc_initial_kwh for _, _, b in rows], dtype=np.float64),
        floor_kwh=k * np.array([b.soc_floor_kwh for _, _, b in rows], dtype=np.float64),
        soc_max_kwh=k * np.array([b.soc_upper_kwh for _, _, b in rows], dtype=np.float64),
        final_min_kwh=k
        * np.array([-np.inf if b.soc_final_min_kwh is None else b.soc_final_min_kwh for _, _, b in rows]),
        cycle_cost_per_mwh=np.array([b.cycle_cost_per_mwh for _, _, b in rows], dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class GreenLayout:
    """Green contracts and targets in the LP.

    Attributes:
        place_contract, place_site: ``(n_gplace,)`` contract index and site index of each matching option.
        profile_kw: ``(n_contracts, T)`` contracted power (profile_kwh / Δt).
        low_carbon_share: ``(n_sites, T)`` the grid's low-carbon share at each site (0 when the zone has none).
        target_site: ``(n_target,)`` sites with a ``min_green_share``; target_share ``(n_target,)``;
        target_price: ``(n_target,)`` shortfall price per MWh (``nan`` = hard constraint).
    """

    place_contract: np.ndarray
    place_site: np.ndarray
    profile_kw: np.ndarray
    low_carbon_share: np.ndarray
    target_site: np.ndarray
    target_share: np.ndarray
    target_price: np.ndarray

    @property
    def active(self) -> bool:
        """True when the problem has any green contract option or target."""
        return bool(self.place_contract.size or self.target_site.size)


def green_layout(problem: Problem, *, enabled: bool = True) -> GreenLayout:
    """Collect green contracts and targets (empty when ``enabled`` is False, e.g. for the envelope)."""
    T, n = problem.steps, len(problem.sites)
    lc = np.zeros((n, T))
    pc: list[int] = []
    ps: list[int] = []
    prof = np.zeros((len(problem.green_contracts) if enabled else 0, T))
    tsite: list[int] = []
    tshare: list[float] = []
    tprice: list[float] = []
    if enabled:
        for i, s in enumerate(problem.sites):
            z = problem.zones[s.zone]
            if z.low_carbon_share is not None:
                lc[i] = z.low_carbon_share
            if s.min_green_share is not None:
                tsite.append(i)
                tshare.append(s.min_green_share)
                price = s.green_shortfall_price_per_mwh
                tprice.append(np.nan if price is None else price)
        for ci, sites in enumerate(problem.contract_sites()):
            prof[ci] = problem.green_contracts[ci].profile_kwh / problem.dt_hours
            pc.extend([ci] * len(sites))
            ps.extend(sites)
    return GreenLayout(
        place_contract=np.array(pc, dtype=np.int64),
        place_site=np.array(ps, dtype=np.int64),
        profile_kw=prof,
        low_carbon_share=lc,
        target_site=np.array(tsite, dtype=np.int64),
        target_share=np.array(tshare, dtype=np.float64),
        target_price=np.array(tprice, dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class Model:
    """The LP ``min c·x  s.t. row_lo ≤ A x ≤ row_hi, col_lo ≤ x ≤ col_hi`` plus the index layout.

    ``offsets`` maps block name -> first column; ``row_offsets`` maps row family -> first row.
    """

    c: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    offsets: dict[str, int]
    row_offsets: dict[str, int]
    problem: Problem
    arrays: SiteArrays
    base: Baseline
    flex: Flex
    batt: Batteries
    commitment_mask: np.ndarray
    green: GreenLayout

    @property
    def n_cols(self) -> int:
        """Number of LP columns."""
        return self.c.size

    @property
    def n_rows(self) -> int:
        """Number of LP rows."""
        return self.row_lo.size


def _block(sites: np.ndarray, T: int, offset: int) -> np.ndarray:
    """Column/row indices ``offset + sites[k] * T + t`` as a ``(len(sites), T)`` array."""
    return offset + sites[:, None] * T + np.arange(T)[None, :]


def _placement_sum(
    group_of_place: np.ndarray, n_groups: int, selected: np.ndarray, T: int, r: int, x_offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets of rows ``r + k·T + t`` = Σ ``x_t`` over the placements whose group (workload or site index
    in ``group_of_place``) is ``selected[k]``: one row per selected group and step."""
    remap = np.full(n_groups, -1)
    remap[selected] = np.arange(selected.size)
    pl = np.flatnonzero(remap[group_of_place] >= 0)
    return (
        _block(remap[group_of_place[pl]], T, r).ravel(),
        _block(pl, T, x_offset).ravel(),
        np.ones(pl.size * T),
    )


def _append(rows: list, cols: list, vals: list, triplets: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    rows.append(triplets[0])
    cols.append(triplets[1])
    vals.append(triplets[2])


def build_model(
    problem: Problem,
    *,
    with_commitments: bool = True,
    merge_batteries: bool = True,
    with_green: bool | None = None,
) -> Model:
    """Assemble the LP for ``problem`` as one sparse CSC matrix (COO triplets built with numpy, no per-step loops).

    Args:
        problem: the validated problem.
        with_commitments: include commitment rows and shortfall columns (the envelope drops them).
        with_green: include green contracts and green-share rows (default: as ``with_commitments``; the
            physical flexibility envelope ignores them).
        merge_batteries: merge identical batteries of a site into one (exact; see :class:`Batteries`).

    Returns:
        :class:`Model`; the row/column semantics are listed in the module docstring.
    """
    T = problem.steps
    a = site_arrays(problem)
    base = baseline(problem, a)
    fl = flex_workloads(problem)
    bt = batteries(problem, merge=merge_batteries)
    n, nb, nf, npl = len(problem.sites), bt.site.size, fl.origin.size, fl.place_flex.size
    dt = a.dt_hours
    sites = np.arange(n)
    comm = [c for c in problem.commitments] if with_commitments else []
    cmask = commitment_site_mask(problem) if with_commitments else np.zeros((0, n), dtype=bool)
    short_len = sum(c.end_step - c.start_step for c in comm)
    gl = green_layout(problem, enabled=with_commitments if with_green is None else with_green)
    ngp, ntg = gl.place_contract.size, gl.target_site.size

    off: dict[str, int] = {}
    pos = 0
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
        ("short", short_len),
    ):
        off[name] = pos
        pos += size
    ncol = pos

    c = np.zeros(ncol)
    lo = np.zeros(ncol)
    hi = np.zeros(ncol)
    # grid
    s_imp = slice(off["imp"], off["imp"] + n * T)
    s_exp = slice(off["exp"], off["exp"] + n * T)
    s_pv = slice(off["pv"], off["pv"] + n * T)
    c[s_imp] = (
        a.price_per_mwh * dt / 1000 + problem.carbon_price_per_tonne * a.carbon_g_per_kwh * dt / 1e6
    ).ravel()
    c[s_exp] = (-a.export_price_per_mwh * dt / 1000).ravel()
    hi[s_imp] = np.repeat(a.import_limit_kw, T)
    hi[s_exp] = np.repeat(a.export_limit_kw, T)
    hi[s_pv] = a.pv_kw.ravel()
    # batteries
    s_ch = slice(off["ch"], off["ch"] + nb * T)
    s_dis = slice(off["dis"], off["dis"] + nb * T)
    s_soc = slice(off["soc"], off["soc"] + nb * T)
    hi[s_ch] = np.repeat(bt.power_kw, T)
    hi[s_dis] = np.repeat(bt.power_kw, T)
    c[s_dis] = np.repeat(bt.cycle_cost_per_mwh * dt / 1000, T)
    soc_lo = np.repeat(bt.floor_kwh[:, None], T, axis=1)
    if T and nb:
        soc_lo[:, -1] = np.maximum(soc_lo[:, -1], bt.final_min_kwh)
    lo[s_soc] = soc_lo.ravel()
    hi[s_soc] = np.repeat(bt.soc_max_kwh, T)
    # flexible workloads
    s_x = slice(off["x"], off["x"] + npl * T)
    s_cum = slice(off["cum"], off["cum"] + nf * T)
    n_places = np.bincount(fl.place_flex, minlength=nf) if nf else np.zeros(0, dtype=np.int64)
    single_cap = (
        np.where(n_places[fl.place_flex] == 1, fl.max_kw[fl.place_flex], np.inf) if npl else np.zeros(0)
    )
    hi[s_x] = np.repeat(single_cap, T)
    lo[s_cum] = fl.lower_kwh().ravel()
    hi[s_cum] = fl.upper_kwh().ravel()
    # green contracts and targets
    if ngp:
        s_g = slice(off["green"], off["green"] + ngp * T)
        hi[s_g] = gl.profile_kw[gl.place_contract].ravel()
        top = np.array([problem.green_contracts[k].take_or_pay for k in gl.place_contract], dtype=bool)
        strike = np.array([problem.green_contracts[k].price_per_mwh for k in gl.place_contract])
        premium = np.where(top[:, None], 0.0, strike[:, None] - a.price_per_mwh[gl.place_site])
        c[s_g] = (premium * dt / 1000).ravel()
    if ntg:
        s_gs = slice(off["gshort"], off["gshort"] + ntg * T)
        hard = np.isnan(gl.target_price)
        hi[s_gs] = np.repeat(np.where(hard, 0.0, np.inf), T)
        c[s_gs] = np.repeat(np.where(hard, 0.0, gl.target_price) * dt / 1000, T)
    # commitments
    if short_len:
        s_sh = slice(off["short"], off["short"] + short_len)
        hi[s_sh] = np.inf
        c[s_sh] = np.concatenate(
            [np.full(cm.end_step - cm.start_step, cm.shortfall_penalty_per_mwh * dt / 1000) for cm in comm]
        )

    rows, cols, vals = [], [], []
    roff: dict[str, int] = {}
    r = 0
    # balance rows
    roff["balance"] = r
    bal = _block(sites, T, r)
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
        vals.append(np.repeat(-a.pue[fl.place_site], T))
    row_lo = [(a.pue[:, None] * a.fixed_it_kw).ravel()]
    row_hi = [row_lo[0]]
    r += n * T
    # soc rows
    if nb:
        roff["soc"] = r
        bidx = np.arange(nb)
        srow = _block(bidx, T, r).ravel()
        rows += [srow, srow, srow]
        cols += [
            _block(bidx, T, off["soc"]).ravel(),
            _block(bidx, T, off["ch"]).ravel(),
            _block(bidx, T, off["dis"]).ravel(),
        ]
        vals += [np.ones(nb * T), np.repeat(-bt.eta_c * dt, T), np.repeat(dt / bt.eta_d, T)]
        prev = _block(bidx, T, off["soc"])[:, :-1].ravel()
        rows.append(_block(bidx, T, r)[:, 1:].ravel())
        cols.append(prev)
        vals.append(-np.ones(prev.size))
        rhs = np.zeros((nb, T))
        rhs[:, 0] = bt.soc0_kwh
        row_lo.append(rhs.ravel())
        row_hi.append(rhs.ravel())
        r += nb * T
    # cumulative rows
    if nf:
        roff["cumulative"] = r
        fidx = np.arange(nf)
        crow = _block(fidx, T, r)
        rows.append(crow.ravel())
        cols.append(_block(fidx, T, off["cum"]).ravel())
        vals.append(np.ones(nf * T))
        prev = _block(fidx, T, off["cum"])[:, :-1].ravel()
        rows.append(crow[:, 1:].ravel())
        cols.append(prev)
        vals.append(-np.ones(prev.size))
        rows.append(_block(fl.place_flex, T, r).ravel())
        cols.append(_block(np.arange(npl), T, off["x"]).ravel())
        vals.append(np.full(npl * T, -dt))
        row_lo.append(np.zeros(nf * T))
        row_hi.append(np.zeros(nf * T))
        r += nf * T
        # max_kw rows for multi-site workloads with a cap
        capped = np.flatnonzero((n_places > 1) & np.isfinite(fl.max_kw))
        if capped.size:
            roff["max_kw"] = r
            _append(rows, cols, vals, _placement_sum(fl.place_flex, nf, capped, T, r, off["x"]))
            row_lo.append(np.full(capped.size * T, -np.inf))
            row_hi.append(np.repeat(fl.max_kw[capped], T))
            r += capped.size * T
        # IT capacity rows for sites where flexible work may run
        cap_sites = np.flatnonzero(np.isfinite(a.it_capacity_kw) & np.isin(sites, fl.place_site))
        if cap_sites.size:
            roff["it_capacity"] = r
            _append(rows, cols, vals, _placement_sum(fl.place_site, n, cap_sites, T, r, off["x"]))
            own_flexible = a.baseline_it_kw[cap_sites] - a.fixed_it_kw[cap_sites]
            if fl.backlog_kwh.any():
                # the backlog spread evenly until it is due stays feasible (module docstring)
                rate = np.zeros((n, T))
                for f in np.flatnonzero(fl.backlog_kwh > 0):
                    d = int(fl.backlog_due[f])
                    rate[fl.origin[f], :d] += fl.backlog_kwh[f] / (d * dt)
                own_flexible = own_flexible + rate[cap_sites]
            room = np.maximum(a.it_capacity_kw[cap_sites, None] - a.fixed_it_kw[cap_sites], own_flexible)
            row_lo.append(np.full(cap_sites.size * T, -np.inf))
            row_hi.append(room.ravel())
            r += cap_sites.size * T
    # green rows
    if ngp:
        match_sites = np.unique(gl.place_site)
        roff["green_match"] = r
        remap = np.full(n, -1)
        remap[match_sites] = np.arange(match_sites.size)
        rows.append(_block(remap[gl.place_site], T, r).ravel())
        cols.append(_block(np.arange(ngp), T, off["green"]).ravel())
        vals.append(np.ones(ngp * T))
        rows.append(_block(np.arange(match_sites.size), T, r).ravel())
        cols.append(_block(match_sites, T, off["imp"]).ravel())
        vals.append(-np.ones(match_sites.size * T))
        row_lo.append(np.full(match_sites.size * T, -np.inf))
        row_hi.append(np.zeros(match_sites.size * T))
        r += match_sites.size * T
        shared = np.flatnonzero(np.bincount(gl.place_contract, minlength=gl.profile_kw.shape[0]) > 1)
        if shared.size:
            roff["green_volume"] = r
            remap_c = np.full(gl.profile_kw.shape[0], -1)
            remap_c[shared] = np.arange(shared.size)
            pl = np.flatnonzero(remap_c[gl.place_contract] >= 0)
            rows.append(_block(remap_c[gl.place_contract[pl]], T, r).ravel())
            cols.append(_block(pl, T, off["green"]).ravel())
            vals.append(np.ones(pl.size * T))
            row_lo.append(np.full(shared.size * T, -np.inf))
            row_hi.append(gl.profile_kw[shared].ravel())
            r += shared.size * T
    if ntg:
        roff["green_share"] = r
        sigma = gl.target_share
        tg = gl.target_site
        trow = _block(np.arange(ntg), T, r)
        for block, coef in (("pv", 1 - sigma[:, None]), ("exp", -(1 - sigma[:, None]))):
            rows.append(trow.ravel())
            cols.append(_block(tg, T, off[block]).ravel())
            vals.append(np.broadcast_to(coef, (ntg, T)).ravel())
        rows.append(trow.ravel())
        cols.append(_block(tg, T, off["imp"]).ravel())
        vals.append((gl.low_carbon_share[tg] - sigma[:, None]).ravel())
        rows.append(trow.ravel())
        cols.append(_block(np.arange(ntg), T, off["gshort"]).ravel())
        vals.append(np.ones(ntg * T))
        if ngp:
            remap_t = np.full(n, -1)
            remap_t[tg] = np.arange(ntg)
            pl = np.flatnonzero(remap_t[gl.place_site] >= 0)
            if pl.size:
                rows.append(_block(remap_t[gl.place_site[pl]], T, r).ravel())
                cols.append(_block(pl, T, off["green"]).ravel())
                vals.append((1 - gl.low_carbon_share[gl.place_site[pl]]).ravel())
        row_lo.append(np.zeros(ntg * T))
        row_hi.append(np.full(ntg * T, np.inf))
        r += ntg * T
    # commitment rows
    if short_len:
        roff["commitment"] = r
        k = 0
        for ci, cm in enumerate(comm):
            steps = np.arange(cm.start_step, cm.end_step)
            L = steps.size
            members = np.flatnonzero(cmask[ci])
            crows = r + k + np.arange(L)
            for block, v in (("imp", 1.0), ("exp", -1.0)):
                rows.append(np.repeat(crows[None, :], members.size, axis=0).ravel())
                cols.append((off[block] + members[:, None] * T + steps[None, :]).ravel())
                vals.append(np.full(members.size * L, v))
            rows.append(crows)
            cols.append(off["short"] + k + np.arange(L))
            vals.append(-np.ones(L))
            row_lo.append(np.full(L, -np.inf))
            row_hi.append(base.grid_kw[members][:, steps].sum(axis=0) - cm.reduction_kw)
            k += L
        r += short_len

    A = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(r, ncol),
        dtype=np.float64,
    )
    return Model(
        c=c,
        col_lo=lo,
        col_hi=hi,
        A=A,
        row_lo=np.concatenate(row_lo),
        row_hi=np.concatenate(row_hi),
        offsets=off,
        row_offsets=roff,
        problem=problem,
        arrays=a,
        base=base,
        flex=fl,
        batt=bt,
        commitment_mask=cmask,
        green=gl,
    )
