"""The enrolment flow through the portal and the staff buttons, on the same services and state machine as
the API: owner registers, declares assets and submits; staff approve or reject (with a reason); the
registration is frozen (409 with the reason) outside draft and rejected."""

from __future__ import annotations

import pytest

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Battery, EnrolmentTransition, PVArray, Site, WorkloadClass
from tests.conftest import World
from tests.factories import SiteFactory, WorkloadClassFactory

from .forms_data import battery_form, pv_form, site_form, workload_form


def test_owner_enrols_a_site_and_staff_approve_it(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    owner = page_as("owner_a")
    response = owner.post("/portal/sites/new/", site_form("Fort Worth DC"))
    site = Site.objects.get(name="Fort Worth DC")
    assert response.status_code == 302 and response["Location"] == f"/sites/{site.pk}/"
    assert (site.owner, site.enrolment_status) == (world.owner_a, EnrolmentStatus.DRAFT)

    page = owner.get(f"/sites/{site.pk}/").content.decode()
    assert "Declare at least one workload class first." in page
    assert (
        owner.post(f"/sites/{site.pk}/workloads/new/", workload_form("training", kind="training")).status_code
        == 302
    )
    assert (
        owner.post(
            f"/sites/{site.pk}/workloads/new/",
            {**workload_form("inference", kind="inference", share_pct=40), "max_delay_h": ""},
        ).status_code
        == 302
    )
    assert owner.post(f"/sites/{site.pk}/batteries/new/", battery_form()).status_code == 302
    assert owner.post(f"/sites/{site.pk}/pv-arrays/new/", pv_form()).status_code == 302
    assert WorkloadClass.objects.filter(site=site).count() == 2
    assert Battery.objects.filter(site=site).count() == PVArray.objects.filter(site=site).count() == 1

    response = owner.post(f"/sites/{site.pk}/submit/")
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.SUBMITTED

    staff = page_as("staff")
    overview = staff.get("/overview/").content.decode()
    assert "Fort Worth DC" in overview and f"/sites/{site.pk}/approve/" in overview
    response = staff.post(f"/sites/{site.pk}/approve/", {"next": "/overview/#queue"})
    assert response.status_code == 302 and response["Location"] == "/overview/#queue"
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.APPROVED
    assert list(EnrolmentTransition.objects.filter(site=site).values_list("to_status", "actor")) == [
        (EnrolmentStatus.SUBMITTED, "user:owner_a"),
        (EnrolmentStatus.APPROVED, "user:staff"),
    ]
    assert staff.post(f"/sites/{site.pk}/activate/").status_code == 302
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.ACTIVE


def test_reject_needs_a_reason_and_the_owner_sees_it(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    staff = page_as("staff")
    response = staff.post(f"/sites/{site.pk}/reject/", {"reason": "  "})
    assert response.status_code == 400
    assert "a reason is required to reject a site." in response.content.decode()
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.SUBMITTED

    assert staff.post(f"/sites/{site.pk}/reject/", {"reason": "No revenue-grade meter"}).status_code == 302
    site.refresh_from_db()
    assert (site.enrolment_status, site.status_reason) == (EnrolmentStatus.REJECTED, "No revenue-grade meter")
    owner = page_as("owner_a")
    assert "No revenue-grade meter" in owner.get("/portal/").content.decode()
    assert "No revenue-grade meter" in owner.get(f"/sites/{site.pk}/").content.decode()
    # a rejected site is editable again and can be resubmitted
    assert owner.post(f"/sites/{site.pk}/edit/", site_form(site.name, it_capacity_kw=8000)).status_code == 302
    WorkloadClassFactory(site=site)
    assert owner.post(f"/sites/{site.pk}/submit/").status_code == 302
    site.refresh_from_db()
    assert (site.enrolment_status, site.it_capacity_kw) == (EnrolmentStatus.SUBMITTED, 8000)


@pytest.mark.parametrize(
    "status",
    [EnrolmentStatus.SUBMITTED, EnrolmentStatus.APPROVED, EnrolmentStatus.ACTIVE, EnrolmentStatus.SUSPENDED],
)
def test_registration_frozen_outside_draft_and_rejected(world: World, page_as, status: str) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=status, name="Frozen DC")
    workload = WorkloadClassFactory(site=site)
    owner = page_as("owner_a")
    reason = "can only be changed while it is a draft or rejected"
    for response in (
        owner.get(f"/sites/{site.pk}/edit/"),
        owner.post(f"/sites/{site.pk}/edit/", site_form("Renamed")),
        owner.get(f"/sites/{site.pk}/batteries/new/"),
        owner.post(f"/sites/{site.pk}/batteries/new/", battery_form()),
        owner.post(f"/sites/{site.pk}/workloads/{workload.pk}/edit/", workload_form()),
    ):
        assert response.status_code == 409
        assert reason in response.content.decode()
    response = owner.post(f"/sites/{site.pk}/workloads/{workload.pk}/delete/")
    assert response.status_code == 409
    assert "draft or rejected" in response.content.decode()
    site.refresh_from_db()
    assert site.name == "Frozen DC"
    assert not Battery.objects.exists() and WorkloadClass.objects.filter(pk=workload.pk).exists()
    page = owner.get(f"/sites/{site.pk}/").content.decode()
    assert f"/sites/{site.pk}/edit/" not in page


def test_illegal_transitions_show_the_state_machines_reason(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    draft = SiteFactory(owner=world.owner_a)
    response = page_as("staff").post(f"/sites/{draft.pk}/approve/")
    assert response.status_code == 409
    assert "cannot approve a site that is draft" in response.content.decode()
    response = page_as("owner_a").post(f"/sites/{draft.pk}/submit/")
    assert response.status_code == 409
    assert "declare at least one workload class" in response.content.decode()
    draft.refresh_from_db()
    assert draft.enrolment_status == EnrolmentStatus.DRAFT
    assert not EnrolmentTransition.objects.exists()


def test_roles_cannot_take_each_others_actions(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    submitted = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    draft = SiteFactory(owner=world.owner_a)
    WorkloadClassFactory(site=draft)
    assert page_as("owner_a").post(f"/sites/{submitted.pk}/approve/").status_code == 403
    assert page_as("staff").post(f"/sites/{draft.pk}/submit/").status_code == 403
    assert page_as("staff").get(f"/sites/{draft.pk}/edit/").status_code == 403
    assert page_as("owner_b").post(f"/sites/{submitted.pk}/approve/").status_code == 404
    for site, status in ((submitted, EnrolmentStatus.SUBMITTED), (draft, EnrolmentStatus.DRAFT)):
        site.refresh_from_db()
        assert site.enrolment_status == status


def test_unknown_action_is_404(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    assert page_as("staff").post(f"/sites/{site.pk}/explode/").status_code == 404


def test_owner_deletes_only_drafts(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    draft = SiteFactory(owner=world.owner_a)
    rejected = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.REJECTED)
    owner = page_as("owner_a")
    assert owner.post(f"/sites/{draft.pk}/delete/")["Location"] == "/portal/"
    assert not Site.objects.filter(pk=draft.pk).exists()
    response = owner.post(f"/sites/{rejected.pk}/delete/")
    assert response.status_code == 409
    assert Site.objects.filter(pk=rejected.pk).exists()


def test_edit_and_remove_assets_of_a_draft(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    owner = page_as("owner_a")
    owner.post(f"/sites/{site.pk}/pv-arrays/new/", pv_form())
    pv = PVArray.objects.get()
    assert owner.get(f"/sites/{site.pk}/pv-arrays/{pv.pk}/edit/").status_code == 200
    assert owner.post(f"/sites/{site.pk}/pv-arrays/{pv.pk}/edit/", pv_form(tilt_deg=30)).status_code == 302
    pv.refresh_from_db()
    assert pv.tilt_deg == 30
    assert owner.post(f"/sites/{site.pk}/pv-arrays/{pv.pk}/delete/").status_code == 302
    assert not PVArray.objects.exists()


def test_add_another_returns_to_the_empty_form(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = page_as("owner_a").post(
        f"/sites/{site.pk}/batteries/new/", {**battery_form(), "add_another": "1"}
    )
    assert response["Location"] == f"/sites/{site.pk}/batteries/new/"


def test_open_redirects_are_ignored(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    response = page_as("staff").post(f"/sites/{site.pk}/approve/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/sites/{site.pk}/"


def test_overlong_reason_is_refused_with_the_error(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    response = page_as("staff").post(f"/sites/{site.pk}/reject/", {"reason": "x" * 2001})
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.SUBMITTED


def test_pages_answer_head_requests(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    assert page_as("staff").head("/overview/").status_code == 200
    assert page_as("staff").put("/overview/").status_code == 405
