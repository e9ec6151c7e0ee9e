"""Enrolment life cycle: legal transitions succeed and are recorded; illegal ones get 409 with the reason."""

from __future__ import annotations

import pytest

from apps.accounts.principal import principal_for
from apps.assets import services
from apps.assets.choices import EnrolmentStatus
from apps.assets.models import EnrolmentTransition, Site
from apps.core.errors import ConflictError
from tests.conftest import World
from tests.factories import SiteFactory, WorkloadClassFactory


def _post(client, site: Site, action: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/sites/{site.pk}/{action}/", {"reason": reason}, format="json")


def test_full_life_cycle_records_who_when_why(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    WorkloadClassFactory(site=site)
    owner, staff = api_as("owner_a"), api_as("staff")
    assert _post(owner, site, "submit").json()["enrolment_status"] == "submitted"
    assert _post(staff, site, "reject", "meter data missing").json()["enrolment_status"] == "rejected"
    assert _post(owner, site, "submit").json()["enrolment_status"] == "submitted"
    assert _post(staff, site, "approve").json()["enrolment_status"] == "approved"
    assert _post(staff, site, "activate").json()["enrolment_status"] == "active"
    assert _post(staff, site, "suspend", "UPS maintenance").json()["enrolment_status"] == "suspended"
    assert _post(staff, site, "activate").json()["enrolment_status"] == "active"

    page = owner.get(f"/api/v1/sites/{site.pk}/history/").json()
    history = page["results"]
    assert page["count"] == 7
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("draft", "submitted"),
        ("submitted", "rejected"),
        ("rejected", "submitted"),
        ("submitted", "approved"),
        ("approved", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
    ]
    assert history[1]["actor"] == "user:staff" and history[1]["reason"] == "meter data missing"
    assert history[0]["actor"] == "user:owner_a"
    assert all(h["at"] for h in history)


ILLEGAL = [
    ("approve", EnrolmentStatus.DRAFT),
    ("approve", EnrolmentStatus.ACTIVE),
    ("activate", EnrolmentStatus.SUBMITTED),
    ("activate", EnrolmentStatus.REJECTED),
    ("suspend", EnrolmentStatus.APPROVED),
    ("reject", EnrolmentStatus.ACTIVE),
]


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_illegal_aggregator_transitions_conflict(world: World, api_as, action: str, status: str) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=status)
    response = _post(api_as("staff"), site, action, "because")
    assert response.status_code == 409
    assert f"cannot {action} a site that is {status}" in response.json()["detail"]
    site.refresh_from_db()
    assert site.enrolment_status == status
    assert not EnrolmentTransition.objects.filter(site=site).exists()


@pytest.mark.parametrize(
    "status", [EnrolmentStatus.SUBMITTED, EnrolmentStatus.APPROVED, EnrolmentStatus.ACTIVE]
)
def test_owner_cannot_resubmit_or_edit_after_submission(world: World, api_as, status: str) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=status)
    WorkloadClassFactory(site=site)
    owner = api_as("owner_a")
    assert _post(owner, site, "submit").status_code == 409
    edit = owner.patch(f"/api/v1/sites/{site.pk}/", {"pue": 1.1}, format="json")
    assert edit.status_code == 409
    assert "can only be changed while it is a draft or rejected" in edit.json()["detail"]
    battery = owner.post(
        "/api/v1/batteries/",
        {
            "site": site.pk,
            "name": "b",
            "energy_capacity_kwh": 10,
            "max_charge_kw": 5,
            "max_discharge_kw": 5,
            "soc_max_kwh": 10,
        },
        format="json",
    )
    assert battery.status_code == 409


def test_submit_needs_a_workload_class(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = _post(api_as("owner_a"), site, "submit")
    assert response.status_code == 409
    assert "workload class" in response.json()["detail"]


@pytest.mark.parametrize("action", ["reject", "suspend"])
def test_reason_required(world: World, api_as, action: str) -> None:  # type: ignore[no-untyped-def]
    status = EnrolmentStatus.SUBMITTED if action == "reject" else EnrolmentStatus.ACTIVE
    site = SiteFactory(owner=world.owner_a, enrolment_status=status)
    response = _post(api_as("staff"), site, action, "  ")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"


def test_stale_transition_loses_the_race(world: World) -> None:
    """Two staff approve from the same stale view: the conditional UPDATE lets only the first through."""
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    stale_copy = Site.objects.get(pk=site.pk)
    staff = principal_for(world.users["staff"])
    services.site_transition(principal=staff, site=site, action="approve")
    with pytest.raises(ConflictError):
        services.site_transition(principal=staff, site=stale_copy, action="approve")
    assert EnrolmentTransition.objects.filter(site=site, to_status="approved").count() == 1


def test_only_drafts_can_be_deleted(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.REJECTED)
    assert api_as("owner_a").delete(f"/api/v1/sites/{site.pk}/").status_code == 409
    assert Site.objects.filter(pk=site.pk).exists()
