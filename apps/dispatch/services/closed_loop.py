"""The closed loop: after each settlement interval of a running activation, compare the metered reduction with
the plan and record it. With ``VPP_CLOSED_LOOP_REDISPATCH`` a shortfall is re-dispatched to the sites with
headroom at once (a new activation plan version, with the reason); by default the intraday re-plan
(:mod:`.replan`), which re-solves the portfolio from the live site state every interval with the activation
committed, corrects it instead — an activation re-dispatch does not know the sites' queues and deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

import flexibility
from apps.core import clock
from apps.core.clock import floor_to
from apps.markets import selectors as markets

from ..choices import PlanStatus
from ..models import DeliveryCheck, DispatchPlan, Setpoint
from ..planning import plan_reduction
from .plans import plan_current, plan_store

#: A portfolio shortfall above max(this fraction of the planned reduction, MIN_SHORTFALL_KW) is re-dispatched.
SHORTFALL_TOLERANCE = 0.05
MIN_SHORTFALL_KW = 100.0


def _metered_reduction(plan: DispatchPlan, start: datetime, end: datetime) -> tuple[float | None, dict]:
    """Σ over sites of (baseline − metered mean grid power) in ``[start, end)``; per-site detail. A meter coarser
    than the interval (a 15-minute meter under a 5-minute program) counts with the reading whose interval
    contains it, so only the first interval of each reading used to see it."""
    from apps.telemetry.choices import Quantity
    from apps.telemetry.selectors import datapoints_series, series_for

    detail = {}
    total = 0.0
    seen = False
    for sp in plan.setpoints.filter(start=start).select_related("site"):
        series = series_for(site=sp.site, quantity=Quantity.SITE_POWER_KW)
        read_from = floor_to(start, timedelta(seconds=series.resolution_s)) if series else start
        metered = datapoints_series(series=series, start=read_from, end=end) if series else None
        if metered is None or metered.empty:
            detail[str(sp.site_id)] = {"planned_kw": round(sp.reduction_kw, 1), "metered_kw": None}
            continue
        reduction = sp.baseline_kw - float(metered.mean())
        detail[str(sp.site_id)] = {"planned_kw": round(sp.reduction_kw, 1), "metered_kw": round(reduction, 1)}
        total += reduction
        seen = True
    return (total if seen else None), detail


def delivery_check(*, activation_id: int, interval_start: datetime) -> DeliveryCheck | None:
    """Closed loop for one settlement interval that has ended: compare metered with planned reduction; when the
    portfolio falls short beyond the tolerance and the activation has intervals left, re-dispatch: the
    under-delivering sites keep their (observed) contribution, the rest of the activation's kW goes to the
    other sites in a new plan version, and the check records why. Idempotent per interval."""
    activation = markets.activation_get_for_dispatch(activation_id=activation_id)
    plan = plan_current(activation=activation)
    if (
        plan is None
        or DeliveryCheck.objects.filter(activation=activation, interval_start=interval_start).exists()
    ):
        return None
    step = timedelta(minutes=activation.event.program.settlement_interval_minutes)
    planned = sum(s.reduction_kw for s in plan.setpoints.filter(start=interval_start))
    metered, detail = _metered_reduction(plan, interval_start, interval_start + step)
    shortfall = 0.0 if metered is None else max(0.0, float(activation.kw or planned) - metered)
    action = "no meter data yet" if metered is None else "within tolerance"
    end = activation.end or activation.event.end
    next_start = interval_start + step
    tolerance = max(SHORTFALL_TOLERANCE * planned, MIN_SHORTFALL_KW)
    # a regulation activation is judged on its signal (settlement's score), not on a 15-minute mean reduction
    if (
        metered is not None
        and shortfall > tolerance
        and next_start < end
        and not activation.signal
        and not getattr(settings, "VPP_CLOSED_LOOP_REDISPATCH", False)
    ):
        # the intraday re-plan (services.replan) re-solves the whole portfolio from the live state every
        # interval with this activation committed: a shortfall is corrected there, with the sites' queues known
        action = f"short by {shortfall:.0f} kW: corrected by the intraday re-plan"
    elif metered is not None and shortfall > tolerance and next_start < end and not activation.signal:
        short_sites = [
            int(k)
            for k, v in detail.items()
            if v["metered_kw"] is not None
            and v["planned_kw"] - v["metered_kw"] > tolerance / max(len(detail), 1)
        ]
        kept = sum(detail[str(k)]["metered_kw"] for k in short_sites)
        try:
            draft = plan_reduction(
                activation=activation,
                reduction_kw=max(0.0, float(activation.kw or 0) - kept),
                belief_time=clock.now(),
                start=next_start,
                exclude_site_ids=frozenset(short_sites),
            )
            reason = (
                f"re-dispatch at {next_start:%H:%M}: metered {metered:.0f} kW of {activation.kw:.0f} kW; "
                f"sites {short_sites} under-delivered and keep their {kept:.0f} kW"
            )
            with transaction.atomic():
                DispatchPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUPERSEDED)
                new_plan = plan_store(
                    activation=activation, version=plan.version + 1, draft=draft, reason=reason
                ).plan
                _carry_over(plan, new_plan, short_sites, next_start)
            action = f"re-dispatched as plan v{new_plan.version}"
        except (ValueError, IntegrityError, flexibility.FlexibilityError) as exc:
            action = f"re-dispatch impossible: {exc}"
    check, _ = DeliveryCheck.objects.get_or_create(
        activation=activation,
        interval_start=interval_start,
        defaults={
            "plan": plan,
            "planned_kw": planned,
            "metered_kw": metered,
            "shortfall_kw": shortfall,
            "action": action,
            "detail": detail,
        },
    )
    return check


def _carry_over(old: DispatchPlan, new: DispatchPlan, site_ids: list[int], start: datetime) -> None:
    """Sites left out of a re-dispatch keep their previous setpoints from ``start`` on in the new version."""
    rows = [
        Setpoint(
            plan=new,
            site_id=s.site_id,
            start=s.start,
            end=s.end,
            baseline_kw=s.baseline_kw,
            target_kw=s.target_kw,
            import_cap_kw=s.import_cap_kw,
            battery_kw=s.battery_kw,
            workloads=s.workloads,
        )
        for s in old.setpoints.filter(site_id__in=site_ids, start__gte=start)
    ]
    Setpoint.objects.bulk_create(rows)


def checks_due(*, now: datetime) -> list[tuple[int, datetime]]:
    """``(activation id, interval start)`` of every ended settlement interval of a running or recently ended
    activation that has no check yet."""
    due = []
    for activation in markets.activation_list_started_with_plans(now=now):
        step = timedelta(minutes=activation.event.program.settlement_interval_minutes)
        end = min(activation.end or activation.event.end, now)
        done = set(
            DeliveryCheck.objects.filter(activation=activation).values_list("interval_start", flat=True)
        )
        t = clock.floor_to(activation.start, step)
        while t + step <= end:
            if t not in done:
                due.append((activation.pk, t))
            t += step
    return due
