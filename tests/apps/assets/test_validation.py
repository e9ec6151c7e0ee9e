"""Physical validation: each bound is refused with a 400 naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from tests.conftest import World
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory

from .test_permission_matrix import battery_body, pv_body, site_body, workload_body


def _fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["field"] for e in response.json()["errors"]}


SITE_BAD = [
    ("pue", 0.99),
    ("latitude", 90.5),
    ("latitude", -91),
    ("longitude", 180.1),
    ("longitude", -181),
    ("timezone", "Mars/Olympus"),
    ("grid_import_limit_kw", -1),
    ("grid_export_limit_kw", -5),
    ("it_capacity_kw", 0),
    ("market_zone", "NOWHERE"),
]


@pytest.mark.parametrize(("field", "value"), SITE_BAD)
def test_site_bounds_refused(world: World, api_as, field: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    response = api_as("owner_a").post("/api/v1/sites/", {**site_body(), field: value}, format="json")
    assert response.status_code == 400
    assert _fields(response) == {field}
    assert not Site.objects.exists()


BATTERY_BAD = [
    ("charge_efficiency", 0.0, "charge_efficiency"),
    ("charge_efficiency", 1.01, "charge_efficiency"),
    ("discharge_efficiency", -0.5, "discharge_efficiency"),
    ("energy_capacity_kwh", 0, "energy_capacity_kwh"),
    ("max_charge_kw", -1, "max_charge_kw"),
    ("soc_min_kwh", 600, "soc_min_kwh"),  # above soc_max 500
    ("soc_max_kwh", 501, "soc_max_kwh"),  # above capacity 500
    ("backup_reserve_kwh", 501, "backup_reserve_kwh"),  # above capacity
]


@pytest.mark.parametrize(("field", "value", "named"), BATTERY_BAD)
def test_battery_bounds_refused(world: World, api_as, field: str, value: float, named: str) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = api_as("owner_a").post(
        "/api/v1/batteries/", {**battery_body(site.pk), field: value}, format="json"
    )
    assert response.status_code == 400, response.content
    assert named in _fields(response)
    assert not Battery.objects.exists()


def test_battery_partial_update_checked_against_stored_values(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    battery = BatteryFactory(
        site=SiteFactory(owner=world.owner_a), energy_capacity_kwh=1000, soc_max_kwh=1000
    )
    response = api_as("owner_a").patch(
        f"/api/v1/batteries/{battery.pk}/", {"energy_capacity_kwh": 800}, format="json"
    )
    assert response.status_code == 400
    assert _fields(response) == {"soc_max_kwh"}
    battery.refresh_from_db()
    assert battery.energy_capacity_kwh == 1000


PV_BAD = [
    ("tilt_deg", 91),
    ("tilt_deg", -1),
    ("azimuth_deg", 361),
    ("azimuth_deg", -0.1),
    ("losses_pct", 100),
    ("dc_capacity_kwp", 0),
    ("ac_limit_kw", 10000),
]


@pytest.mark.parametrize(("field", "value"), PV_BAD)
def test_pv_bounds_refused(world: World, api_as, field: str, value: float) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = api_as("owner_a").post("/api/v1/pv-arrays/", {**pv_body(site.pk), field: value}, format="json")
    assert response.status_code == 400
    assert _fields(response) == {field}
    assert not PVArray.objects.exists()


def test_workload_shares_of_a_site_at_most_100_pct(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    WorkloadClassFactory(site=site, share_pct=60)
    client = api_as("owner_a")
    ok = client.post("/api/v1/workload-classes/", {**workload_body(site.pk), "share_pct": 40}, format="json")
    assert ok.status_code == 201
    too_much = client.post(
        "/api/v1/workload-classes/",
        {**workload_body(site.pk), "name": "extra", "share_pct": 0.5},
        format="json",
    )
    assert too_much.status_code == 400
    assert _fields(too_much) == {"share_pct"}
    assert "100.5" in too_much.json()["errors"][0]["reason"]
    assert WorkloadClass.objects.filter(site=site).count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("share_pct", 0),
        ("share_pct", 101),
        ("min_power_fraction", 1.5),
        ("max_delay_h", -1),
        ("kind", "mining"),
    ],
)
def test_workload_bounds_refused(world: World, api_as, field: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = api_as("owner_a").post(
        "/api/v1/workload-classes/", {**workload_body(site.pk), field: value}, format="json"
    )
    assert response.status_code == 400
    assert _fields(response) == {field}


def test_inference_is_neither_deferrable_nor_migratable(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    other = SiteFactory(owner=world.owner_a)
    body = {**workload_body(site.pk), "kind": "inference", "max_delay_h": 2, "migratable_to": [other.pk]}
    response = api_as("owner_a").post("/api/v1/workload-classes/", body, format="json")
    assert response.status_code == 400
    assert _fields(response) == {"max_delay_h", "migratable_to"}


UNHONOURABLE = [
    ({"max_delay_h": 6, "interruptible": False}, "interruptible"),
    ({"max_delay_h": None, "ramp_kw_per_min": 50}, "ramp_kw_per_min"),
    ({"migration_overhead_kwh_per_kwh": 0.05}, "migration_overhead_kwh_per_kwh"),
    ({"migration_lead_time_h": 0.5}, "migration_lead_time_h"),
]


@pytest.mark.parametrize(("changes", "field"), UNHONOURABLE)
def test_fields_the_scheduler_could_not_honour_are_refused(  # type: ignore[no-untyped-def]
    world: World, api_as, changes: dict, field: str
) -> None:
    """A declared field is honoured by the LP or refused here, naming it; nothing is stored."""
    site = SiteFactory(owner=world.owner_a)
    body = {**workload_body(site.pk), **changes}
    response = api_as("owner_a").post("/api/v1/workload-classes/", body, format="json")
    assert response.status_code == 400
    assert _fields(response) == {field}
    assert not WorkloadClass.objects.filter(site=site).exists()


def test_migration_overhead_accepted_with_migration_targets(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    other = SiteFactory(owner=world.owner_a)
    body = {
        **workload_body(site.pk),
        "migratable_to": [other.pk],
        "migration_overhead_kwh_per_kwh": 0.05,
        "migration_lead_time_h": 0.5,
        "ramp_kw_per_min": 100,
    }
    response = api_as("owner_a").post("/api/v1/workload-classes/", body, format="json")
    assert response.status_code == 201, response.json()
    stored = WorkloadClass.objects.get(pk=response.json()["id"])
    assert (stored.migration_overhead_kwh_per_kwh, stored.migration_lead_time_h) == (0.05, 0.5)


def test_migration_only_to_own_other_sites(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    foreign = SiteFactory(owner=world.owner_b)
    client = api_as("owner_a")
    to_self = client.post(
        "/api/v1/workload-classes/", {**workload_body(site.pk), "migratable_to": [site.pk]}, format="json"
    )
    assert to_self.status_code == 400 and _fields(to_self) == {"migratable_to"}
    to_foreign = client.post(
        "/api/v1/workload-classes/", {**workload_body(site.pk), "migratable_to": [foreign.pk]}, format="json"
    )
    assert to_foreign.status_code == 400 and _fields(to_foreign) == {"migratable_to"}
    assert not WorkloadClass.objects.exists()


def test_duplicate_site_name_refused_for_same_owner_only(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(owner=world.owner_a, name="DC1")
    assert api_as("owner_a").post("/api/v1/sites/", site_body("DC1"), format="json").status_code == 400
    assert api_as("owner_b").post("/api/v1/sites/", site_body("DC1"), format="json").status_code == 201


def test_problem_document_shape(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("owner_a").post("/api/v1/sites/", {**site_body(), "pue": 0.5}, format="json")
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert body["type"] == "urn:vpp:problem:invalid"
    assert body["status"] == 400
    assert body["detail"].startswith("pue:")
