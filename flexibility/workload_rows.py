"""The LP parts of a workload's operating constraints (issue 17) and the IT-capacity room they share.

Each family is empty (``None``) unless a workload or the problem sets its field, so a problem without them
builds the LP it always did (:mod:`flexibility.workload_fields` holds the fields and their checks):

* column bounds (:func:`workload_columns`): a single-site workload's ``min_power_fraction`` as the lower bound
  ``x_t ≥ fraction · baseline_t``; the ramp from ``initial_kw`` at t = 0 as ``x_0 ∈ [initial − R, initial + R]``
  (R = ramp_kw_per_min × 60 × Δt_hours); remote placements 0 for t < ``migration_lead_steps``; the ``rcum``
  columns (work served away from the origin, cumulative, kWh) in ``[0, A(t − lead) + queued]``; with a
  ``lateness_penalty_per_mwh`` the ``late`` columns (kWh behind the deadline at the end of step t, ≥ 0, cost
  penalty × Δt / 1000 each: the penalty is per MWh per hour late) and the cumulative columns' lower bound 0.
* ``min_power`` (per migratable workload with a fraction, ≤ T rows, ≥): ``Σ_sites x_t ≥ fraction · baseline_t``;
  steps whose bound is 0 are left out (x ≥ 0 cannot violate them).
* ``ramp`` (per workload with a ramp, T − 1 rows, range): ``−R ≤ x_t − x_{t−1} ≤ R`` at its origin placement;
  left out for a single-site workload with R ≥ max_kw (its x in [0, max_kw] cannot change by more).
* ``migration_lead`` (per workload with a lead and a destination, T rows, =):
  ``rcum_t − rcum_{t−1} − Δt Σ_remote x_t = 0``.
* ``lateness`` (per flexible workload, ≤ T rows, ≥, soft deadlines only): ``S_t + late_t ≥ lower_t``, left out
  where lower_t ≤ 0 (both columns are ≥ 0); with
  S(T−1) ≤ A(T−1) + queued this turns the final equality into S(T−1) + late(T−1) ≥ total, S(T−1) ≤ total.
* ``it_capacity`` (per site with a finite capacity where flexible work may run, T rows, ≤): see
  :func:`it_capacity_rows`.
"""

from __future__ import annotations

import numpy as np

from flexibility.arrays import SiteArrays
from flexibility.lp_inputs import Flex
from flexibility.lp_parts import Parts, Rows, _block, _placement_sum
from flexibility.problem import Problem


def _x_view(p: Parts, v: np.ndarray) -> np.ndarray:
    """The ``x`` block of a column vector as a writable ``(n_place, T)`` view."""
    npl = p.fl.place_flex.size
    return v[p.off["x"] : p.off["x"] + npl * p.T].reshape(npl, p.T)


