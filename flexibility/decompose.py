"""Exact decomposition of the scheduling LP into independent blocks (connected groups of sites).

Sites are coupled by migration (a workload may run at another site) and by commitments (a shared
reduction). Sites not connected by migration form separate diagonal blocks of the constraint matrix once the
commitment rows are set aside, so that part of the LP is the direct sum of smaller LPs with the same optimum.
Solving blocks separately cuts simplex work roughly in proportion to the number of blocks; structurally
identical blocks (same sparsity pattern) are warm-started from the previous optimal basis of that pattern,
which is a valid basis of the next block by construction.

Commitments are then handled exactly: if the block optimum already meets every commitment row without
shortfall it is optimal for the whole LP (the commitment rows only restrict it and the shortfall columns only
add non-negative cost). Otherwise the whole LP is solved in one HiGHS run, warm-started from the blocks'
optimal bases with the commitment rows basic (a valid basis: one basic variable per row), so the dual simplex
only has to repair the commitment rows.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from flexibility.highs import new_highs, pass_lp, run
from flexibility.model import Model

_TOL = 1e-7


@dataclass(frozen=True, eq=False)
class BlockSolution:
    """Primal values of the whole LP assembled from its blocks."""

    status: str
    x: np.ndarray
    objective: float
    solve_seconds: float
    blocks: int
    warm_started: int
    coupled_run: bool = False


def site_components(model: Model, *, with_commitments: bool = False) -> np.ndarray:
    """Component label per site, ``(n_sites,)``: sites linked by a migration option or a shared green contract
    (and, if ``with_commitments``, by a shared commitment) share one."""
    p = model.problem
    n = len(p.sites)
    edges_a = [model.flex.origin[model.flex.place_flex]]
    edges_b = [model.flex.place_site]
    gl = model.green
    if gl.place_contract.size:  # sites sharing a green contract are coupled by its volume
        first = np.full(gl.profile_kw.shape[0], -1)
        first[gl.place_contract[::-1]] = gl.place_site[::-1]
        edges_a.append(first[gl.place_contract])
        edges_b.append(gl.place_site)
    if with_commitments:
        for members in model.commitment_mask:
            idx = np.flatnonzero(members)
            edges_a.append(idx[:-1])
            edges_b.append(idx[1:])
    a = np.concatenate(edges_a).astype(np.int64)
    b = np.concatenate(edges_b).astype(np.int64)
    g = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def column_components(model: Model, site_comp: np.ndarray) -> np.ndarray:
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
    ]
    labels = np.concatenate(parts)
    assert labels.size == model.offsets["short"]
    return labels


@dataclass(frozen=True, eq=False)
class _Blocks:
    status: str
    x: np.ndarray
    objective: float
    solve_seconds: float
    blocks: int
    warm: int
    col_status: np.ndarray | None
    row_status: np.ndarray | None


def _solve_block_diagonal(
    A: sp.csc_matrix,
    c: np.ndarray,
    col_lo: np.ndarray,
    col_hi: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    col_lab: np.ndarray,
    *,
    threads: int | None,
    warm_start: bool,
    keep_basis: bool,
    workers: int = 1,
) -> _Blocks:
    n_cols, n_rows = A.shape[1], A.shape[0]
    csr = A.tocsr()
    row_lab = col_lab[csr.indices[csr.indptr[:-1]]]
    col_perm = np.argsort(col_lab, kind="stable")
    row_perm = np.argsort(row_lab, kind="stable")
    inv_row = np.empty_like(row_perm)
    inv_row[row_perm] = np.arange(row_perm.size)
    Ap = A[:, col_perm].tocsc()
    Ap.indices = inv_row[Ap.indices].astype(Ap.indices.dtype)
    Ap.has_sorted_indices = False
    Ap.sort_indices()
    n_comp = int(col_lab.max()) + 1 if col_lab.size else 0
    c_bounds = np.searchsorted(col_lab[col_perm], np.arange(n_comp + 1))
    r_bounds = np.searchsorted(row_lab[row_perm], np.arange(n_comp + 1))
    cp, lo, hi = c[col_perm], col_lo[col_perm], col_hi[col_perm]
    rlo, rhi = row_lo[row_perm], row_hi[row_perm]
    x_perm = np.zeros(n_cols)
    col_st = np.empty(n_cols, dtype=object) if keep_basis else None
    row_st = np.empty(n_rows, dtype=object) if keep_basis else None

    def solve_range(ks: range) -> tuple[str, float, float, int]:
        """Solve blocks ``ks`` in order (one thread); returns (status, objective, seconds, warm starts)."""
        bases: dict[bytes, highspy.HighsBasis] = {}
        objective, solve_s, warm = 0.0, 0.0, 0
        for k in ks:
            c0, c1, r0, r1 = c_bounds[k], c_bounds[k + 1], r_bounds[k], r_bounds[k + 1]
            if c1 == c0:
                continue
            nz0, nz1 = Ap.indptr[c0], Ap.indptr[c1]
            indptr = Ap.indptr[c0 : c1 + 1] - nz0
            indices = Ap.indices[nz0:nz1] - r0
            block = sp.csc_matrix((Ap.data[nz0:nz1], indices, indptr), shape=(r1 - r0, c1 - c0))
            h = new_highs(threads=threads, devex=True)
            # presolve costs more than it saves on these small, already tight blocks (halves a 1-battery solve)
            h.setOptionValue("presolve", "off")
            pass_lp(h, cp[c0:c1], lo[c0:c1], hi[c0:c1], block, rlo[r0:r1], rhi[r0:r1])
            key = hashlib.blake2b(indptr.tobytes() + indices.tobytes(), digest_size=16).digest() + bytes(
                str((r1 - r0, c1 - c0)), "ascii"
            )
            if warm_start and key in bases:
                h.setBasis(bases[key])
                warm += 1
            t0 = time.perf_counter()
            sol = run(h)
            if sol.status != "optimal" and key in bases:  # a borrowed basis should never matter; retry cold
                h = new_highs(threads=threads, devex=True)
                pass_lp(h, cp[c0:c1], lo[c0:c1], hi[c0:c1], block, rlo[r0:r1], rhi[r0:r1])
                sol = run(h)
            solve_s += time.perf_counter() - t0
            if sol.status != "optimal":
                return sol.status, objective, solve_s, warm
            if warm_start or keep_basis:
                basis = h.getBasis()
                bases[key] = basis
                if col_st is not None and row_st is not None:
                    col_st[col_perm[c0:c1]] = basis.col_status
                    row_st[row_perm[r0:r1]] = basis.row_status
            x_perm[c0:c1] = sol.x
            objective += sol.objective
        return "optimal", objective, solve_s, warm

    n_workers = max(1, min(workers, n_comp))
    if n_workers == 1:
        parts = [solve_range(range(n_comp))]
    else:
        # contiguous chunks of blocks, one HiGHS instance at a time per thread (HiGHS releases the GIL)
        edges = np.linspace(0, n_comp, n_workers + 1).round().astype(int)
        with ThreadPoolExecutor(n_workers) as pool:
            parts = list(pool.map(solve_range, [range(edges[i], edges[i + 1]) for i in range(n_workers)]))
    status = next((p[0] for p in parts if p[0] != "optimal"), "optimal")
    objective = sum(p[1] for p in parts)
    solve_s = sum(p[2] for p in parts)
    warm = sum(p[3] for p in parts)
    if status != "optimal":
        return _Blocks(status, np.zeros(0), float("nan"), solve_s, n_comp, warm, None, None)
    x = np.empty(n_cols)
    x[col_perm] = x_perm
    return _Blocks("optimal", x, objective, solve_s, n_comp, warm, col_st, row_st)


def solve_blocks(
    model: Model, *, threads: int | None = None, warm_start: bool = True, workers: int = 1
) -> BlockSolution:
    """Solve ``model`` exactly, block by block with HiGHS (see the module docstring for commitments).

    ``workers`` > 1 solves chunks of blocks in that many threads (HiGHS releases the GIL while it runs).

    Returns the primal solution of the whole LP; ``status`` is ``"optimal"`` only when the LP was solved to
    optimality, otherwise the first non-optimal HiGHS status.
    """
    site_comp = site_components(model)
    col_lab = column_components(model, site_comp)
    nc, nr = model.offsets["short"], model.row_offsets.get("commitment", model.n_rows)
    coupled = nc < model.n_cols
    A_u = model.A[:nr, :nc].tocsc() if coupled else model.A
    blk = _solve_block_diagonal(
        A_u,
        model.c[:nc],
        model.col_lo[:nc],
        model.col_hi[:nc],
        model.row_lo[:nr],
        model.row_hi[:nr],
        col_lab,
        threads=threads,
        warm_start=warm_start,
        keep_basis=coupled,
        workers=workers,
    )
    if blk.status != "optimal" or not coupled:
        return BlockSolution(blk.status, blk.x, blk.objective, blk.solve_seconds, blk.blocks, blk.warm)
    # commitment rows: met without shortfall by the block optimum?
    n_short = model.n_cols - nc
    x = np.concatenate([blk.x, np.zeros(n_short)])
    activity = model.A[nr:] @ x
    if np.all(activity <= model.row_hi[nr:] + _TOL * np.maximum(1.0, np.abs(model.row_hi[nr:]))):
        return BlockSolution("optimal", x, blk.objective, blk.solve_seconds, blk.blocks, blk.warm)
    # only the blocks that appear in a commitment row take part in the coupled run
    touching = np.unique(col_lab[np.unique(model.A[nr:, :nc].tocoo().col)])
    csr = A_u.tocsr()
    row_lab = col_lab[csr.indices[csr.indptr[:-1]]]
    cols = np.concatenate([np.flatnonzero(np.isin(col_lab, touching)), np.arange(nc, model.n_cols)])
    rows = np.concatenate([np.flatnonzero(np.isin(row_lab, touching)), np.arange(nr, model.n_rows)])
    n_sub_short, n_sub_comm = n_short, model.n_rows - nr
    assert blk.col_status is not None and blk.row_status is not None
    col_st = np.empty(cols.size, dtype=object)
    col_st[: cols.size - n_sub_short] = blk.col_status[cols[: cols.size - n_sub_short]]
    col_st[cols.size - n_sub_short :] = highspy.HighsBasisStatus.kLower
    row_st = np.empty(rows.size, dtype=object)
    row_st[: rows.size - n_sub_comm] = blk.row_status[rows[: rows.size - n_sub_comm]]
    row_st[rows.size - n_sub_comm :] = highspy.HighsBasisStatus.kBasic
    basis = highspy.HighsBasis()
    basis.col_status = col_st.tolist()
    basis.row_status = row_st.tolist()
    basis.valid = True
    h = new_highs(threads=threads, devex=True)
    h.setOptionValue("presolve", "off")
    A_sub = model.A.tocsr()[rows][:, cols].tocsc()
    pass_lp(
        h,
        model.c[cols],
        model.col_lo[cols],
        model.col_hi[cols],
        A_sub,
        model.row_lo[rows],
        model.row_hi[rows],
    )
    h.setBasis(basis)
    t0 = time.perf_counter()
    sol = run(h)
    if sol.status != "optimal":  # should not happen (the blocks were feasible); retry the whole LP cold
        h = new_highs(threads=threads, devex=True)
        pass_lp(h, model.c, model.col_lo, model.col_hi, model.A, model.row_lo, model.row_hi)
        sol = run(h)
        solve_s = blk.solve_seconds + time.perf_counter() - t0
        return BlockSolution(
            sol.status, sol.x, sol.objective, solve_s, blk.blocks, blk.warm, coupled_run=True
        )
    solve_s = blk.solve_seconds + time.perf_counter() - t0
    x[cols] = sol.x
    objective = float(model.c @ x)
    return BlockSolution(sol.status, x, objective, solve_s, blk.blocks, blk.warm, coupled_run=True)
