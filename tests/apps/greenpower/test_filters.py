"""Filtersets of the green-power list endpoints: each filter narrows the list, and never widens it beyond what the
caller may see (owner B's contracts and work units stay invisible to owner A whatever the filter)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from apps.greenpower.models import GreenContract, WorkDone, WorkUnitDefinition
from tests.conftest import World
from tests.factories import SiteFactory

from .conftest import metered_site

pytestmark = pytest.mark.django_db

CONTRACTS = "/api/v1/green/contracts/"
UNITS = "/api/v1/green/work-units/"


def _ids(client, url: str) -> set[int]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def contracts(world: World):  # type: ignore[no-untyped-def]
    """Owner A: PPA A1 (A1's zone, 2022, lists no site) and a certificate in ERCOT_HUB for 2025-2026 that lists
    site A1; owner B: PPA B1 in the same zone as PPA A1."""
    a = metered_site(world.owner_a)
    b = metered_site(world.owner_b, name="B1")
    later = GreenContract.objects.create(
        owner=world.owner_a,
        name="Certificate 2025",
        kind="certificates",
        zone_id="ERCOT_HUB",
        price_per_mwh=5,
        currency="USD",
        term_start=date(2025, 1, 1),
        term_end=date(2026, 12, 31),
        hourly_profile_kwh=[1.0] * 24,
    )
    later.sites.set([a.site])
    return a, b, later


def test_contracts_narrow_by_zone_site_and_term(world: World, api_as, contracts) -> None:  # type: ignore[no-untyped-def]
    a, _, later = contracts
    owner = api_as("owner_a")
    zone = a.site.market_zone_id
    assert _ids(owner, CONTRACTS) == {a.contract.pk, later.pk}
    assert _ids(owner, f"{CONTRACTS}?zone={zone}") == {a.contract.pk}
    assert _ids(owner, f"{CONTRACTS}?site={a.site.pk}") == {later.pk}
    assert _ids(owner, f"{CONTRACTS}?kind=certificates") == {later.pk}
    assert _ids(owner, f"{CONTRACTS}?active_on=2022-06-01") == {a.contract.pk}
    assert _ids(owner, f"{CONTRACTS}?active_on=2024-06-01") == set()
    assert _ids(owner, f"{CONTRACTS}?term_from=2024-01-01") == {later.pk}
    assert _ids(owner, f"{CONTRACTS}?term_to=2023-01-01") == {a.contract.pk}
    assert _ids(owner, f"{CONTRACTS}?term_from=2022-12-31&term_to=2025-01-01") == {a.contract.pk, later.pk}


def test_contract_filters_stay_inside_the_callers_scope(world: World, api_as, contracts) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = contracts
    zone = a.site.market_zone_id
    assert b.site.market_zone_id == zone
    assert _ids(api_as("owner_a"), f"{CONTRACTS}?zone={zone}") == {a.contract.pk}
    assert _ids(api_as("owner_a"), f"{CONTRACTS}?site={b.site.pk}") == set()
    assert _ids(api_as("owner_b"), f"{CONTRACTS}?zone={zone}") == {b.contract.pk}
    assert _ids(api_as("staff"), f"{CONTRACTS}?zone={zone}") == {a.contract.pk, b.contract.pk}


def test_contract_filter_refuses_a_bad_date_naming_the_field(world: World, api_as, contracts) -> None:  # type: ignore[no-untyped-def]
    response = api_as("owner_a").get(f"{CONTRACTS}?active_on=soon")
    assert response.status_code == 400
    assert "active_on" in response.content.decode()


@pytest.fixture
def units(world: World):  # type: ignore[no-untyped-def]
    """Work units of A1 and B1 (work done 2022-09-01 00:00-03:00 UTC) and of owner A's site A3, which reported work
    on 2022-08-01 and 2022-10-01 only."""
    a = metered_site(world.owner_a)
    b = metered_site(world.owner_b, name="B1")
    site = SiteFactory(owner=world.owner_a, name="A3")
    unit = WorkUnitDefinition.objects.create(site=site, name="jobs")
    for t in ("2022-08-01T00:00:00Z", "2022-10-01T00:00:00Z"):
        WorkDone.objects.create(definition=unit, start=pd.Timestamp(t).to_pydatetime(), work_units=3)
    return a, b, unit


def test_work_units_narrow_by_site_and_window(world: World, api_as, units) -> None:  # type: ignore[no-untyped-def]
    a, _, a3 = units
    owner = api_as("owner_a")
    assert _ids(owner, UNITS) == {a.work_unit.pk, a3.pk}
    assert _ids(owner, f"{UNITS}?site={a.site.pk}") == {a.work_unit.pk}
    window = "window_start=2022-09-01T02:00:00Z&window_end=2022-09-01T03:00:00Z"
    assert _ids(owner, f"{UNITS}?{window}") == {a.work_unit.pk}
    # half-open: work done at 00:00 is not before an end of 00:00
    assert _ids(owner, f"{UNITS}?window_end=2022-09-01T00:00:00Z") == {a3.pk}
    assert _ids(owner, f"{UNITS}?window_start=2022-09-15T00:00:00Z") == {a3.pk}
    # one work-done row must lie inside the whole window (A3 has rows before and after it, none inside)
    assert _ids(owner, f"{UNITS}?window_start=2022-09-10T00:00:00Z&window_end=2022-09-20T00:00:00Z") == set()


def test_work_unit_filters_stay_inside_the_callers_scope(world: World, api_as, units) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = units
    window = "window_start=2022-09-01T00:00:00Z&window_end=2022-09-02T00:00:00Z"
    assert _ids(api_as("owner_a"), f"{UNITS}?site={b.site.pk}") == set()
    assert _ids(api_as("owner_a"), f"{UNITS}?{window}") == {a.work_unit.pk}
    assert _ids(api_as("staff"), f"{UNITS}?{window}") == {a.work_unit.pk, b.work_unit.pk}
