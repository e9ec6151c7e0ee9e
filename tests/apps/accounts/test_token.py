"""OAuth2 client-credentials tokens and bearer authentication of API clients."""

from __future__ import annotations

import base64
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.choices import ApiClientRole
from apps.accounts.models import AccessToken, ApiClient
from apps.accounts.services import api_client_create, digest
from tests.conftest import World


def _issue(world: World, role: str = ApiClientRole.ADMIN, scopes: list[str] | None = None):  # type: ignore[no-untyped-def]
    return api_client_create(organisation=world.operator, role=role, scopes=scopes)


def test_form_body_grant_and_bearer_use(world: World) -> None:
    creds = _issue(world, scopes=["read_all", "write_events"])
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "read_all write_events"  # space-separated string (RFC 6749 §3.3)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    me = client.get("/api/v1/me/").json()
    assert me["type"] == "api_client" and me["client_id"] == creds.api_client.client_id
    assert me["organisation"]["kind"] == "market_operator"
    # the token is stored only as a digest
    assert AccessToken.objects.filter(token_hash=digest(body["access_token"])).exists()
    assert not AccessToken.objects.filter(token_hash=body["access_token"]).exists()


def test_http_basic_grant(world: World) -> None:
    creds = _issue(world)
    basic = base64.b64encode(f"{creds.api_client.client_id}:{creds.client_secret}".encode()).decode()
    response = APIClient().post(
        "/api/v1/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content


def test_wrong_secret_unknown_client_and_inactive_are_401(world: World) -> None:
    creds = _issue(world)
    client = APIClient()
    for client_id, secret in [(creds.api_client.client_id, "wrong"), ("nobody", creds.client_secret)]:
        r = client.post(
            "/api/v1/auth/token",
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        assert r.status_code == 401
    ApiClient.objects.filter(pk=creds.api_client.pk).update(is_active=False)
    r = client.post(
        "/api/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
        },
    )
    assert r.status_code == 401


def test_missing_credentials_and_bad_grant_are_400(world: World) -> None:
    client = APIClient()
    assert client.post("/api/v1/auth/token", {"grant_type": "client_credentials"}).status_code == 400
    r = client.post("/api/v1/auth/token", {"grant_type": "password", "client_id": "x", "client_secret": "y"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "grant_type"


def test_scope_not_held_is_refused(world: World) -> None:
    creds = _issue(world, scopes=["read_all"])
    r = APIClient().post(
        "/api/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "scope": "write_vens",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
        },
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "scope"


def test_expired_and_garbage_tokens_are_401(world: World) -> None:
    creds = _issue(world)
    token = (
        APIClient()
        .post(
            "/api/v1/auth/token",
            {
                "grant_type": "client_credentials",
                "client_id": creds.api_client.client_id,
                "client_secret": creds.client_secret,
            },
        )
        .json()["access_token"]
    )
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for header in (f"Bearer {token}", "Bearer not-a-token", "Bearer"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        r = client.get("/api/v1/me/")
        assert r.status_code == 401, header
        assert r["WWW-Authenticate"] == "Bearer"


def test_viewer_client_reads_but_cannot_write(world: World) -> None:
    creds = api_client_create(organisation=world.owner_a, role=ApiClientRole.VIEWER)
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
        },
    ).json()["access_token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/sites/").status_code == 200
    assert client.post("/api/v1/sites/", {"name": "x"}, format="json").status_code == 403
