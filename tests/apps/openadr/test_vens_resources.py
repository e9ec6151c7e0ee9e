"""Vens and resources: a VEN is an enrolled site; business logic manages vens and their targets; a VEN reads and
updates only its own (Definition.md §"Object Privacy", §"Object names")."""

from __future__ import annotations

from apps.assets.choices import EnrolmentStatus
from apps.openadr import services
from apps.openadr.models import Ven
from apps.openadr.selectors import site_target, ven_for_site, zone_target
from tests.apps.openadr.conftest import BASE, Vtn
from tests.factories import SiteFactory


def test_a_ven_registers_itself_and_gets_its_site_targets(vtn: Vtn) -> None:
    ven = vtn.client("ven_a")
    response = ven.post(f"{BASE}/vens", {"objectType": "VEN_VEN_REQUEST", "venName": "dc-a"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["clientID"] == vtn.client_id("ven_a") and body["objectType"] == "VEN"
    assert body["targets"] == [site_target(vtn.site_a), zone_target("CAISO_NP15")]
    assert ven_for_site(site=vtn.site_a).pk == int(body["id"])
    # objectType is optional for the VTN (it infers VEN_VEN_REQUEST from the VEN's token)
    assert vtn.client("ven_b").post(f"{BASE}/vens", {"venName": "dc-b"}, format="json").status_code == 201


def test_business_logic_registers_a_ven_for_a_client_bound_to_a_site(vtn: Vtn) -> None:
    bl = vtn.client("bl")
    body = {
        "objectType": "BL_VEN_REQUEST",
        "clientID": vtn.client_id("ven_b"),
        "venName": "dc-b",
        "targets": ["g1"],
    }
    response = bl.post(f"{BASE}/vens", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["targets"] == ["g1", site_target(vtn.site_b), zone_target("ERCOT_HUB")]
    assert Ven.objects.get().site == vtn.site_b
    unknown = bl.post(f"{BASE}/vens", {**body, "clientID": "nobody", "venName": "x"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "clientID"
    missing = bl.post(f"{BASE}/vens", {"objectType": "BL_VEN_REQUEST", "venName": "x"}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "clientID"


def test_duplicate_ven_name_client_or_site_is_409(vtn: Vtn) -> None:
    vtn.register("ven_a", name="dc")
    bl = vtn.client("bl")
    same_name = bl.post(
        f"{BASE}/vens",
        {"objectType": "BL_VEN_REQUEST", "clientID": vtn.client_id("ven_b"), "venName": "dc"},
        format="json",
    )
    assert same_name.status_code == 409 and same_name.json()["errors"][0]["field"] == "venName"
    again = vtn.client("ven_a").post(f"{BASE}/vens", {"venName": "dc-2"}, format="json")
    assert again.status_code == 409
    ven_b = vtn.register("ven_b", name="dc-b")
    rename = bl.put(
        f"{BASE}/vens/{ven_b.pk}",
        {"objectType": "BL_VEN_REQUEST", "clientID": vtn.client_id("ven_b"), "venName": "dc"},
        format="json",
    )
    assert rename.status_code == 409


def test_a_site_must_be_enrolled_to_have_a_ven(vtn: Vtn) -> None:
    vtn.site_a.enrolment_status = EnrolmentStatus.SUBMITTED
    vtn.site_a.save()
    response = vtn.client("ven_a").post(f"{BASE}/vens", {"venName": "early"}, format="json")
    assert response.status_code == 409


def test_a_ven_reads_and_updates_only_its_own_ven(vtn: Vtn) -> None:
    ven_a = vtn.register("ven_a")
    ven_b = vtn.register("ven_b")
    a = vtn.client("ven_a")
    assert [v["id"] for v in a.get(f"{BASE}/vens").json()] == [str(ven_a.pk)]
    assert a.get(f"{BASE}/vens/{ven_b.pk}").status_code == 404
    assert a.put(f"{BASE}/vens/{ven_b.pk}", {"venName": "stolen"}, format="json").status_code == 404
    assert a.delete(f"{BASE}/vens/{ven_a.pk}").status_code == 403
    renamed = a.put(
        f"{BASE}/vens/{ven_a.pk}", {"venName": "site-a-dc", "targets": ven_a.targets}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["venName"] == "site-a-dc"
    assert len(vtn.client("bl").get(f"{BASE}/vens").json()) == 2
    assert [v["id"] for v in vtn.client("bl").get(f"{BASE}/vens", {"venName": "ven_b"}).json()] == [
        str(ven_b.pk)
    ]


def test_a_ven_cannot_set_targets(vtn: Vtn) -> None:
    a = vtn.client("ven_a")
    create = a.post(f"{BASE}/vens", {"venName": "dc-a", "targets": [site_target(vtn.site_b)]}, format="json")
    assert create.status_code == 403
    ven = vtn.register("ven_a")
    grab = a.put(
        f"{BASE}/vens/{ven.pk}", {"venName": "ven_a", "targets": [site_target(vtn.site_b)]}, format="json"
    )
    assert grab.status_code == 403
    as_bl = a.put(
        f"{BASE}/vens/{ven.pk}",
        {"objectType": "BL_VEN_REQUEST", "clientID": vtn.client_id("ven_b"), "venName": "ven_a"},
        format="json",
    )
    assert as_bl.status_code == 403
    ven.refresh_from_db()
    assert ven.targets == [site_target(vtn.site_a), zone_target("CAISO_NP15")] and ven.site == vtn.site_a


def test_business_logic_sets_targets_and_the_site_targets_stay(vtn: Vtn) -> None:
    ven = vtn.register("ven_a")
    response = vtn.client("bl").put(
        f"{BASE}/vens/{ven.pk}",
        {"objectType": "BL_VEN_REQUEST", "clientID": ven.client_id, "venName": "ven_a", "targets": ["north"]},
        format="json",
    )
    assert response.json()["targets"] == ["north", site_target(vtn.site_a), zone_target("CAISO_NP15")]
    assert [v["venName"] for v in vtn.client("bl").get(f"{BASE}/vens", {"targets": ["north"]}).json()] == [
        "ven_a"
    ]
    assert vtn.client("bl").delete(f"{BASE}/vens/{ven.pk}").status_code == 200
    assert not Ven.objects.exists()


def test_resources_of_a_ven(vtn: Vtn) -> None:
    ven_a = vtn.register("ven_a")
    ven_b = vtn.register("ven_b")
    a, bl = vtn.client("ven_a"), vtn.client("bl")
    mine = a.post(
        f"{BASE}/resources",
        {"objectType": "VEN_RESOURCE_REQUEST", "venID": str(ven_a.pk), "resourceName": "ups"},
        format="json",
    )
    assert mine.status_code == 201, mine.content
    assert mine.json()["clientID"] == ven_a.client_id
    assert (
        a.post(
            f"{BASE}/resources", {"venID": str(ven_a.pk), "resourceName": "ups"}, format="json"
        ).status_code
        == 409
    )
    theirs = a.post(f"{BASE}/resources", {"venID": str(ven_b.pk), "resourceName": "x"}, format="json")
    assert theirs.status_code == 409  # ven B is not this client's
    targeted = a.post(
        f"{BASE}/resources", {"venID": str(ven_a.pk), "resourceName": "y", "targets": ["t"]}, format="json"
    )
    assert targeted.status_code == 403
    by_bl = bl.post(
        f"{BASE}/resources",
        {
            "objectType": "BL_RESOURCE_REQUEST",
            "clientID": ven_b.client_id,
            "venID": str(ven_b.pk),
            "resourceName": "ups",
            "targets": ["t"],
        },
        format="json",
    )
    assert by_bl.status_code == 201  # the same name under another ven is fine
    assert [r["resourceName"] for r in a.get(f"{BASE}/resources").json()] == ["ups"]
    assert a.get(f"{BASE}/resources/{by_bl.json()['id']}").status_code == 404
    assert len(bl.get(f"{BASE}/resources", {"targets": ["t"]}).json()) == 1
    assert len(bl.get(f"{BASE}/resources", {"venID": str(ven_a.pk)}).json()) == 1
    assert a.delete(f"{BASE}/resources/{mine.json()['id']}").status_code == 200


def test_a_ven_client_without_site_has_no_access(vtn: Vtn) -> None:
    from rest_framework.test import APIClient

    from apps.accounts.choices import ApiClientRole
    from apps.accounts.services import access_token_issue, api_client_create

    creds = api_client_create(organisation=vtn.world.owner_a, role=ApiClientRole.VEN)
    token = access_token_issue(client_id=creds.api_client.client_id, client_secret=creds.client_secret)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.access_token}")
    response = api.get(f"{BASE}/programs")
    assert response.status_code == 403 and "not bound to a site" in response.json()["detail"]


def test_ven_for_site_is_none_until_registered(vtn: Vtn) -> None:
    other = SiteFactory(owner=vtn.world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE)
    assert ven_for_site(site=other) is None
    services.ven_create(
        caller=None, data={"objectType": "BL_VEN_REQUEST", "clientID": vtn.client_id("ven_a"), "venName": "a"}
    )
    assert ven_for_site(site=vtn.site_a).ven_name == "a"


def test_reserved_site_and_zone_targets_follow_the_site(vtn: Vtn) -> None:
    ven = vtn.register("ven_a")
    copied = [*ven.targets, site_target(vtn.site_b), zone_target("ERCOT_HUB"), "north"]
    response = vtn.client("bl").put(
        f"{BASE}/vens/{ven.pk}",
        {"objectType": "BL_VEN_REQUEST", "clientID": ven.client_id, "venName": "ven_a", "targets": copied},
        format="json",
    )
    assert response.json()["targets"] == [site_target(vtn.site_a), zone_target("CAISO_NP15"), "north"]


def test_ven_site_ids_tells_which_sites_have_a_ven(vtn: Vtn) -> None:
    from apps.openadr.selectors import ven_site_ids

    vtn.register("ven_a")
    assert ven_site_ids(site_ids=[vtn.site_a.pk, vtn.site_b.pk]) == {vtn.site_a.pk}
