"""Bids sized against the settlement baseline the site should expect, not only against its load forecast.

The hand-worked case: a site with PUE 1.25 drew 1,000 kW from the grid (800 kW of IT) on every earlier day;
today its load is already down to 600 kW in the hours before the event (its day-ahead schedule moved work
away). The CAISO 10-in-10 baseline is then 1,000 kW × the day-of ratio 600 / 1,000, clipped to the ±20 % cap:
800 kW. Half its IT load is batch work it can defer, so it can hold 0.5 × 800 × 1.25 = 500 kW below its
forecast grid power of 1,000 kW, i.e. it can go down to 500 kW: against an 800 kW baseline that shows 300 kW.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.core import clock
from apps.forecasts.services import RunSpec, forecast_run_store
from apps.markets.baseline_estimate import expected_baseline_kw
from apps.markets.bidding import bid_plan
from apps.markets.choices import BaselineMethod
from apps.settlement.inputs import _forecast_input
from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity
from apps.telemetry.selectors import series_for
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create
from tests.conftest import World
from tests.factories import SiteFactory, WorkloadClassFactory

from .test_bidding import event_for


def _site_with_history(world: World, *, today_kw: float):  # type: ignore[no-untyped-def]
    site = SiteFactory(
        owner=world.owner_a,
        enrolment_status=EnrolmentStatus.ACTIVE,
        pue=1.25,
        it_capacity_kw=2000,
        grid_import_limit_kw=1e6,
    )
    WorkloadClassFactory(
        site=site, name="inference", kind=WorkloadKind.INFERENCE, share_pct=50, max_delay_h=None
    )
    WorkloadClassFactory(site=site, name="batch", kind=WorkloadKind.BATCH, share_pct=50, max_delay_h=12)
    now = clock.floor_to(clock.now(), timedelta(minutes=15))
    index = pd.date_range(now - timedelta(days=40), now, freq="15min", inclusive="left")
    recent = index >= now - timedelta(hours=3)
    grid = pd.Series(1000.0, index=index).where(~recent, today_kw)
    for quantity, values in ((Quantity.SITE_POWER_KW, grid), (Quantity.IT_POWER_KW, grid * 0 + 800.0)):
        series, _ = timeseries_get_or_create(owner=site, quantity=quantity, resolution="PT15M")
        datapoints_ingest(series=series, rows=values)
    return site


def test_expected_baseline_takes_the_capped_day_of_adjustment(world: World) -> None:
    site = _site_with_history(world, today_kw=600.0)
    event = event_for(world, hours=2, requested_kw=5000)
    expected = expected_baseline_kw(site=site, event=event, belief_time=clock.now())
    assert expected is not None and len(expected) == 8
    assert expected == pytest.approx(800.0)


def _forecast(series, issued_at, start, kw: float) -> None:  # type: ignore[no-untyped-def]
    index = pd.date_range(start, start + timedelta(hours=3), freq="15min", inclusive="left")
    values = pd.DataFrame({"p10": kw * 0.9, "p50": kw, "p90": kw * 1.1}, index=index)
    forecast_run_store(
        series=series, spec=RunSpec(model_name="test", model_version="1", issued_at=issued_at), values=values
    )


def test_forecast_settled_baseline_is_the_it_demand_forecast_settlement_uses(world: World) -> None:
    """A forecast-settled program's expected baseline is the IT-demand forecast known at gate closure × PUE, the
    very forecast settlement reads, and never the forecast of the IT power the site ran (which learnt its
    earlier curtailments)."""
    site = _site_with_history(world, today_kw=600.0)
    event = event_for(world, hours=2, requested_kw=5000, baseline_method=BaselineMethod.FORECAST)
    assert expected_baseline_kw(site=site, event=event, belief_time=clock.now()) is None  # none issued yet

    served = series_for(site=site, quantity=Quantity.IT_POWER_KW)
    demand, _ = timeseries_get_or_create(
        owner=site, quantity=Quantity.IT_POWER_KW, name=IT_DEMAND_SERIES, resolution="PT15M"
    )
    issued = event.gate_closure_at - timedelta(hours=1)
    _forecast(served, issued, event.start, 300.0)  # the curtailed served power
    _forecast(demand, issued, event.start, 800.0)
    _forecast(demand, event.gate_closure_at + timedelta(minutes=5), event.start, 5000.0)  # after gate closure

    expected = expected_baseline_kw(site=site, event=event, belief_time=event.start)
    assert expected is not None and len(expected) == 8
    assert expected == pytest.approx(800.0 * 1.25)
    settled = _forecast_input(site, event)
    assert settled is not None and settled.pue == 1.25
    assert settled.p50_kw.reindex(
        pd.DatetimeIndex(pd.date_range(event.start, event.end, freq="15min", inclusive="left"))
    ).to_numpy() == pytest.approx(800.0)


def test_bid_is_capped_at_what_the_meters_can_show(world: World) -> None:
    _site_with_history(world, today_kw=600.0)
    event = event_for(world, hours=2, requested_kw=5000, bid_granularity_kw=1, min_bid_kw=100)
    plan = bid_plan(event=event, belief_time=clock.now())
    assert plan is not None
    assert plan.envelope_kw == pytest.approx(500.0, rel=0.02)
    assert plan.quantity_kw == pytest.approx(300.0, abs=10.0)
    assert "deliverable against the expected baselines" in plan.method


def test_bid_keeps_the_envelope_when_the_baseline_is_not_lowered(world: World) -> None:
    _site_with_history(world, today_kw=1000.0)
    event = event_for(world, hours=2, requested_kw=5000, bid_granularity_kw=1, min_bid_kw=100)
    plan = bid_plan(event=event, belief_time=clock.now())
    assert plan is not None
    assert plan.quantity_kw == pytest.approx(plan.envelope_kw, abs=1.0)
