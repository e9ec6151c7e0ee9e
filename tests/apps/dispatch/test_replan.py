"""The intraday re-plan service: claimed per interval, commits the activation, sends only what changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.core import clock
from apps.dispatch import services
from apps.dispatch.choices import PlanKind, ReplanStatus
from apps.dispatch.models import DispatchPlan, ReplanRun, Setpoint
from apps.dispatch.selectors import setpoint_at

pytestmark = pytest.mark.django_db


def test_a_replan_commits_the_activation_and_one_worker_claims_each_interval(activation, sites) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    run = services.portfolio_replan(now=now)
    assert run is not None and run.status == ReplanStatus.DONE, run.detail
    assert services.portfolio_replan(now=now + timedelta(minutes=5)) is None  # same interval: claimed
    assert ReplanRun.objects.count() == 1
    assert [p["event"] for p in run.detail["promises"]] == [activation.event_id]
    plan = run.plan
    assert plan is not None and plan.kind == PlanKind.REPLAN
    assert "intraday re-plan" in plan.reason
    # the activation's kW is delivered in its first interval by the re-plan's setpoints, which now apply
    first = Setpoint.objects.filter(plan=plan, start=activation.start)
    assert sum(s.baseline_kw - s.target_kw for s in first) == pytest.approx(activation.kw, rel=0.02)
    for sp in first:
        assert setpoint_at(site_id=sp.site_id, moment=activation.start).plan_id == plan.pk
        for action in sp.workloads.values():
            assert action.get("defer_kw", 0) >= 0 and action.get("catch_up_kw", 0) >= 0


def test_the_next_interval_resends_nothing_when_nothing_changed(activation, sites) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    first = services.portfolio_replan(now=now)
    assert first is not None and first.changed_setpoints > 0
    second = services.portfolio_replan(now=now + timedelta(minutes=15))
    assert second is not None and second.status == ReplanStatus.DONE
    assert second.changed_setpoints < first.changed_setpoints / 4
    assert DispatchPlan.objects.filter(kind=PlanKind.REPLAN).count() == 1 + (second.plan_id is not None)


def test_queued_work_past_its_deadline_is_planned_first_and_named(activation, sites) -> None:  # type: ignore[no-untyped-def]
    from apps.accounts.principal import principal_for
    from apps.telemetry.services import site_state_report

    site = sites[0]
    batch = site.workload_classes.get(name="batch")
    now = clock.now()
    owner = principal_for(site.owner.memberships.first().user)
    site_state_report(
        principal=owner,
        site=site,
        data={
            "reported_at": now,
            "it_load_kw": 2000.0,
            "queue": [
                {
                    "workload_class": batch.pk,
                    "energy_kwh": 400.0,
                    "arrived_at": now - timedelta(hours=8),
                    "deadline": now - timedelta(hours=2),
                }
            ],
        },
    )
    run = services.portfolio_replan(now=now)
    assert run is not None and run.status == ReplanStatus.DONE, run.detail
    assert run.detail["queued_kwh"] == pytest.approx(400.0)
    sp = Setpoint.objects.get(plan=run.plan, site=site, start=clock.floor_to(now, timedelta(minutes=15)))
    assert sp.workloads["batch"]["catch_up_kw"] > 0  # the late work runs at once
