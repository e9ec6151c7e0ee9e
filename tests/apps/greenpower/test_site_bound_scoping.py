"""A site-bound credential (the VEN of one site) sees its own site's green data only: the contracts that site may
match, not the rest of its organisation's contracts; the organisation's people still see them all."""

from __future__ import annotations

from datetime import date

import pytest

from apps.assets.models import Site
from apps.greenpower.models import GreenContract
from tests.conftest import World, site_ven_token
from tests.factories import SiteFactory, zone

pytestmark = pytest.mark.django_db


def contract(world: World, name: str, zone_code: str, sites: list[Site]) -> GreenContract:
    created = GreenContract.objects.create(
        owner=world.owner_a,
        name=name,
        kind="ppa",
        zone=zone(zone_code),
        price_per_mwh=50,
        currency="USD",
        term_start=date(2022, 1, 1),
        term_end=date(2022, 12, 31),
        hourly_profile_kwh=[10.0] * 24,
    )
    created.sites.set(sites)
    return created


def test_site_ven_sees_only_the_contracts_its_site_may_match(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site_ven_token(world)  # binds the VEN to "VEN site A" (CAISO NP15)
    ven_site = Site.objects.get(name="VEN site A")
    other_site = SiteFactory(owner=world.owner_a)
    texas_site = SiteFactory(owner=world.owner_a, market_zone=zone("ERCOT_HUB"))
    wide = contract(world, "all NP15 sites", "CAISO_NP15", [])
    listed = contract(world, "VEN site and another", "CAISO_NP15", [ven_site, other_site])
    elsewhere = contract(world, "other site only", "CAISO_NP15", [other_site])
    texas = contract(world, "Texas, all sites", "ERCOT_HUB", [])
    contract(world, "Texas site", "ERCOT_HUB", [texas_site])

    ven = api_as("site_ven")
    seen = {c["id"] for c in ven.get("/api/v1/green/contracts/").json()["results"]}
    assert seen == {wide.pk, listed.pk}
    detail = ven.get(f"/api/v1/green/contracts/{listed.pk}/")
    assert detail.status_code == 200
    assert detail.json()["sites"] == [ven_site.pk]  # not the organisation's other site named on it
    assert ven.get(f"/api/v1/green/contracts/{elsewhere.pk}/").status_code == 404
    assert ven.get(f"/api/v1/green/contracts/{texas.pk}/").status_code == 404

    owner = api_as("owner_a").get("/api/v1/green/contracts/").json()["results"]
    assert len(owner) == 5  # the organisation's people see every contract of the organisation
    assert sorted(next(c for c in owner if c["id"] == listed.pk)["sites"]) == sorted(
        [ven_site.pk, other_site.pk]
    )
