"""Flexibility envelope: the largest reduction ("down") and increase ("up") versus baseline grid power that
each site and the portfolio can hold for a whole window, for every start step and duration (bidding input).

Definition (per scope = one site or the portfolio, start step ``a``, duration ``D`` steps, window
``W = [a, a + D)``): ``down_kw`` is the largest ``r >= 0`` such that some schedule meeting every hard
constraint of the problem (deferral windows, all work done in the horizon, ``max_kw``, SoC bounds, backup
reserve, final SoC, grid import/export limits; commitments and costs ignored) has
``grid(t) <= baseline_grid(t) - r`` for all ``t`` in ``W``; ``up_kw`` likewise with ``grid(t) >= baseline + r``.
Windows that do not fit in the horizon are NaN.

Two methods:

``method="exact"``
    One LP per (direction, duration, start) for all sites at once (each site alone, without migration, with
    its own ``r``; the LP is block-separable so maximising the sum gives every site's maximum) and one for the
    portfolio (migration allowed, one shared ``r``). The LPs differ only in row bounds, so a single HiGHS
    instance per direction is re-solved from the previous basis. Exact, but 2 × 2 × |durations| × T LPs:
    use it for small portfolios and to validate the fast method.

``method="fast"`` (default)
    A sound lower bound computed in closed form, vectorised with numpy over sites × starts × steps. Each
    site keeps its baseline except for one explicit plan per resource, so the value is *achievable* (never
    an over-promise) but may be below the exact optimum:

    * deferrable workload, down: serve ``baseline − ρ`` in ``W``, then catch up as early as ``max_kw`` and
      the import headroom allow; ρ is the largest value with ``S(t) ≥ A(t − d)`` everywhere (closed form
      with cumulative sums: the fluid-queue earliest-finish bound, as in :func:`flexibility.checks.fastest_cumulative_kwh`).
      Up: defer ``ρ·D·Δt`` of work arriving just before ``W`` (``S(t) = max(A(t) − B, A(t − d))``) and
      serve it at ``baseline + ρ`` in ``W``.
    * battery, down: charge greedily from the import headroom before ``W``, discharge at a constant ``q``
      in ``W`` within power, SoC floor and what can be recharged after ``W`` for ``soc_final_min``.
      Up: discharge greedily before ``W`` (only as far as non-deferrable load + export limit absorbs it),
      charge at ``q`` in ``W`` within SoC room (requires ``soc_final_min <= soc_initial``, else 0).
    * PV, up: curtail the PV used at baseline.
    * Resources are allocated the import headroom one after another (deferrable catch-up, then batteries),
      and the site total is capped by ``min_W(baseline + export limit)`` (down) and
      ``min_W(import limit − baseline)`` (up); scaling a plan down keeps it feasible, so the sum is feasible.
    * Workload constraints (issue 17): a deferrable workload with a ``min_power_fraction`` f is planned as a
      fixed part f × baseline plus a flexible part (1 − f) × baseline with cap ``max_kw`` − f × max baseline
      (the sum meets every bound, and the served power never drops below f × baseline); a workload with a
      ``ramp_kw_per_min`` is counted as running its baseline (its plan's jumps could break the ramp).
    * Migration is not counted (conservative); the portfolio value is the sum of the sites' values, which
      is achievable because sites are otherwise independent.
    * It assumes the baseline itself is feasible at the site (within the import limit, ``max_kw`` ≥ baseline,
      ``soc_initial`` within bounds). Other sites are not assessed: their values are NaN, they are listed in
      ``Envelope.unassessed``, and the portfolio value is the sum over the assessed sites only (a site whose
      baseline breaks its own limits must deviate from it anyway, so no flexibility can be promised for it;
      note that such a forced deviation can also eat into what the exact portfolio LP finds, so with
      unassessed sites the fast portfolio figure covers the assessed sites, not the whole portfolio).

    Soundness was checked against the exact LPs on 90 random portfolios (1-3 sites, 0-2 batteries each with
    random efficiencies, SoC and final targets, PV with export limits, deferrable and migratable work):
    the fast value never exceeded the exact one for any site or, when every site was assessed, the portfolio.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from flexibility.envelope_fast import fast
from flexibility.errors import FlexibilityInputError
from flexibility.highs import new_highs, pass_lp
from flexibility.model import build_model
from flexibility.problem import Problem, as_problem


@dataclass(frozen=True, eq=False)
class Envelope:
    """Down/up flexibility in kW.

    Attributes:
        scopes: ``("portfolio", site ids...)``.
        start_times: UTC timestamps of the T start steps.
        durations_steps, durations_hours: the durations, each ``(n_dur,)``.
        down_kw, up_kw: ``(n_dur, n_scopes, T)``; NaN where the window does not fit in the horizon.
        method: ``"fast"`` or ``"exact"``; seconds: wall time of the computation.
        unassessed: site ids whose baseline is itself infeasible (fast method: NaN, left out of the portfolio).
    """

    scopes: tuple[str, ...]
    start_times: pd.DatetimeIndex
    durations_steps: tuple[int, ...]
    durations_hours: tuple[float, ...]
    down_kw: np.ndarray
    up_kw: np.ndarray
    method: str
    seconds: float
    unassessed: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Long-to-wide table: index (duration_hours, start), columns ``<scope>_down_kw`` and ``<scope>_up_kw``."""
        frames = []
        for i, h in enumerate(self.durations_hours):
            cols: dict[str, np.ndarray] = {}
            for j, scope in enumerate(self.scopes):
                cols[f"{scope}_down_kw"] = self.down_kw[i, j]
                cols[f"{scope}_up_kw"] = self.up_kw[i, j]
            idx = pd.MultiIndex.from_arrays(
                [np.full(len(self.start_times), h), self.start_times], names=["duration_hours", "start"]
            )
            frames.append(pd.DataFrame(cols, index=idx))
        return pd.concat(frames)

    def to_json(self) -> dict[str, Any]:
        """``{"method", "seconds", "start": [...], "durations_hours": [...],
        "scopes": {scope: {"down_kw": {hours: [...]}, "up_kw": {...}}}}`` (NaN -> null)."""

        def clean(a: np.ndarray) -> list[float | None]:
            """NaN -> None for JSON."""
            return [None if np.isnan(v) else float(v) for v in a]

        return {
            "method": self.method,
            "seconds": self.seconds,
            "unassessed": list(self.unassessed),
            "start": [t.isoformat().replace("+00:00", "Z") for t in self.start_times],
            "durations_hours": list(self.durations_hours),
            "scopes": {
                scope: {
                    "down_kw": {
                        str(h): clean(self.down_kw[i, j]) for i, h in enumerate(self.durations_hours)
                    },
                    "up_kw": {str(h): clean(self.up_kw[i, j]) for i, h in enumerate(self.durations_hours)},
                }
                for j, scope in enumerate(self.scopes)
            },
        }


