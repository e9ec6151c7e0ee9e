"""Programs and events: CRUD by business logic, targeting decides what a VEN reads (Definition.md §"Object
Privacy"), names, paging and filters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.core import clock
from apps.openadr import services
from apps.openadr.models import Event, Program
from apps.openadr.selectors import site_target, zone_target
from apps.openadr.timing import format_datetime
from tests.apps.openadr.conftest import BASE, Vtn, event_body


def _ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()]


def test_program_crud_by_business_logic(vtn: Vtn) -> None:
    bl = vtn.client("bl")
    created = bl.post(
        f"{BASE}/programs", {"programName": "peak", "id": "999", "objectType": "X"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["id"] != "999" and body["objectType"] == "PROGRAM"  # server-set (Definition.md §POST and PUT)
    assert body["createdDateTime"] == body["modificationDateTime"]
    program_id = body["id"]
    updated = bl.put(
        f"{BASE}/programs/{program_id}",
        {"programName": "peak-2", "attributes": [{"type": "PROGRAM_LONG_NAME", "values": ["Peak"]}]},
        format="json",
    )
    assert updated.status_code == 200 and updated.json()["programName"] == "peak-2"
    assert updated.json()["createdDateTime"] == body["createdDateTime"]
    assert bl.get(f"{BASE}/programs/{program_id}").json()["attributes"][0]["values"] == ["Peak"]
    deleted = bl.delete(f"{BASE}/programs/{program_id}")
    assert deleted.status_code == 200 and deleted.json()["id"] == program_id
    assert bl.get(f"{BASE}/programs/{program_id}").status_code == 404


def test_duplicate_program_name_is_409_on_create_and_update(vtn: Vtn, program: Program) -> None:
    bl = vtn.client("bl")
    duplicate = bl.post(f"{BASE}/programs", {"programName": "dr-program"}, format="json")
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "programName"
    other = bl.post(f"{BASE}/programs", {"programName": "other"}, format="json").json()
    assert (
        bl.put(f"{BASE}/programs/{other['id']}", {"programName": "dr-program"}, format="json").status_code
        == 409
    )


def test_missing_required_field_is_400_naming_it(vtn: Vtn, program: Program) -> None:
    bl = vtn.client("bl")
    response = bl.post(f"{BASE}/programs", {"intervalPeriod": {"start": "soon"}}, format="json")
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"programName", "intervalPeriod.start"} <= fields
    event = bl.post(f"{BASE}/events", {"eventName": "no program"}, format="json")
    assert event.status_code == 400 and event.json()["errors"][0]["field"] == "programID"


def test_event_crud_and_unknown_program_is_409(vtn: Vtn, program: Program) -> None:
    bl = vtn.client("bl")
    created = bl.post(f"{BASE}/events", event_body(program), format="json")
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    assert created.json()["programID"] == str(program.pk)
    changed = event_body(program, eventName="cap v2", priority=0)
    assert bl.put(f"{BASE}/events/{event_id}", changed, format="json").json()["eventName"] == "cap v2"
    unknown = bl.post(f"{BASE}/events", event_body(program, programID="12345"), format="json")
    assert unknown.status_code == 409 and unknown.json()["errors"][0]["field"] == "programID"
    assert bl.delete(f"{BASE}/programs/{program.pk}").status_code == 409  # it still has an event
    assert bl.delete(f"{BASE}/events/{event_id}").status_code == 200
    assert bl.delete(f"{BASE}/programs/{program.pk}").status_code == 200


def test_event_names_need_not_be_unique(vtn: Vtn, program: Program) -> None:
    bl = vtn.client("bl")
    assert bl.post(f"{BASE}/events", event_body(program), format="json").status_code == 201
    assert bl.post(f"{BASE}/events", event_body(program), format="json").status_code == 201


def test_payload_values_are_checked_against_the_enumerations(vtn: Vtn, program: Program) -> None:
    body = event_body(program)
    body["intervals"][1]["payloads"][0]["values"] = [-5]
    response = vtn.client("bl").post(f"{BASE}/events", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "intervals[1].payloads[0].values[0]"
    body["intervals"][1]["payloads"] = [{"type": "MY_PRIVATE_TYPE", "values": ["anything"]}]
    assert vtn.client("bl").post(f"{BASE}/events", body, format="json").status_code == 201


def test_vens_cannot_write_programs_or_events(vtn: Vtn, program: Program) -> None:
    vtn.register("ven_a")
    ven = vtn.client("ven_a")
    event = services.event_create(caller=None, data=event_body(program))
    assert ven.post(f"{BASE}/programs", {"programName": "mine"}, format="json").status_code == 403
    assert ven.put(f"{BASE}/programs/{program.pk}", {"programName": "mine"}, format="json").status_code == 403
    assert ven.delete(f"{BASE}/programs/{program.pk}").status_code == 403
    body = event_body(program, targets=[site_target(vtn.site_a)])
    assert ven.post(f"{BASE}/events", body, format="json").status_code == 403
    assert ven.put(f"{BASE}/events/{event.pk}", body, format="json").status_code == 403
    assert ven.delete(f"{BASE}/events/{event.pk}").status_code == 403
    assert Program.objects.count() == 1 and Event.objects.get().targets is None


def test_targets_decide_which_events_a_ven_reads(vtn: Vtn, program: Program) -> None:
    vtn.register("ven_a")
    vtn.register("ven_b")
    for_a = services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_a)]))
    for_b = services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_b)]))
    for_all = services.event_create(caller=None, data=event_body(program))
    zone_a = services.event_create(caller=None, data=event_body(program, targets=[zone_target("CAISO_NP15")]))
    a, b, bl = vtn.client("ven_a"), vtn.client("ven_b"), vtn.client("bl")

    assert _ids(a.get(f"{BASE}/events")) == [str(e.pk) for e in (for_a, for_all, zone_a)]
    assert _ids(b.get(f"{BASE}/events")) == [str(e.pk) for e in (for_b, for_all)]
    assert len(_ids(bl.get(f"{BASE}/events"))) == 4
    # another VEN's event is not in the caller's result set: 404 (Definition.md §Object Privacy)
    assert a.get(f"{BASE}/events/{for_b.pk}").status_code == 404
    assert b.get(f"{BASE}/events/{for_a.pk}").status_code == 404
    assert a.get(f"{BASE}/events/{for_a.pk}").status_code == 200
    # asking for targets it was not granted yields nothing more
    assert _ids(a.get(f"{BASE}/events", {"targets": [site_target(vtn.site_b)]})) == []
    assert _ids(a.get(f"{BASE}/events", {"targets": [site_target(vtn.site_a)]})) == [str(for_a.pk)]
    # business logic filters by targets
    assert _ids(bl.get(f"{BASE}/events", {"targets": [site_target(vtn.site_b)]})) == [str(for_b.pk)]


def test_a_ven_without_ven_object_reads_only_untargeted_events(vtn: Vtn, program: Program) -> None:
    services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_a)]))
    untargeted = services.event_create(caller=None, data=event_body(program))
    assert _ids(vtn.client("ven_a").get(f"{BASE}/events")) == [str(untargeted.pk)]


def test_target_hiding_shows_a_ven_only_its_matching_targets(vtn: Vtn, program: Program) -> None:
    vtn.register("ven_a")
    targets = [site_target(vtn.site_a), site_target(vtn.site_b), "group-secret"]
    event = services.event_create(caller=None, data=event_body(program, targets=targets))
    shown = vtn.client("ven_a").get(f"{BASE}/events/{event.pk}").json()
    assert shown["targets"] == [site_target(vtn.site_a)]
    assert vtn.client("bl").get(f"{BASE}/events/{event.pk}").json()["targets"] == targets


def test_program_targets_hide_programs_and_their_events(vtn: Vtn) -> None:
    vtn.register("ven_a")
    ven_b = vtn.register("ven_b")
    private = services.program_create(caller=None, data={"programName": "b-only", "targets": ["group-b"]})
    public = services.program_create(caller=None, data={"programName": "public"})
    services.ven_update(
        caller=None,
        ven=ven_b,
        data={
            "objectType": "BL_VEN_REQUEST",
            "clientID": ven_b.client_id,
            "venName": "ven_b",
            "targets": ["group-b"],
        },
    )
    event = services.event_create(caller=None, data=event_body(private))
    assert _ids(vtn.client("ven_a").get(f"{BASE}/programs")) == [str(public.pk)]
    assert _ids(vtn.client("ven_b").get(f"{BASE}/programs")) == [str(private.pk), str(public.pk)]
    assert _ids(vtn.client("ven_a").get(f"{BASE}/events")) == []
    assert _ids(vtn.client("ven_b").get(f"{BASE}/events")) == [str(event.pk)]
    assert vtn.client("ven_a").get(f"{BASE}/programs/{private.pk}").status_code == 404


def test_resource_targets_are_granted_too(vtn: Vtn, program: Program) -> None:
    ven = vtn.register("ven_a")
    services.resource_create(
        caller=None,
        data={
            "objectType": "BL_RESOURCE_REQUEST",
            "clientID": ven.client_id,
            "venID": str(ven.pk),
            "resourceName": "ups-1",
            "targets": ["ups-fleet"],
        },
    )
    event = services.event_create(caller=None, data=event_body(program, targets=["ups-fleet"]))
    assert _ids(vtn.client("ven_a").get(f"{BASE}/events")) == [str(event.pk)]
    assert _ids(vtn.client("ven_b").get(f"{BASE}/events")) == []


def test_paging_with_skip_and_limit_at_most_50(vtn: Vtn) -> None:
    for i in range(55):
        services.program_create(caller=None, data={"programName": f"p{i:02d}"})
    bl = vtn.client("bl")
    first = bl.get(f"{BASE}/programs").json()
    assert len(first) == 50  # default page
    assert [p["programName"] for p in bl.get(f"{BASE}/programs", {"skip": 50, "limit": 10}).json()] == [
        f"p{i}" for i in range(50, 55)
    ]
    assert bl.get(f"{BASE}/programs", {"limit": 0}).json() == []
    for bad in ({"limit": 51}, {"limit": -1}, {"skip": "x"}, {"skip": -3}):
        response = bl.get(f"{BASE}/programs", bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] in ("limit", "skip")


def test_event_filters_program_id_and_active(vtn: Vtn, program: Program) -> None:
    other = services.program_create(caller=None, data={"programName": "other"})
    now = clock.now()
    past = event_body(
        program, intervalPeriod={"start": format_datetime(now - timedelta(hours=3)), "duration": "PT1H"}
    )
    current = event_body(
        program, intervalPeriod={"start": format_datetime(now - timedelta(minutes=5)), "duration": "PT1H"}
    )
    forever = event_body(other, intervalPeriod={"start": "0001-01-01", "duration": "P9999Y"})
    e_past, e_now, e_forever = (services.event_create(caller=None, data=b) for b in (past, current, forever))
    bl = vtn.client("bl")
    assert _ids(bl.get(f"{BASE}/events", {"programID": str(program.pk)})) == [str(e_past.pk), str(e_now.pk)]
    assert _ids(bl.get(f"{BASE}/events", {"active": "true"})) == [str(e_now.pk), str(e_forever.pk)]
    assert _ids(bl.get(f"{BASE}/events", {"active": "true", "programID": str(other.pk)})) == [
        str(e_forever.pk)
    ]
    assert bl.get(f"{BASE}/events", {"active": "maybe"}).status_code == 400
    assert bl.get(f"{BASE}/events", {"programID": "not valid!"}).status_code == 400


@pytest.mark.parametrize("path", ["programs", "events"])
def test_unknown_and_malformed_ids(vtn: Vtn, path: str) -> None:
    bl = vtn.client("bl")
    assert bl.get(f"{BASE}/{path}/424242").status_code == 404
    assert bl.get(f"{BASE}/{path}/abc").status_code == 404
    assert bl.get(f"{BASE}/{path}/a%20b").status_code == 400
