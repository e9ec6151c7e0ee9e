"""The market simulator: events on real-looking price peaks, run through the operator API end to end."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.core import clock
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.choices import BidStatus, EventStatus
from apps.markets.models import Activation, Bid, Event
from apps.simulation.market import plan_peak_events, plan_regulation_event
from apps.telemetry.services import datapoints_ingest
from tests.conftest import World
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory, ZoneSeriesFactory, zone


def prices_with_peak(peak_day: int) -> pd.Series:
    """Four September days of hourly prices with a mild evening hump (below the period's 90th percentile) and a
    two-hour spike on the evening of ``peak_day``."""
    index = pd.date_range("2022-09-01 07:00", periods=24 * 4, freq="h", tz="UTC")
    local_hour = index.tz_convert("America/Los_Angeles").hour
    values = 60 + 4 * np.exp(-((local_hour - 19) ** 2) / 8.0)
    spike = (index.tz_convert("America/Los_Angeles").day == peak_day) & np.isin(local_hour, [18, 19])
    return pd.Series(np.where(spike, 900.0, values), index=index)


@pytest.fixture
def market(world: World):  # type: ignore[no-untyped-def]
    datapoints_ingest(series=ZoneSeriesFactory(), rows=prices_with_peak(peak_day=2))
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
    )
    site = SiteFactory(
        owner=world.owner_a,
        enrolment_status=EnrolmentStatus.ACTIVE,
        it_capacity_kw=8000,
        grid_import_limit_kw=1e6,
    )
    WorkloadClassFactory(site=site, name="batch", kind=WorkloadKind.BATCH, share_pct=40, max_delay_h=6)
    BatteryFactory(site=site)
    return program


def test_peak_planning_picks_the_spike(market) -> None:  # type: ignore[no-untyped-def]
    planned = plan_peak_events(
        program=market, start_day=pd.Timestamp("2022-09-01"), days=3, requested_kw=5000
    )
    assert len(planned) == 1
    event = planned[0]
    assert event.start == datetime(2022, 9, 3, 1, tzinfo=UTC)  # 18:00 PDT on 2 September
    assert event.end == datetime(2022, 9, 3, 3, tzinfo=UTC)
    assert event.reference_price_per_mwh == 900.0
    assert event.announce_at == datetime(2022, 9, 1, 17, tzinfo=UTC)  # 10:00 PDT the day before


def test_simulate_market_runs_the_life_cycle_in_process(market, world: World) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command(
        "simulate_market",
        "--zone",
        "CAISO_NP15",
        "--start",
        "2022-09-01",
        "--days",
        "3",
        "--operator",
        "operator",
        "--requested-kw",
        "3000",
        stdout=out,
    )
    event = Event.objects.get()
    assert event.status == EventStatus.COMPLETED
    bid = Bid.objects.get(event=event)
    assert bid.status == BidStatus.ACCEPTED and bid.submitted_at < event.gate_closure_at
    awarded = bid.award.intervals.values_list("awarded_kw", flat=True)
    assert set(awarded) == {min(3000.0, bid.intervals.first().quantity_kw)}
    assert bid.award.clearing_price_per_mwh == 900.0
    activation = Activation.objects.get(event=event)
    assert activation.kw == max(awarded) and activation.status == "ended"
    assert "activated event" in out.getvalue()
    assert not clock.replay_running()


@pytest.mark.django_db(transaction=True)
def test_simulate_market_over_http(market, world: World, live_server) -> None:  # type: ignore[no-untyped-def]
    call_command(
        "simulate_market",
        "--zone",
        "CAISO_NP15",
        "--start",
        "2022-09-02",
        "--days",
        "1",
        "--operator",
        "operator",
        "--url",
        live_server.url,
        stdout=io.StringIO(),
    )
    event = Event.objects.get()
    assert event.status == EventStatus.COMPLETED
    assert Activation.objects.filter(event=event, activation_id=f"sim-{event.pk}").exists()


def test_regulation_event_replays_the_real_rega_signal(world: World) -> None:
    program = program_from_template(
        operator=world.operator, zone=zone("PJM_DOM"), template=CATALOGUE["pjm-regulation"]
    )
    planned = plan_regulation_event(program=program, day=pd.Timestamp("2022-09-06"), requested_kw=1000)
    assert planned.signal is not None and len(planned.signal) == 1800
    assert planned.signal_resolution_seconds == 2
    assert min(planned.signal) >= -1 and max(planned.signal) <= 1 and np.std(planned.signal) > 0.1
    assert planned.start == datetime(2022, 9, 6, 21, tzinfo=UTC)  # 17:00 EDT
