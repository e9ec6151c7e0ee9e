"""From an activation to per-site setpoints: solve the disaggregation with ``flexibility.solve``.

The activation's kW is a commitment on the zone's active sites over the activation window (a shortfall costs
:data:`SHORTFALL_PENALTY_PER_MWH`, far above any energy price, so the solver delivers whenever it can); the
horizon runs :data:`RECOVERY_HOURS` past the window so deferred work is served afterwards, respecting every
SLA (deadline), backup reserve and grid limit. Setpoints are stored for the activation window.

Regulation activations are planned by :mod:`apps.dispatch.regulation` (a symmetric band per site; setpoints carry
the signal).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings

import flexibility
from apps.assets.models import Site
from apps.assets.selectors import active_site_list, site_list_by_ids
from apps.core.clock import floor_to
from apps.markets.choices import REGULATION_PRODUCTS
from apps.markets.fanout import portfolio_solve
from apps.markets.models import Activation
from apps.markets.portfolio import portfolio_problem

logger = logging.getLogger(__name__)

RECOVERY_HOURS = 12
SHORTFALL_PENALTY_PER_MWH = 1e5


@dataclass
class SiteSetpoints:
    """Setpoints of one site, one entry per interval of the window."""

    site: Site
    starts: list[datetime]
    baseline_kw: np.ndarray
    target_kw: np.ndarray
    battery_kw: np.ndarray
    workloads: list[dict] = field(default_factory=list)


@dataclass
class PlanDraft:
    """A solved split of a reduction across sites, ready to store."""

    requested_kw: float
    planned_kw: float
    valid_from: datetime
    step: timedelta
    sites: list[SiteSetpoints]
    objective: float | None = None
    build_seconds: float | None = None
    solve_seconds: float | None = None
    inputs: dict = field(default_factory=dict)


def participating_sites(activation: Activation) -> list[Site]:
    """Active sites in the activated program's zone."""
    return list(
        active_site_list()
        .filter(market_zone=activation.event.program.zone)
        .prefetch_related("workload_classes__migratable_to", "batteries", "pv_arrays")
    )


def window(activation: Activation, *, start: datetime | None = None) -> tuple[datetime, datetime, timedelta]:
    """``(start, end, step)`` of the window to plan: the activation (or ``start``, for a re-dispatch) to its end
    (or the event's end), in the program's settlement intervals."""
    step = timedelta(minutes=activation.event.program.settlement_interval_minutes)
    begin = floor_to(start or activation.start, step)
    end = activation.end or activation.event.end
    return begin, end, step


def plan_reduction(
    *,
    activation: Activation,
    reduction_kw: float,
    belief_time: datetime,
    start: datetime | None = None,
    exclude_site_ids: frozenset[int] = frozenset(),
    include_migration_targets: bool = True,
) -> PlanDraft:
    """Split ``reduction_kw`` over the window among the participating sites (minus ``exclude_site_ids``);
    with ``include_migration_targets=False`` sites of other zones are not added as places deferrable work may
    migrate to (each participating site plans its own work only).

    Raises:
        ValueError: no participating site, or an empty window.
        flexibility.FlexibilityInfeasible: the hard constraints (deadlines, IT capacity, grid limits, SoC)
            cannot all be met.
    """
    sites = [s for s in participating_sites(activation) if s.pk not in exclude_site_ids]
    begin, end, step = window(activation, start=start)
    window_steps = int((end - begin) / step)
    if not sites or window_steps <= 0:
        raise ValueError("nothing to dispatch: no participating site or an empty window")
    if activation.event.program.product in REGULATION_PRODUCTS:
        from .regulation import plan_regulation  # it builds on this module's drafts

        return plan_regulation(activation, sites, begin, window_steps, step, belief_time)
    t0 = time.perf_counter()
    steps = window_steps + int(timedelta(hours=RECOVERY_HOURS) / step)
    ids = tuple(str(s.pk) for s in sites)
    commitment = flexibility.Commitment(
        id="activation",
        sites=ids,
        start_step=0,
        end_step=window_steps,
        reduction_kw=reduction_kw,
        shortfall_penalty_per_mwh=SHORTFALL_PENALTY_PER_MWH,
    )
    built = portfolio_problem(
        sites=sites,
        start=begin,
        steps=steps,
        belief_time=belief_time,
        resolution_s=int(step.total_seconds()),
        load_quantile="p50",
        carbon_price_per_tonne=float(getattr(settings, "VPP_CARBON_PRICE_PER_TONNE", 0.0)),
        commitments=[commitment],
        include_migration_targets=include_migration_targets,
    )
    build_seconds = time.perf_counter() - t0
    result = portfolio_solve(built.problem)  # across the lp workers when that pays
    delivered = result.commitments["activation"].delivered_kw
    starts = [begin + i * step for i in range(window_steps)]
    per_site = [
        _site_setpoints(site, result, built.problem, starts, window_steps)
        for site in sites
        if str(site.pk) in result.sites
    ]
    return PlanDraft(
        requested_kw=reduction_kw,
        planned_kw=float(np.min(delivered[:window_steps])) if len(delivered) else 0.0,
        valid_from=begin,
        step=step,
        sites=per_site,
        objective=result.objective,
        build_seconds=build_seconds,
        solve_seconds=result.timings.get("solve_seconds"),
        inputs=built.sources,
    )


