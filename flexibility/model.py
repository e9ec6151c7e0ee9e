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
``late``     n_flex · T         kWh behind the deadline at the end of step t, >= 0 (only with a
                                ``lateness_penalty_per_mwh``; :mod:`flexibility.workload_rows`)
``rcum``     n_lead · T         cumulative work served away from the origin, kWh, in [0, A(t − lead) + queued]
                                (only for workloads with a ``migration_lead_steps``)
``short``    Σ window lengths   commitment shortfall, kW, >= 0
===========  =================  ==========================================================================

Rows:

* balance (n_sites · T, =): ``imp − exp + pv − Σch + Σdis − PUE · Σ k·x = PUE · fixed_IT`` (k = 1 at a
  workload's origin, 1 + ``migration_overhead`` at a destination)
  i.e. grid = import − export = PUE × IT − PV used + charge − discharge.
* soc (n_batt · T, =): ``soc_t − soc_{t−1} − η_c Δt ch_t + Δt/η_d dis_t = soc_initial·[t = 0]``.
* cumulative (n_flex · T, =): ``S_t − S_{t−1} − Δt Σ_sites x_t = 0``; S bounds carry
  S(t) ≤ A(t) + ΣE, S(t) ≥ A(t − max_delay_steps) + Σ_{k: D_k − 1 ≤ t} E_k and S(T−1) = A(T−1) + ΣE, with
  E_k, D_k the workload's queued work and due steps (``backlog_kwh`` is one entry, ``queue`` the others; none
  by default). With soft deadlines the lower bound moves into the ``lateness`` rows.
* max_kw (per migratable workload with a cap, T rows, ≤): ``Σ_sites x_t ≤ max_kw`` (single-site caps are bounds).
* it_capacity (per site with a finite ``it_capacity_kw`` where a flexible workload may run, T rows, ≤):
  ``Σ_{placements at the site} k·x_t ≤ max(it_capacity_kw − fixed_IT_t − it_reserve_t, own_flexible_baseline_t
  + own_backlog_t)`` (k as in the balance; ``it_reserve_kw`` 0 when not given):
  the capacity limits work *added* at the site (caught up or migrated in); the site's own work as it arrives
  stays feasible (a load forecast above the capacity is one the site meets somehow), so run-as-it-arrives is
  always a solution; ``own_backlog_t`` = Σ B/(D·Δt) over its own workloads with a backlog for t < D (the backlog
  run evenly until it is due), so that run-as-it-arrives plus the backlog spread evenly stays one too.
* min_power, ramp, migration_lead, lateness: the issue-17 workload constraints (:mod:`flexibility.workload_rows`),
  empty unless a workload or the problem sets their fields.
* green_match (per site with contracts, T rows, ≤): ``Σ_contracts green − imp ≤ 0`` (contract energy covers import).
* green_volume (per contract with several eligible sites, T rows, ≤): ``Σ_sites green ≤ profile_kwh / Δt``.
* green_share (per site with ``min_green_share`` σ, T rows, ≥ 0), with the zone's low-carbon share lc:
  ``(1 − σ)·pv + (1 − lc)·Σ green + (lc − σ)·imp − (1 − σ)·exp + gshort ≥ 0``, i.e. clean ≥ σ × consumption
  (clean and consumption as in :mod:`flexibility.green`).
* commitment (per window step, ≤): ``Σ_sites (imp − exp) − short_t ≤ Σ_sites baseline_grid − reduction_kw``.

Objective (currency): Σ (price × imp − export_price × exp) Δt/1000 + carbon_price × Σ CI × imp Δt/10⁶
+ cycle_cost × Σ dis Δt/1000 + Σ penalty × short Δt/1000 + lateness_penalty × Σ late Δt/1000
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
from flexibility.constraints import FAMILIES, Parts, column_data, column_layout
from flexibility.lp_inputs import (
    Batteries,
    Flex,
    GreenLayout,
    batteries,
    cumulative_lower_kwh,
    flex_workloads,
    green_layout,
)
from flexibility.problem import Problem

