"""``GET /auth/server`` and ``POST /auth/token`` (Definition.md §"Token endpoint discovery", RFC 6749 §4.4)."""

from __future__ import annotations

import base64

from rest_framework.test import APIClient

from tests.apps.openadr.conftest import BASE, Vtn


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_auth_server_names_the_absolute_token_url(vtn: Vtn) -> None:
    response = APIClient().get(f"{BASE}/auth/server")
    assert response.status_code == 200
    assert response.json() == {"tokenURL": "http://testserver/openadr3/3.1.0/auth/token"}


def test_token_from_form_body_then_bearer_use(vtn: Vtn) -> None:
    creds = vtn.credentials["ven_a"]
    response = APIClient().post(
        f"{BASE}/auth/token",
        f"grant_type=client_credentials&client_id={creds.api_client.client_id}&client_secret={creds.client_secret}"
        "&scope=read_targets%20write_reports",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "read_targets write_reports"  # a space-separated string (RFC 6749 §3.3)
    assert response["Cache-Control"] == "no-store"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api.get(f"{BASE}/programs").status_code == 200


def test_token_from_http_basic(vtn: Vtn) -> None:
    creds = vtn.credentials["bl"]
    response = APIClient().post(
        f"{BASE}/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=_basic(creds.api_client.client_id, creds.client_secret),
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == ""


def test_token_errors_are_problems_with_oauth_error_codes(vtn: Vtn) -> None:
    creds = vtn.credentials["bl"]
    client = APIClient()
    cases = [
        (
            {"client_id": creds.api_client.client_id, "client_secret": creds.client_secret},
            {},
            400,
            "invalid_request",
        ),
        (
            {"grant_type": "password", "client_id": "x", "client_secret": "y"},
            {},
            400,
            "unsupported_grant_type",
        ),
        ({"grant_type": "client_credentials"}, {}, 400, "invalid_request"),
        (
            {
                "grant_type": "client_credentials",
                "client_id": creds.api_client.client_id,
                "client_secret": "no",
            },
            {},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials"},
            {"HTTP_AUTHORIZATION": _basic("nobody", "nothing")},
            401,
            "invalid_client",
        ),
    ]
    for data, headers, status, error in cases:
        response = client.post(f"{BASE}/auth/token", data, format="multipart", **headers)
        assert response.status_code == status, (data, response.content)
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == status and body["error"] == error and body["error_description"]
        assert body["title"] and body["detail"] and body["instance"].endswith("/auth/token")
    basic_failure = client.post(
        f"{BASE}/auth/token",
        {"grant_type": "client_credentials"},
        format="multipart",
        HTTP_AUTHORIZATION=_basic("nobody", "nothing"),
    )
    assert basic_failure["WWW-Authenticate"].startswith("Basic")


def test_scope_not_held_is_invalid_scope(vtn: Vtn) -> None:
    from apps.accounts.choices import ApiClientRole
    from apps.accounts.services import api_client_create

    creds = api_client_create(organisation=vtn.world.aggregator, role=ApiClientRole.BL, scopes=["read_all"])
    response = APIClient().post(
        f"{BASE}/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
            "scope": "write_programs",
        },
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_bad_and_missing_bearer_tokens_are_401_problems(vtn: Vtn) -> None:
    api = APIClient()
    missing = api.get(f"{BASE}/events")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == "Bearer"
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    bad = api.get(f"{BASE}/events")
    assert bad.status_code == 401 and bad.json()["status"] == 401
