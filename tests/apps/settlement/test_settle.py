"""Settling an event: the scenario's figures by hand (see conftest), versioning, savings, the due-list and task."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus
from apps.core.errors import ConflictError
from apps.forecasts.services import RunSpec, forecast_run_store
from apps.markets.choices import EventStatus
from apps.markets.models import Activation
from apps.settlement import services, tasks
from apps.settlement.choices import RunStatus
from apps.settlement.models import SettlementRun, SiteSettlement
from apps.telemetry.models import DataPoint
from apps.telemetry.services import timeseries_get_or_create
from tests.factories import SiteFactory

from .conftest import END, QUARTERS, START, Scenario, flat_history, make_event, meter, plan

D = Decimal


@pytest.mark.django_db
def test_settlement_figures_match_the_hand_computation(scenario: Scenario) -> None:
    run, created = services.event_settle(event_id=scenario.event.pk)
    assert created and run.version == 1 and run.status == RunStatus.CURRENT
    assert run.currency == "USD" and run.metering_complete
    # per interval: delivered 300 + 100 = 400 of 400 → PF 1; capacity 20 × 0.4 × 0.25 = 2.00; energy 100 × 0.4
    # × 0.25 = 10.00; four intervals
    rows = list(run.intervals.order_by("start"))
    assert [r.start for r in rows] == list(QUARTERS)
    assert all(r.baseline_kw == pytest.approx(1500.0) and r.metered_kw == pytest.approx(1100.0) for r in rows)
    assert all(
        r.delivered_kw == pytest.approx(400.0) and r.performance_factor == pytest.approx(1.0) for r in rows
    )
    assert (run.capacity_payment, run.energy_payment, run.penalty) == (D("8.00"), D("40.00"), D("0.00"))
    assert run.net_revenue == D("48.00")
    assert run.awarded_kwh == pytest.approx(400.0) and run.delivered_kwh == pytest.approx(
        400.0
    )  # 400 kW × 1 h

    a = SiteSettlement.objects.get(run=run, site=scenario.site_a)
    b = SiteSettlement.objects.get(run=run, site=scenario.site_b)
    # award split 300 : 100 by planned reduction; each delivered its share
    assert [i.awarded_kw for i in a.intervals.all()] == pytest.approx([300.0] * 4)
    assert [i.baseline_kw for i in b.intervals.all()] == pytest.approx([500.0] * 4)
    assert (a.capacity_payment, a.energy_payment) == (D("6.00"), D("30.00"))
    assert (b.capacity_payment, b.energy_payment) == (D("2.00"), D("10.00"))
    # revenue 48.00 split by delivered energy 300 : 100 kWh → 36.00 / 12.00; fees 20 % → 7.20, 33.33 % → 4.00
    assert (a.delivered_kwh, b.delivered_kwh) == pytest.approx((300.0, 100.0))
    assert (a.revenue_share, a.fee_pct, a.fee, a.owner_payout) == (
        D("36.00"),
        D("20.00"),
        D("7.20"),
        D("28.80"),
    )
    assert (b.revenue_share, b.fee_pct, b.fee, b.owner_payout) == (
        D("12.00"),
        D("33.33"),
        D("4.00"),
        D("8.00"),
    )
    assert run.aggregator_fees == D("11.20")
    assert a.month == date(2026, 7, 1)
    assert a.baseline_detail["method"] == "10_of_10" and len(a.baseline_detail["days"]) == 10


@pytest.mark.django_db
def test_savings_cost_carbon_pv_and_low_carbon_shares(scenario: Scenario) -> None:
    run, _ = services.event_settle(event_id=scenario.event.pk)
    a = SiteSettlement.objects.get(run=run, site=scenario.site_a)
    # 1 h at 700 kW vs 1000 kW, 100 per MWh → 70.00 vs 100.00; 300 g/kWh → 210 vs 300 kg
    assert (a.metered_kwh, a.baseline_kwh) == pytest.approx((700.0, 1000.0))
    assert (a.metered_cost, a.baseline_cost, a.cost_saving) == (D("70.00"), D("100.00"), D("30.00"))
    assert (a.metered_emissions_kg, a.baseline_emissions_kg) == pytest.approx((210.0, 300.0))
    assert a.emissions_saving_kg == pytest.approx(90.0)
    # consumption 700 kWh import + 100 kWh PV: PV 12.5 %; low-carbon 40 % of 700 = 280 → 35 %
    assert a.pv_kwh == pytest.approx(100.0)
    assert a.pv_share_pct == pytest.approx(12.5)
    assert a.low_carbon_share_pct == pytest.approx(35.0)
    b = SiteSettlement.objects.get(run=run, site=scenario.site_b)
    assert b.pv_share_pct == 0.0 and b.low_carbon_share_pct == pytest.approx(40.0)


@pytest.mark.django_db
def test_settling_unchanged_inputs_creates_nothing(scenario: Scenario) -> None:
    first, created = services.event_settle(event_id=scenario.event.pk)
    again, created_again = services.event_settle(event_id=scenario.event.pk)
    assert created and not created_again
    assert again.pk == first.pk
    assert SettlementRun.objects.filter(event=scenario.event).count() == 1
    assert SiteSettlement.objects.filter(run__event=scenario.event).count() == 2


@pytest.mark.django_db
def test_late_meter_data_makes_version_two_and_keeps_version_one(scenario: Scenario) -> None:
    series, _ = timeseries_get_or_create(owner=scenario.site_b, quantity="site_power_kw", resolution="PT15M")
    DataPoint.objects.filter(series=series, start=QUARTERS[-1]).delete()
    v1, _ = services.event_settle(event_id=scenario.event.pk)
    # last interval: only A's 300 kW shown of 400 → PF 0.75 < 0.8 → penalty 200 × 0.02 MW × 0.25 h = 1.00,
    # energy 100 × 0.3 × 0.25 = 7.50; net 8.00 + 37.50 − 1.00 = 44.50 split 300 : 75 kWh → 35.60 / 8.90
    assert not v1.metering_complete
    assert (v1.energy_payment, v1.penalty, v1.net_revenue) == (D("37.50"), D("1.00"), D("44.50"))
    assert SiteSettlement.objects.get(run=v1, site=scenario.site_b).revenue_share == D("8.90")

    meter(scenario.site_b, pd.Series([400.0], index=QUARTERS[-1:]))  # the reading arrives late
    v2, created = services.event_settle(event_id=scenario.event.pk)
    assert created and v2.version == 2 and v2.net_revenue == D("48.00")
    v1.refresh_from_db()
    assert v1.status == RunStatus.SUPERSEDED and v1.superseded_at is not None
    assert v1.net_revenue == D("44.50")  # kept for audit, unchanged
    assert SettlementRun.objects.filter(event=scenario.event).count() == 2
    current = SiteSettlement.objects.filter(run__status=RunStatus.CURRENT, site=scenario.site_b).get()
    assert current.run_id == v2.pk and current.revenue_share == D("12.00")


@pytest.mark.django_db
def test_a_corrected_reading_moves_the_revenue_split(scenario: Scenario) -> None:
    services.event_settle(event_id=scenario.event.pk)
    meter(scenario.site_b, pd.Series([300.0], index=QUARTERS[-1:]))
    v2, created = services.event_settle(event_id=scenario.event.pk)
    # B delivers 100, 100, 100, 200 kW → 125 kWh; portfolio over-delivery in the last interval is capped, so the
    # revenue stays 48.00, split 300 : 125 → 4800 × 300 / 425 = 3388.2… cents → 33.88 and 14.12
    assert created and v2.net_revenue == D("48.00")
    shares = {s.site_id: s.revenue_share for s in v2.sites.all()}
    assert shares == {scenario.site_a.pk: D("33.88"), scenario.site_b.pk: D("14.12")}


@pytest.mark.django_db
def test_cancelled_unfinished_or_unawarded_events_are_refused(world, scenario: Scenario, travel) -> None:  # type: ignore[no-untyped-def]
    travel(START + pd.Timedelta(minutes=30))
    with pytest.raises(ConflictError, match="not ended"):
        services.event_settle(event_id=scenario.event.pk)
    travel(END + pd.Timedelta(hours=1))
    type(scenario.event).objects.filter(pk=scenario.event.pk).update(status=EventStatus.CANCELLED)
    with pytest.raises(ConflictError, match="cancelled"):
        services.event_settle(event_id=scenario.event.pk)
    other = make_event(world)
    other.bids.get().award.delete()
    with pytest.raises(ConflictError, match="no award"):
        services.event_settle(event_id=other.pk)


@pytest.mark.django_db
def test_due_list_waits_for_metering_then_the_task_settles(scenario: Scenario, travel) -> None:  # type: ignore[no-untyped-def]
    series, _ = timeseries_get_or_create(owner=scenario.site_b, quantity="site_power_kw", resolution="PT15M")
    DataPoint.objects.filter(series=series, start=QUARTERS[-1]).delete()
    travel(END + pd.Timedelta(hours=1))
    assert services.events_due_for_settlement() == []  # B's last reading is missing, grace not over
    travel(END + services.METERING_GRACE)
    assert services.events_due_for_settlement() == [scenario.event.pk]  # grace expired
    travel(END + pd.Timedelta(hours=1))
    meter(scenario.site_b, pd.Series([400.0], index=QUARTERS[-1:]))
    assert services.events_due_for_settlement() == [scenario.event.pk]  # complete now
    assert tasks.settle_event(scenario.event.pk) == 1
    assert tasks.settle_event(scenario.event.pk) == 1  # idempotent
    travel(END + services.RESETTLE_WINDOW + pd.Timedelta(hours=1))
    assert services.events_due_for_settlement() == []


@pytest.mark.django_db
def test_forecast_baseline_uses_the_forecast_known_at_gate_closure(world, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    event = make_event(world)
    program = event.program
    program.baseline_method = "forecast"
    program.save()
    plan(event, {scenario.site_a: (1000.0, 700.0)}, kw=400)
    type(event).objects.filter(pk=event.pk).update(program=program)
    series, _ = timeseries_get_or_create(owner=scenario.site_a, quantity="site_power_kw", resolution="PT15M")

    def store(issued: pd.Timestamp, kw: float) -> None:
        frame = pd.DataFrame({"p10": kw, "p50": kw, "p90": kw}, index=QUARTERS)
        spec = RunSpec(model_name="test", model_version="1", issued_at=issued.to_pydatetime())
        forecast_run_store(series=series, spec=spec, values=frame)

    store(event.gate_closure_at - pd.Timedelta(hours=1), 900.0)  # known at gate closure
    store(event.gate_closure_at + pd.Timedelta(minutes=5), 5000.0)  # after gate closure: must not count
    run, _ = services.event_settle(event_id=event.pk)
    a = run.sites.get(site=scenario.site_a)
    # baseline 900, metered 700 → delivered 200 kW of 400 awarded
    assert [i.baseline_kw for i in a.intervals.all()] == pytest.approx([900.0] * 4)
    assert a.baseline_detail["method"] == "forecast"
    assert run.performance_factor == pytest.approx(0.5)


@pytest.mark.django_db
def test_a_partial_activation_is_judged_only_while_called(scenario: Scenario) -> None:
    Activation.objects.filter(event=scenario.event).update(start=START + pd.Timedelta(minutes=30))
    run, _ = services.event_settle(event_id=scenario.event.pk)
    # called 0, 0, 400, 400 kW: capacity 4 × 2.00 = 8.00 on the award; energy 2 × 10.00 = 20.00; no penalty for
    # the uncalled half-hour; net 28.00 split by delivered energy while called 150 : 50 kWh → 21.00 / 7.00
    assert [r.called_kw for r in run.intervals.order_by("start")] == pytest.approx([0, 0, 400, 400])
    assert (run.capacity_payment, run.energy_payment, run.penalty) == (D("8.00"), D("20.00"), D("0.00"))
    assert run.called_kwh == pytest.approx(200.0) and run.performance_factor == pytest.approx(1.0)
    shares = {s.site_id: (s.delivered_kwh, s.revenue_share) for s in run.sites.all()}
    assert shares == {
        scenario.site_a.pk: (pytest.approx(150.0), D("21.00")),
        scenario.site_b.pk: (pytest.approx(50.0), D("7.00")),
    }


@pytest.mark.django_db
def test_an_event_never_activated_pays_capacity_split_among_the_zones_sites(world) -> None:  # type: ignore[no-untyped-def]
    site_a = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE)
    site_b = SiteFactory(owner=world.owner_b, enrolment_status=EnrolmentStatus.ACTIVE)
    SiteFactory(owner=world.owner_b, enrolment_status=EnrolmentStatus.DRAFT)  # not in the portfolio
    flat_history(site_a, 1000.0, 1000.0)
    flat_history(site_b, 500.0, 500.0)
    event = make_event(world)
    run, _ = services.event_settle(event_id=event.pk)
    # no call: capacity 8.00 only, no penalty although nothing was delivered; no dispatch plan → equal shares
    assert (run.capacity_payment, run.energy_payment, run.penalty) == (D("8.00"), D("0.00"), D("0.00"))
    assert run.performance_factor is None
    rows = {s.site_id: (s.awarded_kwh, s.revenue_share, s.fee, s.owner_payout) for s in run.sites.all()}
    # 200 kW each for 1 h; 4.00 each; owner A pays 20 % (0.80), owner B has no contract here either (0.80)
    assert rows == {
        site_a.pk: (pytest.approx(200.0), D("4.00"), D("0.80"), D("3.20")),
        site_b.pk: (pytest.approx(200.0), D("4.00"), D("0.80"), D("3.20")),
    }
