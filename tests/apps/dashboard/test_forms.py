"""Portal forms refuse what the API refuses: each physical bound gives an error next to its field (400) and
nothing is written. The bad values are the API validation tests' own lists, so the two cannot drift apart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from tests.apps.assets.test_validation import BATTERY_BAD, PV_BAD, SITE_BAD
from tests.conftest import World
from tests.factories import SiteFactory, WorkloadClassFactory

from .forms_data import battery_form, pv_form, site_form, workload_form


def field_errors(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def assert_error_shown_next_to(response, field: str) -> None:  # type: ignore[no-untyped-def]
    """The field's block in the HTML carries the error class and an error list tied to the input."""
    html = response.content.decode()
    block = re.search(rf'<div class="field has-error[^"]*" id="field-{field}">(.*?)</div>', html, re.S)
    assert block, f"no error block for {field}"
    assert f'id="id_{field}_error"' in block.group(1)
    assert f'aria-describedby="id_{field}' in html or 'type="checkbox"' in block.group(1)


@pytest.mark.parametrize(("field", "value"), SITE_BAD)
def test_site_bounds_refused(world: World, page_as, field: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    response = page_as("owner_a").post("/portal/sites/new/", site_form(**{field: value}))
    assert response.status_code == 400
    assert set(field_errors(response)) == {field}
    assert_error_shown_next_to(response, field)
    assert not Site.objects.exists()


@pytest.mark.parametrize(("field", "value", "named"), BATTERY_BAD)
def test_battery_bounds_refused(world: World, page_as, field: str, value: float, named: str) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = page_as("owner_a").post(f"/sites/{site.pk}/batteries/new/", battery_form(**{field: value}))
    assert response.status_code == 400
    assert named in field_errors(response)
    assert_error_shown_next_to(response, named)
    assert not Battery.objects.exists()


@pytest.mark.parametrize(("field", "value"), PV_BAD)
def test_pv_bounds_refused(world: World, page_as, field: str, value: float) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = page_as("owner_a").post(f"/sites/{site.pk}/pv-arrays/new/", pv_form(**{field: value}))
    assert response.status_code == 400
    assert set(field_errors(response)) == {field}
    assert_error_shown_next_to(response, field)
    assert not PVArray.objects.exists()


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
def test_workload_bounds_refused(world: World, page_as, field: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = page_as("owner_a").post(f"/sites/{site.pk}/workloads/new/", workload_form(**{field: value}))
    assert response.status_code == 400
    assert set(field_errors(response)) == {field}
    assert_error_shown_next_to(response, field)
    assert not WorkloadClass.objects.exists()


def test_workload_shares_of_a_site_at_most_100_pct(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    """The service's sum rule comes back as an error on the share field."""
    site = SiteFactory(owner=world.owner_a)
    WorkloadClassFactory(site=site, share_pct=60)
    client = page_as("owner_a")
    ok = client.post(f"/sites/{site.pk}/workloads/new/", workload_form(share_pct=40))
    assert ok.status_code == 302
    too_much = client.post(f"/sites/{site.pk}/workloads/new/", workload_form("extra", share_pct=0.5))
    assert too_much.status_code == 400
    assert set(field_errors(too_much)) == {"share_pct"}
    assert "100.5" in field_errors(too_much)["share_pct"][0]
    assert_error_shown_next_to(too_much, "share_pct")
    assert WorkloadClass.objects.filter(site=site).count() == 2


def test_inference_is_neither_deferrable_nor_migratable(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    other = SiteFactory(owner=world.owner_a)
    body = workload_form(kind="inference", max_delay_h=2, migratable_to=[other.pk])
    response = page_as("owner_a").post(f"/sites/{site.pk}/workloads/new/", body)
    assert response.status_code == 400
    assert set(field_errors(response)) == {"max_delay_h", "migratable_to"}
    assert not WorkloadClass.objects.exists()


def test_migration_only_to_own_other_sites(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    own = SiteFactory(owner=world.owner_a, name="Own other")
    foreign = SiteFactory(owner=world.owner_b, name="Foreign")
    client = page_as("owner_a")
    form_page = client.get(f"/sites/{site.pk}/workloads/new/").content.decode()
    assert "Own other" in form_page and "Foreign" not in form_page
    for target in (site.pk, foreign.pk):
        response = client.post(f"/sites/{site.pk}/workloads/new/", workload_form(migratable_to=[target]))
        assert response.status_code == 400
        assert set(field_errors(response)) == {"migratable_to"}
    assert not WorkloadClass.objects.exists()
    assert (
        client.post(f"/sites/{site.pk}/workloads/new/", workload_form(migratable_to=[own.pk])).status_code
        == 302
    )
    assert list(WorkloadClass.objects.get().migratable_to.all()) == [own]


def test_duplicate_names_refused_on_the_name_field(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, name="DC1")
    WorkloadClassFactory(site=site, name="batch-x")
    client = page_as("owner_a")
    response = client.post("/portal/sites/new/", site_form("DC1"))
    assert response.status_code == 400 and set(field_errors(response)) == {"name"}
    response = client.post(f"/sites/{site.pk}/workloads/new/", workload_form("batch-x"))
    assert response.status_code == 400 and set(field_errors(response)) == {"name"}
    assert page_as("owner_b").post("/portal/sites/new/", site_form("DC1")).status_code == 302


def test_empty_submission_names_every_required_field(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    response = page_as("owner_a").post("/portal/sites/new/", {})
    assert response.status_code == 400
    assert set(field_errors(response)) == {
        "name",
        "latitude",
        "longitude",
        "timezone",
        "market_zone",
        "grid_import_limit_kw",
        "it_capacity_kw",
    }
    assert not Site.objects.exists()


def test_fields_with_a_model_default_may_be_left_empty(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    """Like the API: an omitted PUE or efficiency takes the model's default."""
    body = site_form()
    del body["pue"]
    body["grid_export_limit_kw"] = ""
    assert page_as("owner_a").post("/portal/sites/new/", body).status_code == 302
    site = Site.objects.get()
    assert (site.pue, site.grid_export_limit_kw, site.enrolment_status) == (1.3, 0.0, EnrolmentStatus.DRAFT)
    assert site.owner == world.owner_a
    battery = battery_form()
    del battery["charge_efficiency"]
    assert page_as("owner_a").post(f"/sites/{site.pk}/batteries/new/", battery).status_code == 302
    assert Battery.objects.get().charge_efficiency == 0.95


def test_edit_keeps_stored_values_consistent(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    """Editing a battery is checked as a whole: lowering the capacity under SoC max is refused."""
    client: Client = page_as("owner_a")
    site = SiteFactory(owner=world.owner_a)
    client.post(f"/sites/{site.pk}/batteries/new/", battery_form())
    battery = Battery.objects.get()
    response = client.post(
        f"/sites/{site.pk}/batteries/{battery.pk}/edit/", battery_form(energy_capacity_kwh=400)
    )
    assert response.status_code == 400
    assert "soc_max_kwh" in field_errors(response)
    battery.refresh_from_db()
    assert battery.energy_capacity_kwh == 500
