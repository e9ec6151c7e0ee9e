"""Exact decomposition of the scheduling LP into independent blocks (connected groups of sites).

Sites are coupled by migration (a workload may run at another site), by a shared green contract and by
commitments (a shared reduction). Sites not connected by migration or a contract form separate diagonal blocks
of the constraint matrix once the commitment rows are set aside, so that part of the LP is the direct sum of
smaller LPs with the same optimum. Solving blocks separately cuts simplex work roughly in proportion to the
number of blocks; structurally identical blocks (same sparsity pattern) are warm-started from the previous
optimal basis of that pattern, which is a valid basis of the next block by construction
(:func:`flexibility.blocks.solve_block`).

Commitments are then handled exactly (:func:`coupled_repair`): if the block optimum already meets every
commitment row without shortfall it is optimal for the whole LP (the commitment rows only restrict it and the
shortfall columns only add non-negative cost). Otherwise the blocks touching a commitment are solved again
together with the commitment rows in one HiGHS run, warm-started from the blocks' optimal bases with the
commitment rows basic (a valid basis: one basic variable per row), so the dual simplex only has to repair the
commitment rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from flexibility.highs import new_highs, pass_lp, run
from flexibility.lp_inputs import Flex, GreenLayout
from flexibility.model import Layout, Model

if TYPE_CHECKING:
    from flexibility.blocks import BlockResult

_TOL = 1e-7


@dataclass(frozen=True, eq=False)
class BlockSolution:
    """Primal values of the whole LP assembled from its blocks; ``lp_rows`` and ``lp_nonzeros`` give the whole
    LP's size when it was not built (the sum of the blocks' sizes, :func:`place_blocks` on a layout)."""

    status: str
    x: np.ndarray
    objective: float
    solve_seconds: float
    blocks: int
    warm_started: int
    coupled_run: bool = False
    lp_rows: int | None = None
    lp_nonzeros: int | None = None


def site_components(
    n_sites: int, flex: Flex, green: GreenLayout, commitment_mask: np.ndarray | None = None
) -> np.ndarray:
    """Component label per site, ``(n_sites,)``: sites linked by a migration option or a shared green contract
    (and, if ``commitment_mask`` ``(n_comm, n_sites)`` is given, by a shared commitment) share one. Labels
    are numbered in order of each component's first site."""
    edges_a = [flex.origin[flex.place_flex]]
    edges_b = [flex.place_site]
    if green.place_contract.size:  # sites sharing a green contract are coupled by its volume
        first = np.full(green.profile_kw.shape[0], -1)
        first[green.place_contract[::-1]] = green.place_site[::-1]
        edges_a.append(first[green.place_contract])
        edges_b.append(green.place_site)
    for members in commitment_mask if commitment_mask is not None else ():
        idx = np.flatnonzero(members)
        edges_a.append(idx[:-1])
        edges_b.append(idx[1:])
    a = np.concatenate(edges_a).astype(np.int64)
    b = np.concatenate(edges_b).astype(np.int64)
    g = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n_sites, n_sites))
    return connected_components(g, directed=False)[1]


def column_components(model: Layout, site_comp: np.ndarray) -> np.ndarray:
    """Component label of every column before the commitment block (layout of :mod:`flexibility.model`)."""
    T = model.problem.steps
    fl, bt = model.flex, model.batt
    parts = [
        np.repeat(site_comp, T),  # imp
        np.repeat(site_comp, T),  # exp
        np.repeat(site_comp, T),  # pv
        np.repeat(site_comp[bt.site], T),  # ch
        np.repeat(site_comp[bt.site], T),  # dis
        np.repeat(site_comp[bt.site], T),  # soc
        np.repeat(site_comp[fl.place_site], T),  # x
        np.repeat(site_comp[fl.origin], T),  # cum
        np.repeat(site_comp[model.green.place_site], T),  # green
        np.repeat(site_comp[model.green.target_site], T),  # gshort
        np.repeat(site_comp[fl.origin], T)[: model.offsets["rcum"] - model.offsets["late"]],  # late
        np.repeat(site_comp[fl.origin[fl.lead_flex()]], T),  # rcum
    ]
    labels = np.concatenate(parts)
    assert labels.size == model.offsets["short"]
    return labels


