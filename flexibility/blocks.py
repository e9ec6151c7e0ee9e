"""The public block API of the scheduling LP: plan independent blocks, solve each anywhere, combine exactly.

::

    specs = plan_blocks(problem)                        # list[BlockSpec]: small, picklable, JSON-able
    results = [solve_block(s) for s in specs]           # list[BlockResult]; any process, any order
    result = combine(problem, results)                  # flexibility.Result, commitments repaired exactly
                                                        # (flexibility.schedule.combine)

A block is a connected group of sites (joined by migration or a shared green contract; commitments set aside,
:mod:`flexibility.decompose`). Its spec carries the block's own sub-problem (its sites, their zones and green
contracts, no commitments), so a worker builds and solves the block's LP without the rest of the portfolio; the
sub-problem's LP is exactly the block's diagonal block of the whole LP (same columns and rows in the same
order), which :func:`combine` relies on to place the values and, for the commitment repair, the bases.
:func:`flexibility.solve` runs the same three steps in one process, so the one-process and the distributed solve
cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np

from flexibility.decompose import (
    BlockSolution,
    coupled_repair,
    fill_cumulative,
    place_blocks,
    site_components,
)
from flexibility.highs import new_highs, pass_lp, run
from flexibility.lp_inputs import flex_workloads, green_layout
from flexibility.model import Layout, Model, build_model
from flexibility.problem import Problem, as_problem


@dataclass(frozen=True, eq=False)
class BlockSpec:
    """One independent block of the LP, ready to solve anywhere.

    Attributes:
        index: block number (0 … n_blocks − 1, the component label of its sites).
        sites: indices of its sites in the whole problem, increasing.
        problem: the block's sub-problem (those sites, their zones and green contracts, no commitments).
        merge_batteries: as :func:`flexibility.model.build_model`.
        keep_basis: return the optimal basis (needed by the commitment repair of :func:`combine`).
    """

    index: int
    sites: tuple[int, ...]
    problem: Problem
    merge_batteries: bool = True
    keep_basis: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (e.g. a Celery message); :meth:`from_json` reads it back exactly (floats by repr)."""
        return {
            "index": self.index,
            "sites": list(self.sites),
            "problem": self.problem.to_json(),
            "merge_batteries": self.merge_batteries,
            "keep_basis": self.keep_basis,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BlockSpec:
        """Read :meth:`to_json` output. Raises :class:`~flexibility.errors.FlexibilityInputError` on a bad problem."""
        return cls(
            index=int(data["index"]),
            sites=tuple(int(i) for i in data["sites"]),
            problem=Problem.from_json(data["problem"]),
            merge_batteries=bool(data.get("merge_batteries", True)),
            keep_basis=bool(data.get("keep_basis", False)),
        )


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _unb64(s: str, dtype: type) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype=dtype).copy()


