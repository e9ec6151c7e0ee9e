"""Activation → plan: the reduction split across sites within SLAs, stored once; closed-loop re-dispatch."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from apps.dispatch import services
from apps.dispatch.choices import Channel, DeliveryStatus, PlanStatus
from apps.dispatch.models import Delivery, DeliveryCheck, DispatchPlan, Setpoint
from apps.telemetry.services import datapoints_ingest
from tests.factories import TimeSeriesFactory


def test_plan_splits_the_activation_across_sites(activation, sites) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    assert plan.version == 1 and plan.status == PlanStatus.ACTIVE
    setpoints = Setpoint.objects.filter(plan=plan)
    assert setpoints.count() == 2 * 4  # two sites × four 15-minute intervals
    for start in setpoints.values_list("start", flat=True).distinct():
        rows = setpoints.filter(start=start)
        assert sum(r.baseline_kw - r.target_kw for r in rows) == pytest.approx(1500, abs=1e-3)
        for r in rows:
            assert r.import_cap_kw is None or r.import_cap_kw == pytest.approx(max(r.target_kw, 0))
    for site in sites:  # never earlier than it arrives: served so far ≤ arrived so far, for every class
        rows = list(setpoints.filter(site=site).order_by("start"))
        for name in ("inference", "batch", "other"):
            served = np.cumsum(
                [r.workloads[name]["served_kw"] + sum(r.workloads[name]["migrate_kw"].values()) for r in rows]
            )
            arrived = np.cumsum([r.workloads[name]["baseline_kw"] for r in rows])
            assert (served <= arrived + 1e-3).all()
    inference = [r.workloads["inference"] for r in setpoints]
    assert all(a["defer_kw"] == 0 and not a["migrate_kw"] for a in inference)  # latency-critical stays
    assert plan.planned_kw == pytest.approx(1500, abs=1e-3)
    assert (
        Delivery.objects.filter(plan=plan, status=DeliveryStatus.PENDING, channel=Channel.POLL).count() == 2
    )


def test_dispatch_is_exactly_once(activation) -> None:  # type: ignore[no-untyped-def]
    first = services.dispatch_activation(activation_id=activation.pk)
    again = services.dispatch_activation(activation_id=activation.pk)
    assert first == again
    assert DispatchPlan.objects.count() == 1 and Delivery.objects.count() == 2


def test_store_step_hands_the_payloads_it_wrote_to_the_delivery_step(activation) -> None:  # type: ignore[no-untyped-def]
    stored = services.activation_plan(activation_id=activation.pk)
    assert stored.stored_now and stored.plan_seconds >= 0 and stored.store_seconds >= 0
    assert not hasattr(stored.plan, "setpoint_payloads")  # nothing hung on the model instance
    for delivery in Delivery.objects.filter(plan=stored.plan):
        assert stored.setpoint_payloads is not None
        assert stored.setpoint_payloads[delivery.site_id] == services.delivery_payload(delivery)["setpoints"]
    with pytest.raises(FrozenInstanceError):
        stored.plan_seconds = 0.0  # type: ignore[misc]
    again = services.activation_plan(activation_id=activation.pk)
    assert again.plan == stored.plan and not again.stored_now
    assert np.isnan(again.plan_seconds) and np.isnan(again.store_seconds)


def test_activation_dispatch_plans_once_and_delivers(activation) -> None:  # type: ignore[no-untyped-def]
    done = services.activation_dispatch(activation_id=activation.pk)
    plan = DispatchPlan.objects.get()
    assert (done.plan_id, done.plan_version, done.retry_delivery_ids) == (plan.pk, 1, ())
    # the plan was stored by this call, so every stage is timed
    timings = (done.plan_seconds, done.store_seconds, done.commit_seconds, done.fanout_seconds)
    assert all(np.isfinite(t) for t in timings) and done.fanout_seconds >= 0
    assert services.activation_dispatch(activation_id=activation.pk).plan_id == plan.pk
    assert DispatchPlan.objects.count() == 1 and Delivery.objects.count() == 2


def meter(site, start, kw: float) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=site, quantity="site_power_kw", resolution="PT5M", resolution_s=300)
    datapoints_ingest(series=series, rows=pd.Series(kw, index=pd.date_range(start, periods=3, freq="5min")))


def test_under_delivering_site_is_redispatched(activation, sites, settings) -> None:  # type: ignore[no-untyped-def]
    settings.VPP_CLOSED_LOOP_REDISPATCH = True  # (by default the intraday re-plan corrects it)
    plan = services.dispatch_activation(activation_id=activation.pk)
    first = activation.start
    # a: the site carrying the most reduction, which fails to reduce at all; b follows its setpoint
    a, b = sorted(sites, key=lambda s: -Setpoint.objects.get(plan=plan, site=s, start=first).reduction_kw)
    sp_a = Setpoint.objects.get(plan=plan, site=a, start=first)
    sp_b = Setpoint.objects.get(plan=plan, site=b, start=first)
    assert sp_a.reduction_kw > 100
    meter(a, first, sp_a.baseline_kw)
    meter(b, first, sp_b.target_kw)
    check = services.delivery_check(activation_id=activation.pk, interval_start=first)
    assert check is not None
    assert check.metered_kw == pytest.approx(sp_b.reduction_kw, abs=1e-6)
    assert check.shortfall_kw == pytest.approx(1500 - sp_b.reduction_kw, abs=1e-6)
    assert check.action == "re-dispatched as plan v2"
    v2 = DispatchPlan.objects.get(activation=activation, version=2)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED and v2.status == PlanStatus.ACTIVE
    assert "under-delivered" in v2.reason and str(a.pk) in v2.reason
    nxt = first + timedelta(minutes=15)
    b_next = Setpoint.objects.get(plan=v2, site=b, start=nxt)
    assert b_next.reduction_kw == pytest.approx(1500, abs=1e-3)  # B now carries the whole activation
    assert (
        Setpoint.objects.get(plan=v2, site=a, start=nxt).target_kw
        == Setpoint.objects.get(plan=plan, site=a, start=nxt).target_kw
    )  # A keeps its old instructions
    assert services.delivery_check(activation_id=activation.pk, interval_start=first) is None  # idempotent
    assert DeliveryCheck.objects.count() == 1


def test_within_tolerance_no_redispatch(activation, sites) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    for site in sites:
        sp = Setpoint.objects.get(plan=plan, site=site, start=activation.start)
        meter(site, activation.start, sp.target_kw + 10)  # 10 kW short each: within 5 % / 100 kW
    check = services.delivery_check(activation_id=activation.pk, interval_start=activation.start)
    assert check.action == "within tolerance" and DispatchPlan.objects.count() == 1


def test_a_meter_coarser_than_the_interval_counts_for_each_interval_it_covers(activation, sites) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    second = activation.start + timedelta(
        minutes=15
    )  # inside the hourly reading that starts at activation.start
    for site in sites:
        series = TimeSeriesFactory(site=site, quantity="site_power_kw", resolution="PT1H", resolution_s=3600)
        target = Setpoint.objects.get(plan=plan, site=site, start=second).target_kw
        datapoints_ingest(series=series, rows=pd.Series([target], index=[pd.Timestamp(activation.start)]))
    check = services.delivery_check(activation_id=activation.pk, interval_start=second)
    assert check.metered_kw == pytest.approx(1500, abs=1e-3) and check.action == "within tolerance"


def test_plan_prepared_at_award_is_scaled_at_activation(world, sites) -> None:  # type: ignore[no-untyped-def]
    from apps.core import clock
    from apps.dispatch.models import PreparedPlan

    from .conftest import activate

    try:
        activation = activate(world, 1500)
        prepared = services.plan_prepare(event_id=activation.event_id)
        assert prepared is not None and prepared.reduction_kw == 1500
        assert services.plan_prepare(event_id=activation.event_id) == prepared  # idempotent
        activation.kw = 900  # the operator calls less than was awarded
        activation.save()
        plan = services.dispatch_activation(activation_id=activation.pk)
    finally:
        clock.replay_stop()
    assert "prepared at award" in plan.reason and PreparedPlan.objects.count() == 1
    for start in plan.setpoints.values_list("start", flat=True).distinct():
        rows = plan.setpoints.filter(start=start)
        assert sum(r.baseline_kw - r.target_kw for r in rows) == pytest.approx(900, abs=1e-3)