@dataclass(frozen=True, eq=False)
class Placed:
    """The blocks' optima placed in the whole LP: ``x`` ``(n_cols,)`` (shortfall columns 0), the column and row
    component labels, and, when every block returned its basis, the basis statuses of the block-diagonal
    columns ``(n_short_start,)`` and rows ``(n_commitment_start,)``."""

    x: np.ndarray
    col_lab: np.ndarray
    row_lab: np.ndarray
    col_status: np.ndarray | None
    row_status: np.ndarray | None


def block_columns(model: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole LP's columns grouped by block: ``(col_lab, col_perm, bounds)``, where ``col_lab`` ``(n_cols,)``
    is each column's block number (:func:`column_components`), ``col_perm`` lists the columns block by block
    (increasing within a block) and block ``k``'s columns are ``col_perm[bounds[k]:bounds[k + 1]]``
    (``bounds`` ``(n_blocks + 1,)``).

    Computed once per ``model`` and kept on it (a sort of every column: 0.3 s at 10,000 sites), so a caller
    that fans the blocks out can compute it while the workers solve (:mod:`apps.markets.fanout`)."""
    cached = model.__dict__.get("_block_columns")
    if cached is None:
        n = len(model.problem.sites)
        col_lab = column_components(model, site_components(n, model.flex, model.green))
        n_blocks = int(col_lab.max()) + 1 if col_lab.size else 0
        col_perm = np.argsort(col_lab, kind="stable")
        bounds = np.zeros(n_blocks + 1, dtype=np.int64)
        np.cumsum(np.bincount(col_lab, minlength=n_blocks), out=bounds[1:])
        cached = (col_lab, col_perm, bounds)
        model.__dict__["_block_columns"] = cached  # frozen dataclass: a cache, not a field
    return cached


def place_blocks(model: Layout, results: Sequence[BlockResult]) -> Placed:
    """Scatter the blocks' values (``results`` sorted by block number) into the whole LP's column order.

    A block's columns (rows) are the whole LP's columns (rows) with its label, in increasing order, which is
    the column (row) order of its sub-problem's LP (:mod:`flexibility.blocks`). ``model`` may be a bare
    :class:`~flexibility.model.Layout` (no matrix): then only the values are placed (no row labels, no bases),
    which is all a problem without commitments needs.

    Raises:
        ValueError: a block's size does not match the whole LP (results of another problem).
    """
    col_lab, col_perm, cb = block_columns(model)
    n_blocks = cb.size - 1
    if len(results) != n_blocks:
        raise ValueError(f"expected {n_blocks} block results, got {len(results)}")
    with_basis = isinstance(model, Model) and all(r.col_status is not None for r in results)
    row_lab, row_perm, rb = np.zeros(0, dtype=col_lab.dtype), np.zeros(0, dtype=np.int64), np.zeros(0, int)
    if isinstance(model, Model):
        row_lab = _row_labels(model, col_lab)
        row_perm = np.argsort(row_lab, kind="stable")
        rb = np.searchsorted(row_lab[row_perm], np.arange(n_blocks + 1))
    x = np.zeros(model.n_cols)
    col_st = np.zeros(col_lab.size, dtype=np.int8) if with_basis else None
    row_st = np.zeros(row_lab.size, dtype=np.int8) if with_basis else None
    for k, r in enumerate(results):
        cols = col_perm[cb[k] : cb[k + 1]]
        if r.index != k or r.x.size != cols.size:
            raise ValueError(f"block {r.index}: {r.x.size} values for {cols.size} columns of block {k}")
        x[cols] = r.x
        if (
            col_st is not None
            and row_st is not None
            and r.col_status is not None
            and r.row_status is not None
        ):
            col_st[cols], row_st[row_perm[rb[k] : rb[k + 1]]] = r.col_status, r.row_status
    return Placed(x, col_lab, row_lab, col_st, row_st)


def fill_cumulative(model: Layout, x: np.ndarray) -> None:
    """Set the ``cum`` columns of ``x`` ``(n_cols,)`` in place from the placements, as the cumulative rows
    define them: ``S_t = Δt Σ_{u ≤ t} Σ_sites x_u`` (kWh; S_{−1} = 0). Equal to the LP's values up to its
    feasibility tolerance; nothing in a :class:`~flexibility.result.Result` reads them."""
    T, off, fl = model.problem.steps, model.offsets, model.flex
    nf, npl = fl.origin.size, fl.place_flex.size
    if not nf:
        return
    served = np.zeros((nf, T))
    np.add.at(served, fl.place_flex, x[off["x"] : off["x"] + npl * T].reshape(npl, T))
    x[off["cum"] : off["cum"] + nf * T] = (np.cumsum(served, axis=1) * model.arrays.dt_hours).ravel()


def _row_labels(model: Model, col_lab: np.ndarray) -> np.ndarray:
    """Block label of every row before the commitment rows: that of any of its columns (all share one in the
    block-diagonal part), read from the CSC matrix as it is rather than converting it to CSR (seconds at
    10,000 sites)."""
    nc, nr = model.offsets["short"], model.row_offsets.get("commitment", model.n_rows)
    A = model.A.tocsc()
    end = int(A.indptr[nc])
    row_of = A.indices[:end]
    in_blocks = row_of < nr
    row_lab = np.empty(nr, dtype=col_lab.dtype)
    row_lab[row_of[in_blocks]] = np.repeat(col_lab, np.diff(A.indptr[: nc + 1]))[in_blocks]
    return row_lab


def _statuses(codes: np.ndarray) -> list[highspy.HighsBasisStatus]:
    table = {int(s): s for s in (highspy.HighsBasisStatus(i) for i in range(5))}
    return [table[int(c)] for c in codes]


def coupled_repair(
    model: Model,
    placed: Placed,
    objective: float,
    solve_seconds: float,
    blocks: int,
    warm: int,
    *,
    threads: int | None = None,
) -> BlockSolution:
    """Meet the commitment rows exactly (module docstring) starting from the blocks' optimum ``placed``
    (objective ``objective``); returns the whole LP's optimum."""
    x = placed.x
    nc, nr = model.offsets["short"], model.row_offsets.get("commitment", model.n_rows)
    if nc == model.n_cols:  # no commitment: the blocks are the whole LP
        return BlockSolution("optimal", x, objective, solve_seconds, blocks, warm)
    activity = model.A[nr:] @ x
    if np.all(activity <= model.row_hi[nr:] + _TOL * np.maximum(1.0, np.abs(model.row_hi[nr:]))):
        return BlockSolution("optimal", x, objective, solve_seconds, blocks, warm)
    if placed.col_status is None or placed.row_status is None:
        raise ValueError("the commitment repair needs the blocks' bases (plan_blocks sets keep_basis)")
    # only the blocks that appear in a commitment row take part in the coupled run
    col_lab, row_lab = placed.col_lab, placed.row_lab
    touching = np.unique(col_lab[np.unique(model.A[nr:, :nc].tocoo().col)])
    cols = np.concatenate([np.flatnonzero(np.isin(col_lab, touching)), np.arange(nc, model.n_cols)])
    rows = np.concatenate([np.flatnonzero(np.isin(row_lab, touching)), np.arange(nr, model.n_rows)])
    n_short, n_comm = model.n_cols - nc, model.n_rows - nr
    basis = highspy.HighsBasis()
    basis.col_status = (
        _statuses(placed.col_status[cols[: cols.size - n_short]])
        + [highspy.HighsBasisStatus.kLower] * n_short
    )
    basis.row_status = (
        _statuses(placed.row_status[rows[: rows.size - n_comm]]) + [highspy.HighsBasisStatus.kBasic] * n_comm
    )
    basis.valid = True
    h = new_highs(threads=threads, devex=True)
    h.setOptionValue("presolve", "off")
    A_sub = model.A.tocsr()[rows][:, cols].tocsc()
    lp = (
        model.c[cols],
        model.col_lo[cols],
        model.col_hi[cols],
        A_sub,
        model.row_lo[rows],
        model.row_hi[rows],
    )
    pass_lp(h, *lp)
    h.setBasis(basis)
    t0 = time.perf_counter()
    sol = run(h)
    if sol.status != "optimal":  # should not happen (the blocks were feasible); retry the whole LP cold
        h = new_highs(threads=threads, devex=True)
        pass_lp(h, model.c, model.col_lo, model.col_hi, model.A, model.row_lo, model.row_hi)
        sol = run(h)
        solve_s = solve_seconds + time.perf_counter() - t0
        return BlockSolution(sol.status, sol.x, sol.objective, solve_s, blocks, warm, coupled_run=True)
    x[cols] = sol.x
    solve_s = solve_seconds + time.perf_counter() - t0
    return BlockSolution(sol.status, x, float(model.c @ x), solve_s, blocks, warm, coupled_run=True)
