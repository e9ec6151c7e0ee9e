"""The receding-horizon re-plan (model-predictive control) of the whole portfolio, as pure steps over gathered
inputs: what is promised (:func:`commitments`), the plan from now (:func:`replan_draft`) and the setpoints that
changed (:func:`changed_only`). The service (:mod:`apps.dispatch.services.replan`) gathers and stores.

Every re-plan solves the portfolio from ``now`` to the end of the current horizon with the live state as the
initial condition: each site's queued work with its deadlines (soft at :data:`LATENESS_PENALTY_PER_MWH` per MWh
and hour late, far above any shortfall penalty, so the LP breaks a deadline only where no plan keeps them all),
its battery SoC, the latest intraday forecasts, receiving sites keeping headroom up to the p90 IT forecast, and
every awarded or active event as a commitment to its *settlement* target: the program's expected customer
baseline (:func:`apps.markets.baseline_estimate.expected_baseline_kw`) minus the awarded kW, with the program's
shortfall penalty plus the energy payment an under-delivery loses. A receding horizon re-solved at each interval
with fresh state is model-predictive control (Rawlings, Mayne & Diehl, *Model Predictive Control: Theory,
Computation, and Design*, 2nd ed., 2017, ch. 1); CarbonFlex (2024) reports such a scheduler within ~2 % of a
perfect-foresight optimum on datacenter workloads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings

import flexibility

from .planning import PlanDraft, SiteSetpoints

#: Default price of lateness (per MWh of deferred work and hour late).
LATENESS_PENALTY_PER_MWH = 1e6
#: The shortfall price of an award or activation is at least the lateness price times this share of the deadline
#: guard's hours (``VPP_MIN_SHORTFALL_PENALTY_PER_MWH`` overrides it with a price): plans finish queued work the
#: guard's steps before its deadline (``VPP_DEADLINE_GUARD_STEPS``), so the re-plan may use up to this share of
#: that slack to deliver what was awarded, and never breaks the deadline itself for it.
SHORTFALL_GUARD_SHARE = 0.75
#: A setpoint is resent only when it moves by more than max(this fraction of the site's baseline, MIN_CHANGE_KW).
CHANGE_FRACTION = 0.02
MIN_CHANGE_KW = 25.0


@dataclass(frozen=True)
class Promise:
    """One awarded or active event as the portfolio must deliver it: the window ``[start, end)``, the kW, the
    sites, the settlement target ``max_grid_kw`` (per LP step, ``None`` when a site has no expected baseline)
    and the price of a shortfall."""

    event_id: int
    start: datetime
    end: datetime
    kw: float
    site_ids: tuple[int, ...]
    shortfall_penalty_per_mwh: float
    target_grid_kw: np.ndarray | None = None


def setting(name: str, default: float | str | None) -> float | str | None:
    """A closed-loop setting (``VPP_<NAME>`` in Django settings), or ``default``."""
    return getattr(settings, f"VPP_{name}", default)


def min_shortfall_penalty_per_mwh(step: timedelta = timedelta(minutes=15)) -> float:
    """The least shortfall price of a promise (per MWh): ``VPP_MIN_SHORTFALL_PENALTY_PER_MWH`` when set, else
    the lateness price × :data:`SHORTFALL_GUARD_SHARE` × the deadline guard in hours (guard steps of ``step``)."""
    from apps.markets.workloads import deadline_guard_steps

    explicit = setting("MIN_SHORTFALL_PENALTY_PER_MWH", None)
    if explicit is not None:
        return float(explicit)
    lateness = float(setting("LATENESS_PENALTY_PER_MWH", LATENESS_PENALTY_PER_MWH))  # type: ignore[arg-type]
    guard_h = deadline_guard_steps() * step.total_seconds() / 3600
    return lateness * SHORTFALL_GUARD_SHARE * guard_h


def commitments(promises: list[Promise], start: datetime, steps: int, step: timedelta) -> list:
    """The promises as LP commitments on the grid of ``steps`` × ``step`` from ``start`` (windows clipped to it;
    promises outside it dropped)."""
    out = []
    for p in promises:
        first = max(0, int((p.start - start) / step))
        last = min(steps, int(np.ceil((p.end - start) / step)))
        if last <= first or not p.site_ids:
            continue
        cap = None
        if p.target_grid_kw is not None:
            offset = int((start - p.start) / step) if start > p.start else 0
            cap = np.asarray(p.target_grid_kw[offset : offset + last - first], dtype=float)
            if cap.size != last - first or not np.all(np.isfinite(cap)):
                cap = None
        out.append(
            flexibility.Commitment(
                id=f"event:{p.event_id}",
                sites=tuple(str(s) for s in p.site_ids),
                start_step=first,
                end_step=last,
                reduction_kw=p.kw,
                shortfall_penalty_per_mwh=p.shortfall_penalty_per_mwh,
                max_grid_kw=cap,
            )
        )
    return out


def _window(sp: SiteSetpoints, keep: np.ndarray) -> SiteSetpoints:
    idx = np.flatnonzero(keep)
    return replace(
        sp,
        starts=[sp.starts[i] for i in idx],
        baseline_kw=sp.baseline_kw[idx],
        target_kw=sp.target_kw[idx],
        battery_kw=sp.battery_kw[idx],
        workloads=[sp.workloads[i] for i in idx] if sp.workloads else [],
    )


def changed_only(
    draft: PlanDraft,
    current: dict[tuple[int, datetime], tuple],
    *,
    frozen: dict[int, list[tuple[datetime, datetime]]] | None = None,
) -> tuple[PlanDraft, int]:
    """The draft reduced to the setpoints that differ from those in force: ``current`` maps (site pk, interval
    start) → (target kW, battery kW[, workload actions]) of the setpoint that applies now; a new one is kept when
    the target, the battery or a class's action moves by more than max(:data:`CHANGE_FRACTION` × |baseline|,
    :data:`MIN_CHANGE_KW`), or where none applies. Intervals
    in ``frozen`` (site pk → windows, e.g. a regulation hour that follows its own signal) are never resent.
    Returns the reduced draft (sites without a change dropped) and the number of changed setpoints."""
    frozen = frozen or {}
    sites = []
    n = 0
    for sp in draft.sites:
        keep = np.zeros(len(sp.starts), dtype=bool)
        for i, t in enumerate(sp.starts):
            if any(a <= t < b for a, b in frozen.get(sp.site.pk, ())):
                continue
            now = current.get((sp.site.pk, t))
            tol = max(CHANGE_FRACTION * abs(float(sp.baseline_kw[i])), MIN_CHANGE_KW)
            keep[i] = now is None or (
                abs(now[0] - float(sp.target_kw[i])) > tol
                or abs(now[1] - float(sp.battery_kw[i])) > tol
                or _actions_moved(
                    now[2] if len(now) > 2 else {}, sp.workloads[i] if sp.workloads else {}, tol
                )
            )
        if keep.any():
            sites.append(_window(sp, keep))
            n += int(keep.sum())
    return replace(draft, sites=sites), n


def _actions_moved(old: dict, new: dict, tol: float) -> bool:
    """Whether any workload class's served, held-back or caught-up kW moved by more than ``tol`` (the same grid
    power can hide a different split: running due work instead of new arrivals)."""
    for name, action in new.items():
        before = old.get(name) or {}
        for key in ("served_kw", "defer_kw", "catch_up_kw"):
            if abs(float(action.get(key, 0.0)) - float(before.get(key, 0.0))) > tol:
                return True
    return False


def sla_notes(shortfalls: list) -> list[dict]:
    """Pre-solve SLA shortfalls (:func:`flexibility.sla_shortfalls`) as JSON for the plan's record."""
    return [
        {
            "site": s.site,
            "workload": s.workload,
            "late_kwh": round(float(s.late_kwh), 1),
            "first_step": int(s.first_step),
        }
        for s in shortfalls
    ]
