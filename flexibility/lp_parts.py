"""The shared pieces of the LP's column and row builders (:mod:`flexibility.constraints`,
:mod:`flexibility.workload_rows`): :class:`Parts` (what every builder reads), :class:`Rows` (one constraint
family as COO triplets) and the index helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flexibility.arrays import SiteArrays
from flexibility.baseline import Baseline
from flexibility.lp_inputs import Batteries, Flex, GreenLayout
from flexibility.problem import Commitment, Problem


@dataclass(frozen=True, eq=False)
class Parts:
    """Everything the column and row builders read: the problem, its arrays and the column offsets.

    ``comm`` are the commitments in the LP (none for the envelope), ``cmask`` their ``(n_comm, n_sites)``
    membership; ``off`` maps column block name -> first column (:func:`column_layout`)."""

    problem: Problem
    a: SiteArrays
    base: Baseline
    fl: Flex
    bt: Batteries
    gl: GreenLayout
    comm: tuple[Commitment, ...]
    cmask: np.ndarray
    off: dict[str, int]

    @property
    def T(self) -> int:
        """Number of time steps."""
        return self.problem.steps

    @property
    def n(self) -> int:
        """Number of sites."""
        return len(self.problem.sites)

    @property
    def soft_deadlines(self) -> bool:
        """True when the problem prices lateness (``lateness_penalty_per_mwh``) instead of forbidding it."""
        return self.problem.lateness_penalty_per_mwh is not None

    @property
    def n_places(self) -> np.ndarray:
        """Placements per flexible workload, ``(n_flex,)``."""
        nf = self.fl.origin.size
        return np.bincount(self.fl.place_flex, minlength=nf) if nf else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Rows:
    """One constraint family: COO triplets (``rows``, ``cols``, ``vals``: lists of equal-length arrays, absolute
    indices) and its ``n`` rows' bounds ``lo`` / ``hi`` (``(n,)`` each)."""

    rows: list[np.ndarray]
    cols: list[np.ndarray]
    vals: list[np.ndarray]
    lo: np.ndarray
    hi: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows in the family."""
        return self.lo.size


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
