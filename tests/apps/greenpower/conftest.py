"""Fixtures of the green-power tests: a site with metered telemetry over three UTC hours (values chosen so that the
ledger can be checked by hand), its zone's grid mix, a PPA and a work unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest

from apps.assets.models import Site
from apps.core.models import MarketZone
from apps.greenpower.models import GreenContract, WorkDone, WorkUnitDefinition
from apps.telemetry.services import datapoints_ingest, timeseries_create
from tests.conftest import World
from tests.factories import SiteFactory

T0 = pd.Timestamp("2022-09-01T00:00:00Z")
HOURS = pd.date_range(T0, periods=3, freq="h")


def ingest(owner, quantity: str, values: list[float]) -> None:  # type: ignore[no-untyped-def]
    series = timeseries_create(principal=None, owner=owner, quantity=quantity, resolution="PT1H")
    datapoints_ingest(series=series, rows=pd.Series(values, index=HOURS[: len(values)]))


@dataclass
class Metered:
    site: Site
    contract: GreenContract
    work_unit: WorkUnitDefinition


def metered_site(owner, *, name: str = "A1") -> Metered:  # type: ignore[no-untyped-def]
    """Hours 0-2: grid import 100, 100, 50 kW; PV 0, 50, 0 kW; IT 80, 110, 40 kW; the zone's low-carbon share 50,
    20, 40 % and carbon intensity 200 g/kWh; a PPA of 30, 120, 0 kWh in those UTC hours; 10, 20, 5 GPU-hours."""
    site = SiteFactory(owner=owner, name=name)
    ingest(site, "site_power_kw", [100, 100, 50])
    ingest(site, "pv_power_kw", [0, 50, 0])
    ingest(site, "it_power_kw", [80, 110, 40])
    zone = site.market_zone
    if not zone.time_series.filter(quantity="low_carbon_pct").exists():
        ingest(zone, "low_carbon_pct", [50, 20, 40])
        ingest(zone, "carbon_intensity_g_per_kwh", [200, 200, 200])
    profile = [0.0] * 24
    profile[0], profile[1] = 30.0, 120.0
    contract = GreenContract.objects.create(
        owner=owner,
        name=f"PPA {name}",
        kind="ppa",
        zone=zone,
        price_per_mwh=55,
        currency=zone.currency,
        term_start=date(2022, 1, 1),
        term_end=date(2022, 12, 31),
        hourly_profile_kwh=profile,
    )
    unit = WorkUnitDefinition.objects.create(site=site, name="GPU-hours", full_rate_per_hour=100)
    for t, v in zip(HOURS, [10, 20, 5], strict=True):
        WorkDone.objects.create(definition=unit, start=t.to_pydatetime(), work_units=v)
    return Metered(site, contract, unit)


@pytest.fixture
def metered_a(world: World) -> Metered:
    return metered_site(world.owner_a)


def zone_code() -> str:
    return MarketZone.objects.order_by("code").first().code  # type: ignore[union-attr]
