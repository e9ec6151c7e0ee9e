"""Dispatched and settled events, forecasts and setpoints for the dashboard's activity pages.

Built on the settlement tests' hand-computed scenario (tests/apps/settlement/conftest.py): CAISO PDR event
2026-07-08 21:00–22:00 UTC, 400 kW awarded at 100 per MWh; "DC A" (owner A) planned 1000 → 700 kW, "DC B"
(owner B) 500 → 400 kW; both deliver their share. Settled: revenue 48.00 split 36.00 / 12.00, owner A's payout
28.80 (20 % fee), owner B's 8.00 (33.33 % fee). The setpoints of A were acknowledged; the delivery to B failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from apps.dispatch.models import Delivery, DispatchPlan
from apps.forecasts.services import RunSpec, forecast_run_store
from apps.markets.models import Activation, Event
from apps.settlement.services import event_settle
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create
from tests.apps.settlement.conftest import START, flat_history, make_event, plan, zone_series
from tests.conftest import World
from tests.factories import OwnerContractFactory, SiteFactory

from .markets_data import event as plain_event
from .markets_data import program


@dataclass
class Activity:
    event: Event
    site_a: Site
    site_b: Site


def deliveries(activation: Activation, statuses: dict[Site, str]) -> DispatchPlan:
    """A delivery of the activation's plan to each site with the given status (plain rows)."""
    dispatch = DispatchPlan.objects.get(activation=activation)
    for site, status in statuses.items():
        Delivery.objects.create(
            plan=dispatch,
            site=site,
            channel="poll",
            status=status,
            idempotency_key=f"{dispatch.pk}-{site.pk}",
            attempts=1 if status == "acknowledged" else 5,
            delivered_at=activation.start if status == "acknowledged" else None,
            acknowledged_at=activation.start + timedelta(seconds=2) if status == "acknowledged" else None,
            last_error="" if status == "acknowledged" else "connection refused",
        )
    return dispatch


def settled_event(world: World) -> Activity:
    """The settlement scenario, dispatched (A acknowledged, B failed) and settled."""
    site_a = SiteFactory(owner=world.owner_a, name="DC A", enrolment_status=EnrolmentStatus.ACTIVE)
    site_b = SiteFactory(owner=world.owner_b, name="DC B", enrolment_status=EnrolmentStatus.ACTIVE)
    OwnerContractFactory(owner=world.owner_b, fee_pct="33.33")
    flat_history(site_a, 1000.0, 700.0)
    flat_history(site_b, 500.0, 400.0)
    zone_series("price", 100.0)
    zone_series("carbon_intensity_g_per_kwh", 300.0)
    zone_series("low_carbon_pct", 40.0)
    event = make_event(world)
    activation = plan(event, {site_a: (1000.0, 700.0), site_b: (500.0, 400.0)}, kw=400)
    deliveries(activation, {site_a: "acknowledged", site_b: "failed"})
    event_settle(event_id=event.pk)
    return Activity(event, site_a, site_b)


def dispatched_event(world: World, site: Site) -> Event:
    """An active event with one plan version and an acknowledged delivery to ``site`` (not settled)."""
    event = plain_event(program(world.operator), hours_from_now=-0.5, status="active", kw=500)
    activation = Activation.objects.create(
        event=event, operator=world.operator, activation_id=f"a-{event.pk}", start=event.start, kw=500
    )
    DispatchPlan.objects.create(
        activation=activation, version=1, requested_kw=500, planned_kw=500, valid_from=event.start
    )
    deliveries(activation, {site: "acknowledged"})
    return event


#: The IT load of :func:`trending_load`: a daily cycle plus 10 kW more every day, so the week-ago baseline is off
#: by 70 kW and persistence (two days back for a day-ahead forecast) by 20 kW; the stored forecast by +5 kW.
TREND_KW_PER_DAY = 10.0
FORECAST_BIAS_KW = 5.0


def trending_load(site: Site, *, days: int = 21, forecast_days: int = 2, name: str = "") -> pd.DatetimeIndex:
    """Metered IT load of ``site`` for ``days`` days ending at :data:`START`'s midnight, and day-ahead forecasts
    (issued at 10:00 UTC the day before) of its last ``forecast_days`` days, in the IT power series named
    ``name``. Returns the forecast intervals."""
    end = START.normalize()
    index = pd.date_range(end - pd.Timedelta(days=days), end, freq="15min", inclusive="left")
    day = np.floor((index - index[0]) / pd.Timedelta(days=1)).to_numpy()
    hour = (index.hour + index.minute / 60).to_numpy()
    load = 5000 + 800 * np.sin(hour / 24 * 2 * np.pi) + TREND_KW_PER_DAY * day
    series, _ = timeseries_get_or_create(owner=site, quantity="it_power_kw", resolution="PT15M", name=name)
    datapoints_ingest(series=series, rows=pd.Series(load, index=index))
    actual = pd.Series(load, index=index)
    forecast_index = index[index >= end - pd.Timedelta(days=forecast_days)]
    for first in pd.date_range(forecast_index[0], end, freq="D", inclusive="left"):
        target = forecast_index[(forecast_index >= first) & (forecast_index < first + pd.Timedelta(days=1))]
        p50 = actual[target] + FORECAST_BIAS_KW
        values = pd.DataFrame({"p10": p50 - 200, "p50": p50, "p90": p50 + 200}, index=target)
        spec = RunSpec(model_name="gbm_load", model_version="1", issued_at=first - pd.Timedelta(hours=14))
        forecast_run_store(series=series, spec=spec, values=values)
    return forecast_index
