"""Regression tests of the server bugs the fuzzers found (each was a 500 or an undocumented answer)."""

from __future__ import annotations

from tests.apps.openadr.conftest import BASE, assert_problem, make_vtn
from tests.conftest import World


def test_unknown_api_path_is_a_problem_document(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("owner_a").get("/api/v1/settlement/statements/not-a-month/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_unknown_page_is_still_a_page(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("owner_a").get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_vtn_refuses_nul_and_lone_surrogates(world: World) -> None:
    bl = make_vtn(world).client("bl")
    assert_problem(bl.get(f"{BASE}/programs", {"targets": "site\x00"}), 400)
    nul = bl.post(f"{BASE}/programs", {"programName": "a\x00b"}, format="json")
    assert "programName" in assert_problem(nul, 400)["detail"]
    surrogate = bl.post(f"{BASE}/programs", b'{"programName": "x\\ud800"}', content_type="application/json")
    assert_problem(surrogate, 400)
    pair = bl.post(
        f"{BASE}/programs", b'{"programName": "ok \\ud83d\\ude00"}', content_type="application/json"
    )
    assert pair.status_code == 201  # a proper surrogate pair is an ordinary character


def test_business_logic_ven_request_without_client_id_is_a_400(world: World) -> None:
    bl = make_vtn(world).client("bl")
    response = bl.post(f"{BASE}/vens", {"objectType": "VEN_VEN_REQUEST", "venName": "x"}, format="json")
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "clientID"
