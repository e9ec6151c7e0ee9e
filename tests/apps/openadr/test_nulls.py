"""An explicit ``null`` for an optional property is read as absent, and round trips (the 3.1.0 clients send
``"intervalPeriod": null``, ``"duration": null``, ``"randomizeStart": null`` for "none")."""

from __future__ import annotations

from apps.openadr.models import Program
from apps.openadr.schemas import without_nulls
from apps.openadr.selectors import site_target
from tests.apps.openadr.conftest import BASE, Vtn, assert_problem


def test_without_nulls_drops_null_properties_at_any_depth_and_keeps_array_items() -> None:
    body = {"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}, None, 2]}
    assert without_nulls(body) == {"b": {"d": 1}, "e": [{}, None, 2]}


def test_programs_events_and_reports_with_explicit_nulls(vtn: Vtn, program: Program) -> None:
    bl = vtn.client("bl")
    created = bl.post(
        f"{BASE}/programs",
        {"programName": "with-nulls", "intervalPeriod": None, "programDescriptions": None, "targets": None},
        format="json",
    )
    assert created.status_code == 201, created.content
    read = bl.get(f"{BASE}/programs/{created.json()['id']}").json()
    assert "intervalPeriod" not in read and "targets" not in read and read["programName"] == "with-nulls"

    event = {
        "programID": str(program.pk),
        "eventName": None,
        "priority": None,
        "targets": [site_target(vtn.site_a)],
        "reportDescriptors": None,
        "payloadDescriptors": None,
        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": None, "randomizeStart": None},
        "intervals": [
            {
                "id": 0,
                "intervalPeriod": None,
                "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [800.0]}],
            },
            {
                "id": 1,
                "intervalPeriod": {
                    "start": "2030-01-01T12:15:00Z",
                    "duration": "PT15M",
                    "randomizeStart": None,
                },
                "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [750.0]}],
            },
        ],
    }
    made = bl.post(f"{BASE}/events", event, format="json")
    assert made.status_code == 201, made.content
    stored = bl.get(f"{BASE}/events/{made.json()['id']}").json()
    assert stored["intervalPeriod"] == {"start": "2030-01-01T12:00:00Z"}
    assert "intervalPeriod" not in stored["intervals"][0]
    assert stored["intervals"][1]["intervalPeriod"] == {"start": "2030-01-01T12:15:00Z", "duration": "PT15M"}
    assert "priority" not in stored and "eventName" not in stored
    # what was read back is accepted again as it is (round trip)
    assert bl.put(f"{BASE}/events/{stored['id']}", stored, format="json").status_code == 200

    vtn.register("ven_a")
    report = {
        "eventID": stored["id"],
        "clientName": "a",
        "reportName": None,
        "payloadDescriptors": None,
        "resources": [
            {
                "resourceName": "m",
                "intervalPeriod": None,
                "intervals": [
                    {
                        "id": 0,
                        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT15M"},
                        "payloads": [{"type": "DEMAND", "values": [790.0]}],
                    }
                ],
            }
        ],
    }
    sent = vtn.client("ven_a").post(f"{BASE}/reports", report, format="json")
    assert sent.status_code == 201, sent.content
    assert "reportName" not in sent.json() and "payloadDescriptors" not in sent.json()
    assert "intervalPeriod" not in sent.json()["resources"][0]


def test_a_required_property_sent_as_null_is_still_a_400_naming_it(vtn: Vtn) -> None:
    body = assert_problem(
        vtn.client("bl").post(f"{BASE}/programs", {"programName": None}, format="json"), 400
    )
    assert [e["field"] for e in body["errors"]] == ["programName"]
