"""Exact decomposition of the scheduling LP into independent blocks (connected groups of sites).

Sites are coupled only by migration (a workload may run at another site) and by commitments (a shared
reduction). Sites that are not connected by either form separate diagonal blocks of the constraint matrix,
so the LP is the direct sum of smaller LPs with the same optimum (objective = sum of block objectives).
Solving blocks separately cuts simplex work roughly in proportion to the number of blocks; structurally
identical blocks (same sparsity pattern) are warm-started from the previous optimal basis of that pattern,
which is a valid basis of the next block by construction.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from flexibility.highs import new_highs, pass_lp, run
from flexibility.model import Model


@dataclass(frozen=True, eq=False)
class BlockSolution:
    """Primal values of the whole LP assembled from its blocks."""

    status: str
    x: np.ndarray
    objective: float
    solve_seconds: float
    blocks: int
    warm_started: int


def site_components(model: Model) -> np.ndarray:
    """Component label per site, ``(n_sites,)``: sites linked by a migration option or a commitment share one."""
    p = model.problem
    n = len(p.sites)
    src = [model.flex.origin[model.flex.place_flex], model.flex.place_site]
    edges_a, edges_b = [src[0]], [src[1]]
    for members in model.commitment_mask:
        idx = np.flatnonzero(members)
        edges_a.append(idx[:-1])
        edges_b.append(idx[1:])
    a = np.concatenate(edges_a).astype(np.int64)
    b = np.concatenate(edges_b).astype(np.int64)
    g = sp.coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def column_components(model: Model, site_comp: np.ndarray) -> np.ndarray:
    """Component label of every LP column, following the block layout of :mod:`flexibility.model`."""
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
    ]
    for ci, cm in enumerate(model.problem.commitments if "commitment" in model.row_offsets else ()):
        first = np.flatnonzero(model.commitment_mask[ci])[0]
        parts.append(np.full(cm.end_step - cm.start_step, site_comp[first]))
    labels = np.concatenate(parts)
    assert labels.size == model.n_cols
    return labels


def solve_blocks(model: Model, *, threads: int | None = None, warm_start: bool = True) -> BlockSolution:
    """Solve ``model`` block by block with HiGHS; returns the assembled primal solution.

    ``status`` is ``"optimal"`` only when every block is optimal, otherwise the first non-optimal status.
    """
    site_comp = site_components(model)
    col_lab = column_components(model, site_comp)
    csr = model.A.tocsr()
    row_lab = col_lab[csr.indices[csr.indptr[:-1]]]
    col_perm = np.argsort(col_lab, kind="stable")
    row_perm = np.argsort(row_lab, kind="stable")
    inv_row = np.empty_like(row_perm)
    inv_row[row_perm] = np.arange(row_perm.size)
    Ap = model.A[:, col_perm].tocsc()
    Ap.indices = inv_row[Ap.indices].astype(Ap.indices.dtype)
    Ap.has_sorted_indices = False
    Ap.sort_indices()
    n_comp = int(site_comp.max()) + 1 if site_comp.size else 0
    c_bounds = np.searchsorted(col_lab[col_perm], np.arange(n_comp + 1))
    r_bounds = np.searchsorted(row_lab[row_perm], np.arange(n_comp + 1))
    c, lo, hi = model.c[col_perm], model.col_lo[col_perm], model.col_hi[col_perm]
    rlo, rhi = model.row_lo[row_perm], model.row_hi[row_perm]
    x_perm = np.zeros(model.n_cols)
    bases: dict[bytes, object] = {}
    objective, solve_s, warm = 0.0, 0.0, 0
    for k in range(n_comp):
        c0, c1, r0, r1 = c_bounds[k], c_bounds[k + 1], r_bounds[k], r_bounds[k + 1]
        if c1 == c0:
            continue
        nz0, nz1 = Ap.indptr[c0], Ap.indptr[c1]
        indptr = Ap.indptr[c0 : c1 + 1] - nz0
        indices = Ap.indices[nz0:nz1] - r0
        block = sp.csc_matrix((Ap.data[nz0:nz1], indices, indptr), shape=(r1 - r0, c1 - c0))
        h = new_highs(threads=threads)
        # presolve costs more than it saves on these small, already tight blocks (halves a 1-battery solve)
        h.setOptionValue("presolve", "off")
        pass_lp(h, c[c0:c1], lo[c0:c1], hi[c0:c1], block, rlo[r0:r1], rhi[r0:r1])
        key = hashlib.blake2b(indptr.tobytes() + indices.tobytes(), digest_size=16).digest() + bytes(
            str((r1 - r0, c1 - c0)), "ascii"
        )
        if warm_start and key in bases:
            h.setBasis(bases[key])
            warm += 1
        t0 = time.perf_counter()
        sol = run(h)
        if sol.status != "optimal" and key in bases:  # a borrowed basis should never matter; retry cold
            h = new_highs(threads=threads)
            pass_lp(h, c[c0:c1], lo[c0:c1], hi[c0:c1], block, rlo[r0:r1], rhi[r0:r1])
            sol = run(h)
        solve_s += time.perf_counter() - t0
        if sol.status != "optimal":
            return BlockSolution(sol.status, np.zeros(0), float("nan"), solve_s, n_comp, warm)
        if warm_start:
            bases[key] = h.getBasis()
        x_perm[c0:c1] = sol.x
        objective += sol.objective
    x = np.empty(model.n_cols)
    x[col_perm] = x_perm
    return BlockSolution("optimal", x, objective, solve_s, n_comp, warm)