@dataclass(frozen=True, eq=False)
class BlockResult:
    """The optimum of one block.

    Attributes:
        index: the spec's block number; status: ``"optimal"`` or HiGHS' status.
        x: primal values ``(n_block_cols,)`` in the block LP's column order; objective: c·x (currency).
        solve_seconds: HiGHS time; warm_started: whether a basis of an identical block was reused.
        col_status, row_status: HiGHS basis status codes (``int8``) when the spec asked for the basis.
        rows, nonzeros: the size of the block's LP (their sums are the whole LP's size without commitments).
        cum_cols: the block LP's ``cum`` columns ``[start, stop)`` (cumulative served energy, kWh): they are
            left out of :meth:`to_json` (about 15 % of the bytes), since :func:`combine_solution` recomputes them
            from the placements (:func:`flexibility.decompose.fill_cumulative`); after :meth:`from_json` they
            hold NaN and ``cum_dropped`` is True.
    """

    index: int
    status: str
    x: np.ndarray
    objective: float
    solve_seconds: float
    warm_started: bool = False
    col_status: np.ndarray | None = None
    row_status: np.ndarray | None = None
    rows: int = 0
    nonzeros: int = 0
    cum_cols: tuple[int, int] = (0, 0)
    cum_dropped: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; arrays travel as base64 of their raw bytes, so :meth:`from_json` is exact (except
        the ``cum_cols``, left out: see the class docstring)."""
        a, b = self.cum_cols if self.x.size else (0, 0)
        x = self.x.astype(np.float64)
        out: dict[str, Any] = {
            "index": self.index,
            "status": self.status,
            "x": _b64(np.concatenate([x[:a], x[b:]]) if b > a else x),
            "cum_cols": [a, b],
            "objective": self.objective,
            "solve_seconds": self.solve_seconds,
            "warm_started": self.warm_started,
            "rows": self.rows,
            "nonzeros": self.nonzeros,
        }
        if self.col_status is not None and self.row_status is not None:
            out["col_status"], out["row_status"] = _b64(self.col_status), _b64(self.row_status)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BlockResult:
        """Read :meth:`to_json` output (left-out ``cum_cols`` come back as NaN, ``cum_dropped`` True)."""
        has_basis = "col_status" in data
        a, b = (int(v) for v in data.get("cum_cols", (0, 0)))
        x = _unb64(data["x"], np.float64)
        if b > a:
            x = np.concatenate([x[:a], np.full(b - a, np.nan), x[a:]])
        return cls(
            index=int(data["index"]),
            status=str(data["status"]),
            x=x,
            objective=float(data["objective"]),
            solve_seconds=float(data["solve_seconds"]),
            warm_started=bool(data.get("warm_started", False)),
            col_status=_unb64(data["col_status"], np.int8) if has_basis else None,
            row_status=_unb64(data["row_status"], np.int8) if has_basis else None,
            rows=int(data.get("rows", 0)),
            nonzeros=int(data.get("nonzeros", 0)),
            cum_cols=(a, b),
            cum_dropped=b > a,
        )


def _sub_problem(p: Problem, sites: np.ndarray, contract_sites: list[list[int]]) -> Problem:
    """The problem restricted to ``sites`` (its zones and the green contracts whose sites all lie in it)."""
    chosen = set(sites.tolist())
    sub_sites = tuple(p.sites[i] for i in sites)
    zones = {z: p.zones[z] for z in dict.fromkeys(s.zone for s in sub_sites)}
    contracts = tuple(
        c for c, cs in zip(p.green_contracts, contract_sites, strict=True) if cs and set(cs) <= chosen
    )
    return replace(p, zones=zones, sites=sub_sites, commitments=(), green_contracts=contracts)


def plan_blocks(problem: Problem | Mapping[str, Any], *, merge_batteries: bool = True) -> list[BlockSpec]:
    """Split the LP of ``problem`` into its independent blocks (module docstring), in block-number order.

    ``keep_basis`` is set when the problem has commitments (the repair in :func:`combine` warm-starts from the
    blocks' bases). Raises :class:`~flexibility.errors.FlexibilityInputError` for a malformed problem.
    """
    p = as_problem(problem)
    comp = site_components(len(p.sites), flex_workloads(p), green_layout(p))
    n_blocks = int(comp.max()) + 1
    order = np.argsort(comp, kind="stable")
    bounds = np.searchsorted(comp[order], np.arange(n_blocks + 1))
    contract_sites = p.contract_sites()
    keep = bool(p.commitments)
    return [
        BlockSpec(
            index=k,
            sites=tuple(int(i) for i in order[bounds[k] : bounds[k + 1]]),
            problem=_sub_problem(p, order[bounds[k] : bounds[k + 1]], contract_sites),
            merge_batteries=merge_batteries,
            keep_basis=keep,
        )
        for k in range(n_blocks)
    ]


def _codes(statuses: Sequence[highspy.HighsBasisStatus]) -> np.ndarray:
    return np.fromiter((int(s) for s in statuses), dtype=np.int8, count=len(statuses))


def solve_block(
    spec: BlockSpec, *, bases: dict[bytes, highspy.HighsBasis] | None = None, threads: int | None = None
) -> BlockResult:
    """Build and solve one block's LP with HiGHS (dual simplex with Devex pricing, no presolve).

    ``bases`` is a warm-start cache shared by the blocks one caller solves in a row: a block whose sparsity
    pattern equals an earlier one starts from that block's optimal basis (a valid basis by construction;
    a failed warm start is retried cold). The cache is updated in place.
    """
    model = build_model(
        spec.problem, with_commitments=False, with_green=True, merge_batteries=spec.merge_batteries
    )
    A = model.A
    key = hashlib.blake2b(A.indptr.tobytes() + A.indices.tobytes(), digest_size=16).digest() + bytes(
        str(A.shape), "ascii"
    )

    def fresh() -> highspy.Highs:
        h = new_highs(threads=threads, devex=True)
        # presolve costs more than it saves on these small, already tight blocks (halves a 1-battery solve)
        h.setOptionValue("presolve", "off")
        pass_lp(h, model.c, model.col_lo, model.col_hi, A, model.row_lo, model.row_hi)
        return h

    h = fresh()
    warm = bases is not None and key in bases
    if warm:
        assert bases is not None
        h.setBasis(bases[key])
    t0 = time.perf_counter()
    sol = run(h)
    if sol.status != "optimal" and warm:  # a borrowed basis should never matter; retry cold
        h = fresh()
        sol = run(h)
    elapsed = time.perf_counter() - t0
    rows, nnz = int(A.shape[0]), int(A.nnz)
    cum = (model.offsets["cum"], model.offsets["cum"] + model.flex.origin.size * model.problem.steps)
    if sol.status != "optimal":
        return BlockResult(
            spec.index, sol.status, np.zeros(0), float("nan"), elapsed, warm, rows=rows, nonzeros=nnz
        )
    basis = h.getBasis() if bases is not None or spec.keep_basis else None
    if bases is not None and basis is not None:
        bases[key] = basis
    col_st = _codes(basis.col_status) if spec.keep_basis and basis is not None else None
    row_st = _codes(basis.row_status) if spec.keep_basis and basis is not None else None
    return BlockResult(
        spec.index, "optimal", sol.x, sol.objective, elapsed, warm, col_st, row_st, rows, nnz, cum
    )


def solve_specs(
    specs: Sequence[BlockSpec], *, workers: int = 1, threads: int | None = None, warm_start: bool = True
) -> list[BlockResult]:
    """Solve ``specs`` in this process, in order, sharing one warm-start cache per thread; ``workers`` > 1
    splits them into that many contiguous chunks solved in threads (HiGHS releases the GIL). The in-process
    counterpart of a distributed fan-out (one chunk per task); results are in ``specs`` order."""

    def chunk(part: Sequence[BlockSpec]) -> list[BlockResult]:
        bases: dict[bytes, highspy.HighsBasis] | None = {} if warm_start else None
        return [solve_block(s, bases=bases, threads=threads) for s in part]

    n = max(1, min(workers, len(specs)))
    if n == 1:
        return chunk(specs)
    edges = np.linspace(0, len(specs), n + 1).round().astype(int)
    with ThreadPoolExecutor(n) as pool:
        parts = list(pool.map(chunk, [specs[edges[i] : edges[i + 1]] for i in range(n)]))
    return [r for part in parts for r in part]


def combine_solution(
    model: Layout, results: Sequence[BlockResult], *, threads: int | None = None
) -> BlockSolution:
    """The whole LP's primal solution from the blocks' optima (``results`` in any order, one per block of
    :func:`plan_blocks` on ``model.problem``), with the commitment rows repaired exactly
    (:func:`flexibility.decompose.coupled_repair`). ``status`` is the first non-optimal block status if any.

    ``model`` may be a bare :class:`~flexibility.model.Layout` when the problem has no commitments: the
    blocks' optimum is then the whole LP's, and its size is the sum of the blocks' sizes.

    Raises:
        ValueError: results that do not fit the problem's blocks, or a layout for a problem with commitments
            (the repair needs the whole LP: pass :func:`~flexibility.model.build_model`'s).
    """
    ordered = sorted(results, key=lambda r: r.index)
    solve_s = sum(r.solve_seconds for r in ordered)
    warm = sum(r.warm_started for r in ordered)
    bad = next((r.status for r in ordered if r.status != "optimal"), None)
    if bad is not None:
        return BlockSolution(bad, np.zeros(0), float("nan"), solve_s, len(ordered), warm)
    if not isinstance(model, Model) and model.problem.commitments:
        raise ValueError("a problem with commitments is combined on its whole LP (build_model), not a layout")
    placed = place_blocks(model, ordered)
    if any(r.cum_dropped for r in ordered):
        fill_cumulative(model, placed.x)
    objective = float(sum(r.objective for r in ordered))
    if not isinstance(model, Model):
        rows, nnz = sum(r.rows for r in ordered), sum(r.nonzeros for r in ordered)
        return BlockSolution("optimal", placed.x, objective, solve_s, len(ordered), warm, False, rows, nnz)
    return coupled_repair(model, placed, objective, solve_s, len(ordered), warm, threads=threads)
