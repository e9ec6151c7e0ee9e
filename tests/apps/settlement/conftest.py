"""A settled-event scenario with hand-computable figures.

Event: CAISO PDR peak shaving (15-min intervals, pay as clear, cap 1.0, penalty below 80 % at 200 per MWh), with a
capacity price of 20 per MW·h, Wednesday 2026-07-08 14:00–15:00 Los Angeles (21:00–22:00 UTC), 400 kW awarded per
interval at a clearing price of 100 per MWh.

Sites (active, CAISO NP15): "DC A" of owner A draws a flat 1000 kW, "DC B" of owner B a flat 500 kW on every day
before (so every baseline method gives 1000 and 500 kW); in the event A meters 700 kW and B 400 kW. The dispatch
plan asked A for 300 kW and B for 100 kW (shares 0.75 and 0.25 of the award). Owner B's contract fee is 33.33 %;
owner A has no contract (default 20 %). Zone price 100 per MWh, carbon 300 g/kWh, low-carbon share 40 %;
DC A's PV produces 100 kW during the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from apps.core import clock
from apps.dispatch.models import DispatchPlan, Setpoint
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.choices import BidStatus, EventStatus
from apps.markets.models import Activation, Award, AwardInterval, Bid, BidInterval, Event
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create
from tests.conftest import World
from tests.factories import OwnerContractFactory, SiteFactory, zone

START = pd.Timestamp("2026-07-08 21:00", tz="UTC")
END = START + pd.Timedelta(hours=1)
STEP = timedelta(minutes=15)
QUARTERS = pd.date_range(START, END, freq="15min", inclusive="left")


@dataclass
class Scenario:
    event: Event
    site_a: Site
    site_b: Site


def meter(site: Site, values: pd.Series) -> None:
    series, _ = timeseries_get_or_create(owner=site, quantity="site_power_kw", resolution="PT15M")
    datapoints_ingest(series=series, rows=values)


def flat_history(site: Site, kw: float, event_kw: float) -> None:
    """``kw`` every 15 min for 50 days before the event, ``event_kw`` in the event."""
    index = pd.date_range(START - pd.Timedelta(days=50), END, freq="15min", inclusive="left")
    values = pd.Series(kw, index=index)
    values[values.index >= START] = event_kw
    meter(site, values)


def zone_series(quantity: str, value: float) -> None:
    series, _ = timeseries_get_or_create(owner=zone(), quantity=quantity, resolution="PT1H")
    index = pd.date_range(
        START - pd.Timedelta(hours=2), END + pd.Timedelta(hours=2), freq="h", inclusive="left"
    )
    datapoints_ingest(series=series, rows=pd.Series(value, index=index))


def make_event(world: World, *, product_template: str = "caiso-pdr-peak", awarded_kw: float = 400.0) -> Event:
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE[product_template]
    )
    program.capacity_price_per_mw_h = 20.0
    program.save()
    event = Event.objects.create(
        program=program,
        start=START,
        end=END,
        requested_kw=awarded_kw,
        gate_closure_at=START - pd.Timedelta(hours=1),
        announced_at=START - pd.Timedelta(days=1),
        status=EventStatus.COMPLETED,
    )
    bid = Bid.objects.create(event=event, bidder=world.aggregator, status=BidStatus.ACCEPTED)
    award = Award.objects.create(bid=bid, clearing_price_per_mwh=100.0)
    for t in QUARTERS:
        BidInterval.objects.create(bid=bid, start=t, end=t + STEP, quantity_kw=awarded_kw, price_per_mwh=90.0)
        AwardInterval.objects.create(award=award, start=t, end=t + STEP, awarded_kw=awarded_kw)
    return event


def plan(event: Event, reductions: dict[Site, tuple[float, float]], **activation: object) -> Activation:
    act = Activation.objects.create(
        event=event,
        operator=event.program.operator,
        activation_id=f"act-{event.pk}",
        start=event.start,
        end=event.end,
        **activation,
    )
    dispatch = DispatchPlan.objects.create(
        activation=act, version=1, requested_kw=400, planned_kw=400, valid_from=event.start
    )
    for site, (baseline, target) in reductions.items():
        for t in QUARTERS:
            Setpoint.objects.create(
                plan=dispatch, site=site, start=t, end=t + STEP, baseline_kw=baseline, target_kw=target
            )
    return act


@pytest.fixture
def scenario(world: World) -> Scenario:
    site_a = SiteFactory(owner=world.owner_a, name="DC A", enrolment_status=EnrolmentStatus.ACTIVE)
    site_b = SiteFactory(owner=world.owner_b, name="DC B", enrolment_status=EnrolmentStatus.ACTIVE)
    OwnerContractFactory(owner=world.owner_b, fee_pct="33.33")
    flat_history(site_a, 1000.0, 700.0)
    flat_history(site_b, 500.0, 400.0)
    zone_series("price", 100.0)
    zone_series("carbon_intensity_g_per_kwh", 300.0)
    zone_series("low_carbon_pct", 40.0)
    pv, _ = timeseries_get_or_create(owner=site_a, quantity="pv_power_kw", resolution="PT15M")
    datapoints_ingest(series=pv, rows=pd.Series(100.0, index=QUARTERS))
    event = make_event(world)
    plan(event, {site_a: (1000.0, 700.0), site_b: (500.0, 400.0)}, kw=400)
    return Scenario(event, site_a, site_b)


@pytest.fixture
def travel():  # type: ignore[no-untyped-def]
    """``travel(to)`` freezes the product clock at ``to``; the wall clock is restored after."""

    def go(to) -> None:  # type: ignore[no-untyped-def]
        clock.replay_start(sim_start=pd.Timestamp(to).to_pydatetime(), speed=0)

    yield go
    clock.replay_stop()
