"""The day-ahead schedule: the portfolio's cost-optimal day, stored once; activations take precedence."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from apps.core import clock
from apps.dispatch import selectors, services
from apps.dispatch.choices import PlanKind
from apps.dispatch.models import DispatchPlan
from apps.telemetry.models import TimeSeries
from apps.telemetry.services import datapoints_ingest


def test_schedule_is_cheaper_than_running_as_it_arrives(activation, sites) -> None:  # type: ignore[no-untyped-def]
    day = clock.floor_to(activation.start, timedelta(days=1))
    index = pd.date_range(day, periods=48, freq="h")
    hour = index.hour.to_numpy()
    prices = TimeSeries.objects.get(
        market_zone_id="CAISO_NP15", quantity="price", name=""
    )  # made by the fixture
    datapoints_ingest(
        series=prices, rows=pd.Series(np.where((hour >= 16) & (hour < 21), 300.0, 40.0), index=index)
    )
    schedule = services.schedule_day(start=day)
    assert schedule.kind == PlanKind.SCHEDULE and schedule.activation is None
    assert schedule.setpoints.count() == 96 * len(sites)
    assert services.schedule_day(start=day) == schedule  # once per day
    cost, baseline = schedule.inputs["cost"]["energy"], schedule.inputs["baseline_cost"]["energy"]
    assert cost < baseline
    assert "planned cost saving" in schedule.reason
    # during the activation the activation plan's setpoint wins; outside it, the schedule's
    plan = services.dispatch_activation(activation_id=activation.pk)
    inside = selectors.setpoint_at(site_id=sites[0].pk, moment=activation.start)
    outside = selectors.setpoint_at(site_id=sites[0].pk, moment=activation.event.end + timedelta(hours=1))
    assert inside.plan == plan and outside.plan == schedule
    assert DispatchPlan.objects.filter(kind=PlanKind.SCHEDULE).count() == 1


def test_no_active_site_no_schedule(db) -> None:  # type: ignore[no-untyped-def]
    assert services.schedule_day(start=pd.Timestamp("2022-09-06", tz="UTC").to_pydatetime()) is None