def _site_setpoints(
    site: Site, result: flexibility.Result, problem: flexibility.Problem, starts: list[datetime], n: int
) -> SiteSetpoints:
    key = str(site.pk)
    sr = result.sites[key]
    baselines = {w.id: w.baseline_kw for s in problem.sites if s.id == key for w in s.workloads}
    workloads = []
    for i in range(n):
        actions = {}
        for wid, baseline in baselines.items():
            served_here = sr.workloads[wid].served_kw[i] if wid in sr.workloads else 0.0
            migrated = {
                m.to_site: float(m.kw[i])
                for m in result.migrations
                if m.workload == wid and m.from_site == key and m.kw[i] > 1e-6
            }
            held = float(baseline[i]) - float(served_here) - sum(migrated.values())
            name = wid.split(":", 1)[1]
            actions[name] = {
                "baseline_kw": round(float(baseline[i]), 3),
                "served_kw": round(float(served_here), 3),
                # two actions, never one signed number: hold arriving work back, or run queued work
                "defer_kw": round(max(held, 0.0), 3),
                "catch_up_kw": round(max(-held, 0.0), 3),
                "migrate_kw": {k: round(v, 3) for k, v in migrated.items()},
            }
        workloads.append(actions)
    return SiteSetpoints(
        site=site,
        starts=starts,
        baseline_kw=sr.baseline_grid_kw[:n],
        target_kw=sr.grid_kw[:n],
        battery_kw=sr.battery_kw[:n],
        workloads=workloads,
    )


def draft_to_json(draft: PlanDraft) -> dict:
    """A JSON-able form of ``draft`` (sites by primary key)."""
    return {
        "requested_kw": draft.requested_kw,
        "planned_kw": draft.planned_kw,
        "valid_from": draft.valid_from.isoformat(),
        "step_s": draft.step.total_seconds(),
        "objective": draft.objective,
        "build_seconds": draft.build_seconds,
        "solve_seconds": draft.solve_seconds,
        "inputs": draft.inputs,
        "sites": [
            {
                "site": sp.site.pk,
                "starts": [s.isoformat() for s in sp.starts],
                "baseline_kw": list(map(float, sp.baseline_kw)),
                "target_kw": list(map(float, sp.target_kw)),
                "battery_kw": list(map(float, sp.battery_kw)),
                "workloads": sp.workloads,
            }
            for sp in draft.sites
        ],
    }


def draft_from_json(data: dict, *, scale: float = 1.0) -> PlanDraft:
    """Rebuild a draft, blended towards the baseline by ``scale`` ∈ [0, 1] (see PreparedPlan)."""
    sites = {s.pk: s for s in site_list_by_ids(site_ids=[row["site"] for row in data["sites"]])}
    rows = []
    for row in data["sites"]:
        baseline = np.asarray(row["baseline_kw"])
        target = baseline + scale * (np.asarray(row["target_kw"]) - baseline)
        workloads = [
            {
                name: {
                    **action,
                    "served_kw": round(
                        action["baseline_kw"] + scale * (action["served_kw"] - action["baseline_kw"]), 3
                    ),
                    "defer_kw": round(scale * action["defer_kw"], 3),
                    "catch_up_kw": round(scale * action.get("catch_up_kw", 0.0), 3),
                    "migrate_kw": {k: round(scale * v, 3) for k, v in action["migrate_kw"].items()},
                }
                if "served_kw" in action
                else action
                for name, action in step.items()
            }
            for step in row["workloads"]
        ]
        rows.append(
            SiteSetpoints(
                site=sites[row["site"]],
                starts=[datetime.fromisoformat(s) for s in row["starts"]],
                baseline_kw=baseline,
                target_kw=target,
                battery_kw=scale * np.asarray(row["battery_kw"]),
                workloads=workloads,
            )
        )
    return PlanDraft(
        requested_kw=scale * data["requested_kw"],
        planned_kw=scale * data["planned_kw"],
        valid_from=datetime.fromisoformat(data["valid_from"]),
        step=timedelta(seconds=data["step_s"]),
        sites=rows,
        objective=data["objective"],
        build_seconds=data["build_seconds"],
        solve_seconds=data["solve_seconds"],
        inputs={**data["inputs"], "prepared_scale": scale},
    )


def plan_schedule(
    *,
    sites: list[Site],
    start: datetime,
    hours: int,
    belief_time: datetime,
    step: timedelta = timedelta(minutes=15),
) -> PlanDraft:
    """The portfolio's cost-optimal operation for ``hours`` from ``start`` (the day-ahead schedule): every
    deferrable workload served by its deadline where and when energy is cheapest (carbon included at the
    problem's carbon price), batteries cycled within their backup reserve, grid limits kept. The horizon runs
    :data:`RECOVERY_HOURS` further so work deferred late in the day is still served.

    Raises:
        ValueError: no sites.
    """
    if not sites:
        raise ValueError("no active site to schedule")
    t0 = time.perf_counter()
    n = int(timedelta(hours=hours) / step)
    built = portfolio_problem(
        sites=sites,
        start=start,
        steps=n + int(timedelta(hours=RECOVERY_HOURS) / step),
        belief_time=belief_time,
        resolution_s=int(step.total_seconds()),
        load_quantile="p50",
        carbon_price_per_tonne=float(getattr(settings, "VPP_CARBON_PRICE_PER_TONNE", 0.0)),
    )
    build_seconds = time.perf_counter() - t0
    result = portfolio_solve(built.problem)  # across the lp workers when that pays
    starts = [start + i * step for i in range(n)]
    per_site = [
        _site_setpoints(s, result, built.problem, starts, n) for s in sites if str(s.pk) in result.sites
    ]
    return PlanDraft(
        requested_kw=0.0,
        planned_kw=0.0,
        valid_from=start,
        step=step,
        sites=per_site,
        objective=result.objective,
        build_seconds=build_seconds,
        solve_seconds=result.timings.get("solve_seconds"),
        inputs={
            **built.sources,
            "baseline_cost": result.baseline_cost,
            "cost": result.cost,
            "savings_pct": result.savings_pct,
        },
    )
