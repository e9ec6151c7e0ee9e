"""Every 4xx/5xx of the VTN is an RFC 9457 problem document (Definition.md §"Problem")."""

from __future__ import annotations

import pytest

from apps.openadr import selectors
from tests.apps.openadr.conftest import BASE, Vtn, assert_problem


def test_malformed_json_unsupported_media_type_and_method(vtn: Vtn) -> None:
    bl = vtn.client("bl")
    assert_problem(bl.post(f"{BASE}/programs", "{not json", content_type="application/json"), 400)
    assert_problem(bl.post(f"{BASE}/programs", "programName=x", content_type="text/plain"), 415)
    assert_problem(bl.patch(f"{BASE}/programs", {}, format="json"), 405)
    assert_problem(bl.post(f"{BASE}/programs", [1, 2], format="json"), 400)


def test_unknown_paths_under_the_vtn_are_problem_404s(vtn: Vtn) -> None:
    for path in ("programs/1/events", "", "notifier"):
        body = assert_problem(vtn.client("anonymous").get(f"{BASE}/{path}"), 404)
        assert body["type"] == "urn:vpp:problem:not_found"
    # MQTT is off by default: the MQTT notifier's topic paths name no endpoint
    for path in ("notifiers/mqtt/topics/programs", "notifiers/mqtt/topics/nothing"):
        assert_problem(vtn.client("bl").get(f"{BASE}/{path}"), 404)


def test_validation_problems_name_each_field(vtn: Vtn) -> None:
    response = vtn.client("bl").post(
        f"{BASE}/events", {"programID": "x y", "intervals": [{"id": "zero", "payloads": []}]}, format="json"
    )
    body = assert_problem(response, 400)
    assert {e["field"] for e in body["errors"]} == {"programID", "intervals[0].id"}


def test_an_unexpected_error_is_a_500_problem(vtn: Vtn, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "program_list", broken)
    body = assert_problem(vtn.client("bl").get(f"{BASE}/programs"), 500)
    assert "fire" not in body["detail"]  # no internals leak