__all__ = [
    "Batteries",
    "Flex",
    "GreenLayout",
    "Layout",
    "Model",
    "batteries",
    "build_layout",
    "build_model",
    "cumulative_lower_kwh",
    "flex_workloads",
    "green_layout",
]


@dataclass(frozen=True, eq=False)
class Layout:
    """The column layout of the LP and the site data a schedule is read from, without the constraint matrix.

    Enough to place block optima and extract a :class:`~flexibility.result.Result` (:func:`build_layout`);
    ``offsets`` maps block name -> first column, ``cols`` is the column count.
    """

    offsets: dict[str, int]
    cols: int
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
        return self.cols


@dataclass(frozen=True, eq=False)
class Model(Layout):
    """The LP ``min c·x  s.t. row_lo ≤ A x ≤ row_hi, col_lo ≤ x ≤ col_hi`` plus the index layout.

    ``offsets`` maps block name -> first column; ``row_offsets`` maps row family -> first row.
    """

    c: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_offsets: dict[str, int]

    @property
    def n_rows(self) -> int:
        """Number of LP rows."""
        return self.row_lo.size


def build_layout(problem: Problem, *, merge_batteries: bool = True) -> Layout:
    """The :class:`Layout` of ``build_model(problem, merge_batteries=...)`` (same offsets, site arrays,
    baseline, batteries, workloads, green layout and commitment mask) without assembling any constraint: a
    fraction of the cost of :func:`build_model` (26 M nonzeros at 10,000 synthetic sites)."""
    T, n = problem.steps, len(problem.sites)
    a = site_arrays(problem)
    fl = flex_workloads(problem)
    bt = batteries(problem, merge=merge_batteries)
    cmask = commitment_site_mask(problem)
    short_len = sum(c.end_step - c.start_step for c in problem.commitments)
    gl = green_layout(problem, enabled=True)
    soft = problem.lateness_penalty_per_mwh is not None
    off, n_cols = column_layout(n, T, fl, bt, gl, short_len, soft_deadlines=soft)
    return Layout(off, n_cols, problem, a, baseline(problem, a), fl, bt, cmask, gl)


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
        :class:`Model`; the row/column semantics are listed in the module docstring, the constraint families
        are built by :mod:`flexibility.constraints` in the order of its ``FAMILIES``.
    """
    T, n = problem.steps, len(problem.sites)
    a = site_arrays(problem)
    fl = flex_workloads(problem)
    bt = batteries(problem, merge=merge_batteries)
    comm = tuple(problem.commitments) if with_commitments else ()
    cmask = commitment_site_mask(problem) if with_commitments else np.zeros((0, n), dtype=bool)
    short_len = sum(c.end_step - c.start_step for c in comm)
    gl = green_layout(problem, enabled=with_commitments if with_green is None else with_green)
    soft = problem.lateness_penalty_per_mwh is not None
    off, n_cols = column_layout(n, T, fl, bt, gl, short_len, soft_deadlines=soft)
    parts = Parts(problem, a, baseline(problem, a), fl, bt, gl, comm, cmask, off)
    c, lo, hi = column_data(parts, n_cols, short_len)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lo: list[np.ndarray] = []
    row_hi: list[np.ndarray] = []
    roff: dict[str, int] = {}
    r = 0
    for name, family in FAMILIES:
        block = family(parts, r)
        if block is None:
            continue
        roff[name] = r
        rows += block.rows
        cols += block.cols
        vals += block.vals
        row_lo.append(block.lo)
        row_hi.append(block.hi)
        r += block.n
    A = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(r, n_cols),
        dtype=np.float64,
    )
    return Model(
        cols=n_cols,
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
        base=parts.base,
        flex=fl,
        batt=bt,
        commitment_mask=cmask,
        green=gl,
    )