def envelope(
    problem: Problem | Mapping[str, Any],
    durations: Sequence[float] = (1.0, 2.0, 4.0),
    *,
    method: str = "fast",
    chunk_sites: int = 64,
) -> Envelope:
    """Flexibility envelope of every site and of the portfolio (definition and methods: module docstring).
    Work already waiting (a workload's ``backlog_kwh`` and ``queue``) is left out and deadlines are hard: the
    envelope is around run-as-it-arrives.

    Args:
        problem: a :class:`Problem` or its JSON dict.
        durations: window lengths in hours; each must be a whole number of steps.
        method: ``"fast"`` (sound lower bound, vectorised) or ``"exact"`` (one warm-started LP per window).
        chunk_sites: sites processed together by the fast method (memory ~ chunk × T² × 8 bytes per array).

    Returns:
        :class:`Envelope` with ``down_kw``/``up_kw`` of shape ``(len(durations), 1 + n_sites, steps)``.

    Raises:
        FlexibilityInputError: a duration that is not a positive whole number of steps, or an unknown method.
    """
    t0 = time.perf_counter()
    p = _without_backlog(as_problem(problem))
    dt = p.dt_hours
    steps = []
    for h in durations:
        d = round(h / dt)
        if d < 1 or abs(d * dt - h) > 1e-9 or d > p.steps:
            raise FlexibilityInputError(
                "durations", f"{h} h is not a whole number of {p.resolution} steps in the horizon"
            )
        steps.append(d)
    if method == "fast":
        down, up = fast(p, steps, chunk_sites)
    elif method == "exact":
        down, up = _exact(p, steps)
    else:
        raise FlexibilityInputError("method", f"expected 'fast' or 'exact', got {method!r}")
    start = pd.Timestamp(p.start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    return Envelope(
        scopes=("portfolio", *(s.id for s in p.sites)),
        start_times=pd.date_range(start, periods=p.steps, freq=pd.Timedelta(hours=dt)),
        durations_steps=tuple(steps),
        durations_hours=tuple(float(h) for h in durations),
        down_kw=down,
        up_kw=up,
        method=method,
        seconds=time.perf_counter() - t0,
        unassessed=tuple(s.id for j, s in enumerate(p.sites) if np.all(np.isnan(down[:, 1 + j]))),
    )


# ---------------------------------------------------------------- exact


def _without_backlog(p: Problem) -> Problem:
    """The envelope is flexibility around run-as-it-arrives with hard deadlines: work already waiting
    (``backlog_kwh``, ``queue``) is left out (it would only add up-flexibility the site owes anyway) and a
    ``lateness_penalty_per_mwh`` is ignored (a bid must not rely on missing a deadline)."""
    p = replace(p, lateness_penalty_per_mwh=None) if p.lateness_penalty_per_mwh is not None else p
    if not any(w.backlog_kwh or w.queue for s in p.sites for w in s.workloads):
        return p
    sites = tuple(
        replace(
            s,
            workloads=tuple(
                replace(w, backlog_kwh=0.0, backlog_due_steps=None, queue=()) for w in s.workloads
            ),
        )
        for s in p.sites
    )
    return replace(p, sites=sites)


def _without_migration(p: Problem) -> Problem:
    sites = tuple(
        replace(s, workloads=tuple(replace(w, migratable_to=()) for w in s.workloads)) for s in p.sites
    )
    return replace(p, sites=sites, commitments=())


def _window_lp(p: Problem, up: bool):
    """HiGHS instance: max r subject to the schedule constraints and one row per step,
    ``Σ_sites grid(t) + r ≤ Σ baseline(t)`` (down) or ``−Σ grid(t) + r ≤ −Σ baseline(t)`` (up); the row
    upper bounds start at +inf (inactive) and are set per window by the caller."""
    model = build_model(p, with_commitments=False)
    n, T = len(p.sites), p.steps
    m = model.n_cols
    off = model.offsets
    step_row = np.tile(np.arange(T), n)
    sign = -1.0 if up else 1.0
    rows = np.concatenate([step_row, step_row, np.arange(T)])
    cols = np.concatenate([off["imp"] + np.arange(n * T), off["exp"] + np.arange(n * T), np.full(T, m)])
    vals = np.concatenate([np.full(n * T, sign), np.full(n * T, -sign), np.ones(T)])
    W = sp.csc_matrix((vals, (rows, cols)), shape=(T, m + 1))
    A = sp.vstack([sp.hstack([model.A, sp.csc_matrix((model.n_rows, 1))]), W], format="csc")
    base_scope = model.base.grid_kw.sum(axis=0) * sign
    c = np.concatenate([np.zeros(m), [-1.0]])
    lo = np.concatenate([model.col_lo, [0.0]])
    hi = np.concatenate([model.col_hi, [np.inf]])
    h = new_highs()
    row_lo = np.concatenate([model.row_lo, np.full(T, -np.inf)])
    row_hi = np.concatenate([model.row_hi, np.full(T, np.inf)])
    pass_lp(h, c, lo, hi, A, row_lo, row_hi)
    return h, model.n_rows, base_scope, m


def _exact(p: Problem, steps: list[int]) -> tuple[np.ndarray, np.ndarray]:
    n, T = len(p.sites), p.steps
    out = {d: np.full((len(steps), 1 + n, T), np.nan) for d in ("down", "up")}
    alone = _without_migration(p)
    # scope -1: the portfolio (migration allowed); scope j: site j alone, without migration
    for direction in ("down", "up"):
        for scope in range(-1, n):
            prob = replace(p, commitments=()) if scope < 0 else replace(alone, sites=(alone.sites[scope],))
            h, r0, base_scope, m = _window_lp(prob, direction == "up")
            idx = np.arange(r0, r0 + T, dtype=np.int32)
            for i, D in enumerate(steps):
                for a in range(T - D + 1):
                    upper = np.full(T, highspy.kHighsInf)
                    upper[a : a + D] = base_scope[a : a + D]
                    h.changeRowsBounds(idx.size, idx, np.full(T, -highspy.kHighsInf), upper)
                    h.run()
                    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                        out[direction][i, 1 + scope, a] = max(0.0, h.getSolution().col_value[m])
    return out["down"], out["up"]