def _lagged(cum: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """A(t − lag) per row of ``cum`` ``(k, T)`` with ``lag`` ``(k,)``; 0 where t − lag < 0."""
    T = cum.shape[1]
    t = np.arange(T)[None, :] - lag[:, None]
    return np.where(t >= 0, np.take_along_axis(cum, np.clip(t, 0, T - 1), axis=1), 0.0)


def workload_columns(p: Parts, c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Fill the issue-17 column bounds and costs in place (module docstring); no-op for problems without them."""
    fl, T, off = p.fl, p.T, p.off
    nf = fl.origin.size
    if not nf:
        return
    x_lo, x_hi = _x_view(p, lo), _x_view(p, hi)
    home = fl.origin_place()
    single = np.flatnonzero((p.n_places == 1) & (fl.min_fraction > 0))
    if single.size:
        x_lo[home[single]] = fl.min_fraction[single, None] * fl.baseline_kw[single]
    for f in np.flatnonzero(np.isfinite(fl.ramp_kw) & ~np.isnan(fl.initial_kw)):
        k = home[f]
        x_lo[k, 0] = max(x_lo[k, 0], fl.initial_kw[f] - fl.ramp_kw[f])
        x_hi[k, 0] = min(x_hi[k, 0], fl.initial_kw[f] + fl.ramp_kw[f])
    waits = np.flatnonzero(fl.remote & (fl.lead[fl.place_flex] > 0))
    if waits.size:
        early = np.arange(T)[None, :] < fl.lead[fl.place_flex[waits]][:, None]
        x_hi[waits] = np.where(early, 0.0, x_hi[waits])
    lead = fl.lead_flex()
    if lead.size:
        s = slice(off["rcum"], off["rcum"] + lead.size * T)
        hi[s] = (_lagged(fl.cum_kwh[lead], fl.lead[lead]) + fl.queued_kwh[lead, None]).ravel()
    if p.soft_deadlines:
        s = slice(off["late"], off["late"] + nf * T)
        hi[s] = np.inf
        c[s] = float(p.problem.lateness_penalty_per_mwh or 0.0) * p.a.dt_hours / 1000
        lo[off["cum"] : off["cum"] + nf * T] = 0.0


def min_power_rows(p: Parts, r: int) -> Rows | None:
    """``Σ_sites x_t ≥ min_power_fraction · baseline_t`` per migratable workload with a fraction and step
    (a single-site workload's fraction is a column bound)."""
    fl = p.fl
    nf = fl.origin.size
    if not nf:
        return None
    sel = np.flatnonzero((p.n_places > 1) & (fl.min_fraction > 0))
    if not sel.size:
        return None
    rr, cc, vv = _placement_sum(fl.place_flex, nf, sel, p.T, r, p.off["x"])
    lo = (fl.min_fraction[sel, None] * fl.baseline_kw[sel]).ravel()
    binding = lo > 0  # x ≥ 0: a row at 0 cannot bind
    if not binding.all():
        keep = binding[rr - r]
        renumber = np.cumsum(binding) - 1 + r
        rr, cc, vv, lo = renumber[rr[keep] - r], cc[keep], vv[keep], lo[binding]
        if not lo.size:
            return None
    return Rows([rr], [cc], [vv], lo, np.full(lo.size, np.inf))


def ramp_rows(p: Parts, r: int) -> Rows | None:
    """``−R ≤ x_t − x_{t−1} ≤ R`` (t = 1 … T−1) at the origin placement of each workload with a ramp limit,
    R = ``ramp_kw_per_min`` × 60 × Δt_hours kW per step (the t = 0 limit from ``initial_kw`` is a bound)."""
    fl, T = p.fl, p.T
    sel = np.flatnonzero(np.isfinite(fl.ramp_kw)) if fl.origin.size else np.zeros(0, dtype=np.int64)
    # a single-site workload's x lies in [0, max_kw]: no step can change it by more, so R ≥ max_kw cannot bind
    # (the row is implied by the column bounds; leaving it out changes no feasible point)
    sel = sel[~((p.n_places[sel] == 1) & (fl.ramp_kw[sel] >= fl.max_kw[sel]))]
    if not sel.size or T < 2:
        return None
    x = _block(fl.origin_place()[sel], T, p.off["x"])
    rows = _block(np.arange(sel.size), T - 1, r).ravel()
    R = np.repeat(fl.ramp_kw[sel], T - 1)
    return Rows(
        [rows, rows],
        [x[:, 1:].ravel(), x[:, :-1].ravel()],
        [np.ones(rows.size), -np.ones(rows.size)],
        -R,
        R,
    )


def migration_lead_rows(p: Parts, r: int) -> Rows | None:
    """``rcum_t − rcum_{t−1} − Δt Σ_remote x_t = 0`` per workload with a migration lead time and step: the
    cumulative work served away from its origin, bounded by A(t − lead) + queued work in its columns."""
    fl, T, off = p.fl, p.T, p.off
    lead = fl.lead_flex()
    if not lead.size:
        return None
    k = np.arange(lead.size)
    crow = _block(k, T, r)
    cols = _block(k, T, off["rcum"])
    remap = np.full(fl.origin.size, -1)
    remap[lead] = k
    pl = np.flatnonzero(fl.remote & (remap[fl.place_flex] >= 0))
    rows = [crow.ravel(), crow[:, 1:].ravel(), _block(remap[fl.place_flex[pl]], T, r).ravel()]
    cc = [cols.ravel(), cols[:, :-1].ravel(), _block(pl, T, off["x"]).ravel()]
    vals = [np.ones(lead.size * T), -np.ones(lead.size * (T - 1)), np.full(pl.size * T, -p.a.dt_hours)]
    return Rows(rows, cc, vals, np.zeros(lead.size * T), np.zeros(lead.size * T))


def lateness_rows(p: Parts, r: int) -> Rows | None:
    """``S_t + late_t ≥ lower_t`` per flexible workload and step, only with soft deadlines
    (``lateness_penalty_per_mwh``); lower_t = A(t − d) + queued work due by then (:meth:`Flex.lower_kwh`)."""
    fl, off = p.fl, p.off
    nf = fl.origin.size
    if not nf or not p.soft_deadlines:
        return None
    lo = fl.lower_kwh().ravel()
    binding = lo > 0  # S_t ≥ 0 and late_t ≥ 0 (column bounds): a row at lower_t ≤ 0 cannot bind
    if not binding.any():
        return None
    keep = np.flatnonzero(binding)
    rows = r + np.arange(keep.size)
    cols = [off["cum"] + keep, off["late"] + keep]
    ones = np.ones(keep.size)
    return Rows([rows, rows], cols, [ones, ones], lo[keep], np.full(keep.size, np.inf))


def it_room_kw(problem: Problem, a: SiteArrays, fl: Flex, cap_sites: np.ndarray) -> np.ndarray:
    """The IT room for flexible work at ``cap_sites``, ``(k, T)`` kW.

    With hard deadlines: ``max(it_capacity − fixed_IT − it_reserve, own_flexible_baseline + own_queue_spread)``.
    The capacity limits work *added* at the site (caught up or migrated in) and keeps ``it_reserve_kw`` free; the
    site's own work as it arrives, plus its queued work run evenly until due (:attr:`Flex.spread_kw`), stays
    feasible (a load forecast above the capacity is one the site meets somehow), so run-as-it-arrives with the
    queue spread evenly is always a solution (Barroso et al., *The Datacenter as a Computer*, 3rd ed., §5.1).

    With soft deadlines (``lateness_penalty_per_mwh``) late queued work is priced, not forced, so the room never
    exceeds the physical ``it_capacity − fixed_IT`` (only the own work as it arrives may, to stay feasible):
    ``max(min(that, it_capacity − fixed_IT), own_flexible_baseline)``. Otherwise a large overdue queue would
    lend its room to work migrated in, and the site could not run what the plan sends it.
    """
    arriving = a.baseline_it_kw[cap_sites] - a.fixed_it_kw[cap_sites]
    own_flexible = arriving
    T = problem.steps
    if fl.queued_kwh.any():
        rate = np.zeros((len(problem.sites), T))
        np.add.at(rate, fl.origin, fl.spread_kw)
        own_flexible = own_flexible + rate[cap_sites]
    physical = a.it_capacity_kw[cap_sites, None] - a.fixed_it_kw[cap_sites]
    free = physical
    reserves = [problem.sites[i].it_reserve_kw for i in cap_sites]
    if any(x is not None for x in reserves):
        free = free - np.array([np.zeros(T) if x is None else x for x in reserves]).reshape(-1, T)
    room = np.maximum(free, own_flexible)
    if problem.lateness_penalty_per_mwh is not None:
        room = np.maximum(np.minimum(room, physical), arriving)
    return room


def it_capacity_rows(p: Parts, r: int) -> Rows | None:
    """``Σ_{placements at the site} k·x_t ≤ room_t`` per site with a finite ``it_capacity_kw`` where flexible
    work may run, and step; k = 1 for the site's own work, 1 + ``migration_overhead`` for migrated-in work, room
    from :func:`it_room_kw`."""
    T, n, fl, a = p.T, p.n, p.fl, p.a
    if not fl.origin.size:
        return None
    cap_sites = np.flatnonzero(np.isfinite(a.it_capacity_kw) & np.isin(np.arange(n), fl.place_site))
    if not cap_sites.size:
        return None
    rr, cc, vv = _placement_sum(fl.place_site, n, cap_sites, T, r, p.off["x"])
    if fl.overhead.any():
        vv = np.repeat(fl.place_coef[np.flatnonzero(np.isin(fl.place_site, cap_sites))], T)
    room = it_room_kw(p.problem, a, fl, cap_sites)
    return Rows([rr], [cc], [vv], np.full(cap_sites.size * T, -np.inf), room.ravel())
