"""Bid construction from the flexibility envelope: every program rule respected on generated portfolios and
rules; price from the measured opportunity cost; drafts submitted in time; through a real worker in CI."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.core import clock
from apps.markets import services
from apps.markets.bidding import MARGIN_PER_MWH, bid_plan
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.choices import BidStatus
from apps.markets.models import Bid, Event
from apps.markets.rules import bid_errors
from apps.telemetry.services import datapoints_ingest
from tests.conftest import World, require_service
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory, ZoneSeriesFactory, zone
from tests.worker import celery_worker

from .conftest import next_slot


def portfolio(world: World, rng: np.random.Generator, n_sites: int) -> None:
    for _ in range(n_sites):
        site = SiteFactory(
            owner=world.owner_a,
            enrolment_status=EnrolmentStatus.ACTIVE,
            it_capacity_kw=float(rng.integers(500, 20000)),
            pue=float(rng.uniform(1.1, 1.6)),
            grid_import_limit_kw=1e6,
        )
        WorkloadClassFactory(
            site=site, name="inference", kind=WorkloadKind.INFERENCE, share_pct=40, max_delay_h=None
        )
        WorkloadClassFactory(
            site=site,
            name="batch",
            kind=WorkloadKind.BATCH,
            share_pct=float(rng.integers(10, 50)),
            max_delay_h=float(rng.integers(1, 12)),
        )
        if rng.random() < 0.7:
            kwh = float(rng.integers(100, 5000))
            BatteryFactory(
                site=site,
                energy_capacity_kwh=kwh,
                max_charge_kw=kwh / 2,
                max_discharge_kw=kwh / 2,
                soc_min_kwh=0.1 * kwh,
                soc_max_kwh=kwh,
                backup_reserve_kwh=0.3 * kwh,
            )


def event_for(world: World, *, hours: int = 2, requested_kw: float = 50_000, **rules: float) -> Event:
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
    )
    for key, value in rules.items():
        setattr(program, key, value)
    program.save()
    start = clock.floor_to(next_slot(4), timedelta(hours=1))  # hourly prices below line up with the event
    return services.event_announce(
        principal=_operator(world),
        program=program,
        start=start,
        end=start + timedelta(hours=hours),
        requested_kw=requested_kw,
    )


def _operator(world: World):  # type: ignore[no-untyped-def]
    from apps.accounts.principal import principal_for

    return principal_for(world.users["operator"])


@pytest.mark.parametrize("seed", range(6))
def test_bid_respects_every_rule_on_generated_portfolios(world: World, seed: int) -> None:
    rng = np.random.default_rng(seed)
    portfolio(world, rng, n_sites=int(rng.integers(1, 5)))
    rules = {
        "min_bid_kw": float(rng.choice([100, 1000, 5000])),
        "bid_granularity_kw": float(rng.choice([1, 10, 100])),
        "price_cap_per_mwh": float(rng.choice([20, 1000])),
    }
    event = event_for(
        world, hours=int(rng.integers(1, 4)), requested_kw=float(rng.integers(500, 30000)), **rules
    )
    plan = bid_plan(event=event, belief_time=clock.now())
    if plan is None:
        return  # nothing holdable above the minimum: no bid is the rule-abiding answer
    rules_obj = services.rules_of(event.program)
    assert bid_errors(rules_obj, plan.offers, event_start=event.start, event_end=event.end) == {}
    assert len(plan.offers) == (event.end - event.start) / timedelta(minutes=15)
    q = plan.quantity_kw
    assert rules["min_bid_kw"] <= q <= min(plan.envelope_kw, event.requested_kw) + 1e-6
    assert abs(q / rules["bid_granularity_kw"] - round(q / rules["bid_granularity_kw"])) < 1e-9
    assert min(MARGIN_PER_MWH, rules["price_cap_per_mwh"]) <= plan.price_per_mwh <= rules["price_cap_per_mwh"]


def test_no_bid_below_minimum(world: World) -> None:
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE, it_capacity_kw=100)
    WorkloadClassFactory(site=site, share_pct=20, max_delay_h=2)
    event = event_for(world, min_bid_kw=5000)
    assert bid_plan(event=event, belief_time=clock.now()) is None
    assert services.bid_prepare(event_id=event.pk) is None
    assert not Bid.objects.exists()


def test_price_reflects_opportunity_cost(world: World) -> None:
    """Deferring out of an expensive event into cheap hours is what the cost-optimal schedule does anyway: the
    reduction costs nothing extra and the bid asks only the margin. With a flat price, a battery-only reduction
    costs its losses and degradation: the bid asks more."""
    site = SiteFactory(
        owner=world.owner_a,
        enrolment_status=EnrolmentStatus.ACTIVE,
        it_capacity_kw=2000,
        grid_import_limit_kw=1e6,
    )
    WorkloadClassFactory(site=site, name="batch", kind=WorkloadKind.BATCH, share_pct=50, max_delay_h=6)
    event = event_for(world, hours=1, requested_kw=500)
    prices = ZoneSeriesFactory()
    index = pd.date_range(event.start - timedelta(hours=1), periods=16, freq="h")
    datapoints_ingest(series=prices, rows=pd.Series(np.where(index < event.end, 500.0, 20.0), index=index))
    plan = bid_plan(event=event, belief_time=clock.now())
    assert plan is not None and plan.opportunity_cost_per_mwh is not None
    assert abs(plan.opportunity_cost_per_mwh) < 1e-6  # the optimal schedule already leaves the peak
    assert plan.price_per_mwh == MARGIN_PER_MWH

    site.workload_classes.all().delete()
    WorkloadClassFactory(
        site=site, name="inference", kind=WorkloadKind.INFERENCE, share_pct=100, max_delay_h=None
    )
    BatteryFactory(
        site=site,
        energy_capacity_kwh=2000,
        max_charge_kw=1000,
        max_discharge_kw=1000,
        soc_min_kwh=0,
        soc_max_kwh=2000,
        backup_reserve_kwh=0,
        degradation_cost_per_mwh=50,
    )
    datapoints_ingest(series=prices, rows=pd.Series(100.0, index=index))  # upsert: the same hours, flat
    Bid.objects.all().delete()
    plan = bid_plan(event=event, belief_time=clock.now())
    assert plan is not None and plan.opportunity_cost_per_mwh is not None
    # recharging the same energy costs 100/MWh × (1/0.9025 − 1) in losses plus 50/MWh degradation
    assert plan.opportunity_cost_per_mwh > 50
    assert plan.price_per_mwh > MARGIN_PER_MWH


def test_draft_reviewed_then_submitted_before_gate_closure(world: World, travel) -> None:  # type: ignore[no-untyped-def]
    portfolio(world, np.random.default_rng(1), n_sites=2)
    event = event_for(world, requested_kw=1000)
    travel(event.gate_closure_at - timedelta(minutes=20))
    assert services.events_needing_bids() == [event.pk]
    bid = services.bid_prepare(event_id=event.pk)
    assert bid is not None and bid.status == BidStatus.DRAFT
    assert services.bid_prepare(event_id=event.pk) == bid  # idempotent
    assert services.events_needing_bids() == []
    assert services.bids_submit_due() == 0  # still in the review window
    travel(event.gate_closure_at - timedelta(minutes=4))
    assert services.bids_submit_due() == 1
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED and bid.submitted_at is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_bidding_task_through_a_real_worker(world: World) -> None:
    require_service("REDIS_URL")
    from apps.markets.tasks import prepare_bid

    portfolio(world, np.random.default_rng(2), n_sites=2)
    event = event_for(world, requested_kw=1000)
    with celery_worker():
        bid_id = prepare_bid.delay(event.pk).get(timeout=120)
        again = prepare_bid.delay(event.pk).get(timeout=60)
    assert bid_id is not None and again == bid_id
    bid = Bid.objects.get(pk=bid_id)
    assert bid.intervals.count() == 8 and "envelope" in bid.method
