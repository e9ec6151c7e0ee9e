"""The intraday re-plan (model-predictive control, :mod:`apps.dispatch.replanning`): gather the live state and
the promises, solve the portfolio from now, store only the setpoints that changed as a new plan with its reason.

Claimed per interval: a :class:`~apps.dispatch.models.ReplanRun` with a unique ``slot`` is created first, so of
several workers running the beat task exactly one re-plans an interval (the others find the claim and return).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import numpy as np
from django.db import IntegrityError, transaction

import flexibility
from apps.assets.selectors import active_site_list
from apps.core import clock
from apps.core.clock import floor_to
from apps.markets import selectors as markets
from apps.markets.baseline_estimate import expected_baseline_kw
from apps.markets.choices import REGULATION_PRODUCTS
from apps.markets.fanout import portfolio_solve
from apps.markets.portfolio import portfolio_problem

from .. import selectors
from ..choices import PlanKind, ReplanStatus
from ..models import DispatchPlan, ReplanRun
from ..planning import RECOVERY_HOURS, PlanDraft, _site_setpoints
from ..replanning import (
    LATENESS_PENALTY_PER_MWH,
    Promise,
    changed_only,
    commitments,
    min_shortfall_penalty_per_mwh,
    setting,
    sla_notes,
)
from .plans import plan_store

logger = logging.getLogger(__name__)

STEP = timedelta(minutes=15)
#: Setpoints are sent for this long ahead; the LP looks to the end of the horizon.
SEND_HOURS = 6
#: The horizon reaches at least this far (when no day-ahead schedule covers longer).
MIN_HORIZON_HOURS = 24


def _horizon_end(slot: datetime) -> datetime:
    """The end of the current day-ahead horizon (the latest schedule's end), at least MIN_HORIZON_HOURS out."""
    latest = DispatchPlan.objects.filter(kind=PlanKind.SCHEDULE, valid_from__lte=slot).order_by("-valid_to")
    end = latest.values_list("valid_to", flat=True).first()
    return max(end or slot, slot + timedelta(hours=MIN_HORIZON_HOURS))


def _target(sites: list, event, n_steps: int, belief: datetime) -> np.ndarray | None:
    """Σ sites' expected settlement baseline − 0 on the LP grid from the event start (``None`` when any site has
    none: the commitment then falls back to a reduction below the LP's own baseline)."""
    total = None
    program_step = timedelta(minutes=event.program.settlement_interval_minutes)
    for site in sites:
        base = expected_baseline_kw(site=site, event=event, belief_time=belief)
        if base is None:
            return None
        per = max(1, int(STEP / program_step))
        base = base[: len(base) // per * per].reshape(-1, per).mean(axis=1) if per > 1 else base
        total = base if total is None else total + base
    if total is None or total.size < n_steps:
        return None
    return total[:n_steps]


def promises_between(
    sites: list, start: datetime, end: datetime, belief: datetime, *, include_completed: bool = False
) -> tuple[list[Promise], dict]:
    """Awarded and active events (and completed ones with ``include_completed``) overlapping ``[start, end)``
    as promises (their settlement targets as known at ``belief``), and the regulation windows (site pk →
    [(start, end)]) whose setpoints follow their own signal and are never re-planned."""
    promises: list[Promise] = []
    frozen: dict[int, list] = {}
    for event in markets.event_list_committed_between(
        start=start, end=end, include_completed=include_completed
    ):
        zone_sites = [s for s in sites if s.market_zone_id == event.program.zone_id]
        activations = [a for a in event.activations.all() if (a.end or event.end) > start]
        if event.program.product in REGULATION_PRODUCTS:
            for a in activations or []:
                for s in zone_sites:
                    frozen.setdefault(s.pk, []).append((a.start, a.end or event.end))
            continue
        awarded = markets.event_awarded_max_kw(event_id=event.pk)
        windows = [(a.start, a.end or event.end, float(a.kw or awarded)) for a in activations] or [
            (event.start, event.end, awarded)
        ]
        penalty = max(
            float(event.program.shortfall_penalty_per_mwh or 0)
            + float(event.program.energy_price_per_mwh or 0),
            min_shortfall_penalty_per_mwh(),
        )
        for w_start, w_end, kw in windows:
            if kw <= 0:
                continue
            steps = int(np.ceil((w_end - w_start) / STEP))
            base = _target(zone_sites, event, steps, belief)
            promises.append(
                Promise(
                    event_id=event.pk,
                    start=w_start,
                    end=w_end,
                    kw=kw,
                    site_ids=tuple(s.pk for s in zone_sites),
                    shortfall_penalty_per_mwh=penalty,
                    target_grid_kw=None if base is None else base - kw,
                )
            )
    return promises, frozen


def _draft(sites: list, now: datetime, slot: datetime) -> tuple[PlanDraft, dict, dict]:
    """Solve from ``slot`` (load → compute); returns the full draft for the send window, the regulation windows,
    and the record's detail."""
    from apps.telemetry.selectors import site_state_latest_many

    t0 = time.perf_counter()
    end = _horizon_end(slot) + timedelta(hours=RECOVERY_HOURS)
    steps = int((end - slot) / STEP)
    states = site_state_latest_many(sites=sites, at=now)
    promises, frozen = promises_between(sites, slot, end, now)
    built = portfolio_problem(
        sites=sites,
        start=slot,
        steps=steps,
        belief_time=now,
        resolution_s=int(STEP.total_seconds()),
        load_quantile="p50",
        commitments=commitments(promises, slot, steps, STEP),
        live_states=states,
        headroom_quantile=str(setting("HEADROOM_QUANTILE", "p90")),
        lateness_penalty_per_mwh=float(setting("LATENESS_PENALTY_PER_MWH", LATENESS_PENALTY_PER_MWH)),  # type: ignore[arg-type]
        carbon_price_per_tonne=float(setting("CARBON_PRICE_PER_TONNE", 0.0)),  # type: ignore[arg-type]
    )
    build_seconds = time.perf_counter() - t0
    shortfalls = flexibility.sla_shortfalls(built.problem)
    result = portfolio_solve(built.problem)
    n = min(steps, int(timedelta(hours=SEND_HOURS) / STEP))
    starts = [slot + i * STEP for i in range(n)]
    per_site = [
        _site_setpoints(s, result, built.problem, starts, n) for s in sites if str(s.pk) in result.sites
    ]
    late = {}  # the most work each workload is planned to be behind its deadlines (kWh)
    for sr in result.sites.values():
        for wid, w in sr.workloads.items():
            late_kwh = getattr(w, "late_kwh", None)
            behind = float(np.max(late_kwh)) if late_kwh is not None else 0.0
            if behind > 0.05:
                late[wid] = round(behind, 1)
    detail = {
        "horizon_steps": steps,
        "states": len(states),
        "queued_kwh": round(sum(e.energy_kwh for st in states.values() for e in st.queue), 1),
        "promises": [
            {"event": p.event_id, "kw": p.kw, "settlement_target": p.target_grid_kw is not None}
            for p in promises
        ],
        "sla_shortfalls": sla_notes(shortfalls),
        "planned_late_kwh": late,
    }
    draft = PlanDraft(
        requested_kw=sum(p.kw for p in promises if p.start <= slot < p.end),
        planned_kw=0.0,
        valid_from=slot,
        step=STEP,
        sites=per_site,
        objective=result.objective,
        build_seconds=build_seconds,
        solve_seconds=result.timings.get("solve_seconds"),
        inputs={**built.sources, **{"replan": detail}},
    )
    return draft, frozen, detail


def portfolio_replan(*, now: datetime | None = None) -> ReplanRun | None:
    """Re-plan the portfolio from the interval containing ``now`` (default: the product clock) and store the
    setpoints that changed as a new ``replan`` plan (pending deliveries to the sites concerned). Returns the
    run, or ``None`` when another worker has claimed this interval or no site is active. A failure is recorded
    on the run (status failed, the error in ``detail``) and logged, never raised: the sites keep their setpoints.
    """
    now = now or clock.now()
    slot = floor_to(now, STEP)
    try:
        with transaction.atomic():
            run = ReplanRun.objects.create(slot=slot)
    except IntegrityError:
        return None
    sites = list(
        active_site_list().prefetch_related("workload_classes__migratable_to", "batteries", "pv_arrays")
    )
    cpu0 = time.process_time()
    try:
        if not sites:
            raise ValueError("no active site")
        draft, frozen, detail = _draft(sites, now, slot)
        current = selectors.setpoints_in_force(
            site_ids=[s.pk for s in sites], start=slot, end=slot + timedelta(hours=SEND_HOURS)
        )
        changed, n_changed = changed_only(draft, current, frozen=frozen)
        plan = None
        if n_changed:
            version = (
                DispatchPlan.objects.filter(kind=PlanKind.REPLAN)
                .order_by("-version")
                .values_list("version", flat=True)
                .first()
                or 0
            ) + 1
            reason = (
                f"intraday re-plan at {slot:%Y-%m-%d %H:%M}: {n_changed} setpoints changed at "
                f"{len(changed.sites)} sites; {detail['queued_kwh']:,.0f} kWh queued, "
                f"{len(detail['promises'])} promises"
                + (f"; SLA at risk: {detail['sla_shortfalls']}" if detail["sla_shortfalls"] else "")
            )
            with transaction.atomic():
                plan = plan_store(
                    activation=None,
                    version=version,
                    draft=changed,
                    reason=reason,
                    kind=PlanKind.REPLAN,
                    valid_to=slot + timedelta(hours=SEND_HOURS),
                ).plan
        ReplanRun.objects.filter(pk=run.pk).update(
            status=ReplanStatus.DONE,
            finished_at=clock.now(),
            plan=plan,
            changed_setpoints=n_changed,
            build_seconds=draft.build_seconds,
            solve_seconds=draft.solve_seconds,
            cpu_seconds=time.process_time() - cpu0,
            detail=detail,
        )
    except (ValueError, flexibility.FlexibilityError) as exc:
        logger.warning("re-plan at %s failed: %s", slot, exc)
        ReplanRun.objects.filter(pk=run.pk).update(
            status=ReplanStatus.FAILED, finished_at=clock.now(), detail={"error": str(exc)}
        )
    run.refresh_from_db()
    return run
