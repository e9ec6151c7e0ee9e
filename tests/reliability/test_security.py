"""Security settings: ``check --deploy`` clean with production settings, secrets only from the environment,
CSRF on forms and session API writes, rate limits on the login page and both token endpoints (429 problem
documents with ``Retry-After``)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.choices import ApiClientRole
from apps.accounts.services import api_client_create
from apps.assets.models import Site
from tests.apps.dashboard.forms_data import site_form
from tests.conftest import World
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VPP_RATE"))}
    base.update(
        DJANGO_SETTINGS_MODULE="vpp.settings.production",
        DATABASE_URL="postgres://vpp:secret@127.0.0.1:5432/vpp",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_ALLOWED_HOSTS="vpp.example.com",
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "insecure-dev-key-change-me"}, "at least 50 characters"),
        ({"DJANGO_SECRET_KEY": "x" * 60}, "at least 50 characters"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "PostgreSQL"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(overrides: dict[str, str], message: str) -> None:
    env = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **overrides}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_portal_form_needs_a_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["owner_a"])
    assert client.post("/portal/sites/new/", site_form("Forged DC")).status_code == 403
    assert not Site.objects.filter(name="Forged DC").exists()
    page = client.get("/portal/sites/new/")
    token = page.context["csrf_token"]
    response = client.post("/portal/sites/new/", {**site_form("Real DC"), "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert Site.objects.filter(name="Real DC", owner=world.owner_a).exists()


def test_session_api_writes_need_a_csrf_token(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["owner_a"])
    body = {**site_form("Forged API DC")}
    response = client.post("/api/v1/sites/", body, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Site.objects.filter(name="Forged API DC").exists()


def _fresh_ip() -> str:
    """A documentation-range address of its own, so no other test shares the rate-limit bucket."""
    n = uuid.uuid4().int
    return f"198.18.{n % 250}.{(n >> 8) % 250 + 1}"


@pytest.mark.parametrize("url", ["/api/v1/auth/token", "/openadr3/3.1.0/auth/token"])
def test_token_endpoints_are_rate_limited(world: World, settings, url: str) -> None:  # type: ignore[no-untyped-def]
    settings.VPP_RATE_LIMITS = {"token": "3/min", "login": "10/min"}
    creds = api_client_create(organisation=world.owner_a, role=ApiClientRole.VEN, name="VEN")
    body = {
        "grant_type": "client_credentials",
        "client_id": creds.api_client.client_id,
        "client_secret": creds.client_secret,
    }
    client, ip = APIClient(), _fresh_ip()
    statuses = [client.post(url, body, REMOTE_ADDR=ip).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.post(url, body, REMOTE_ADDR=ip)
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["status"] == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert (
        client.post(url, body, REMOTE_ADDR=_fresh_ip()).status_code == 200
    )  # another address is not affected


def test_login_is_rate_limited_after_failed_attempts(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.VPP_RATE_LIMITS = {"token": "30/min", "login": "3/min"}
    name = f"victim-{uuid.uuid4().hex[:8]}"
    UserFactory(username=name, password="right-horse-battery")
    client, ip = Client(), _fresh_ip()
    for _ in range(3):
        assert (
            client.post("/login/", {"username": name, "password": "wrong"}, REMOTE_ADDR=ip).status_code == 200
        )
    blocked = client.post("/login/", {"username": name, "password": "right-horse-battery"}, REMOTE_ADDR=ip)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "Too many failed attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session  # the right password was not even tried
    # the username is locked from any address too (a distributed guess), another user is not
    other = Client().post(
        "/login/", {"username": name, "password": "right-horse-battery"}, REMOTE_ADDR=_fresh_ip()
    )
    assert other.status_code == 429


def test_successful_logins_do_not_count(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.VPP_RATE_LIMITS = {"token": "30/min", "login": "2/min"}
    name = f"user-{uuid.uuid4().hex[:8]}"
    UserFactory(username=name, password="right-horse-battery")
    ip = _fresh_ip()
    for _ in range(4):
        client = Client()
        response = client.post(
            "/login/", {"username": name, "password": "right-horse-battery"}, REMOTE_ADDR=ip
        )
        assert response.status_code == 302
