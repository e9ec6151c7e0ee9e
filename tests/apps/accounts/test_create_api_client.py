"""``manage.py create_api_client``: prints the id and secret once, stores a digest, binds to a site."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.accounts.models import ApiClient
from apps.accounts.services import digest
from apps.assets.models import SiteCredential
from tests.conftest import World
from tests.factories import SiteFactory


def _run(*args: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("create_api_client", *args, stdout=out, stderr=io.StringIO())
    return dict(line.split("=", 1) for line in out.getvalue().splitlines())


def test_prints_credentials_once_and_stores_digest(world: World) -> None:
    printed = _run("--org", "operator", "--role", "admin")
    client = ApiClient.objects.get(client_id=printed["client_id"])
    assert client.secret_hash == digest(printed["client_secret"])
    assert printed["client_secret"] not in client.secret_hash


def test_site_bound_ven_sees_only_its_site(world: World) -> None:
    bound = SiteFactory(owner=world.owner_a, name="Bound DC")
    SiteFactory(owner=world.owner_a, name="Other DC")
    printed = _run("--org", "owner-a", "--role", "ven", "--site", "Bound DC")
    assert SiteCredential.objects.get(api_client__client_id=printed["client_id"]).site == bound
    api = APIClient()
    token = api.post("/api/v1/auth/token", {"grant_type": "client_credentials", **printed}).json()[
        "access_token"
    ]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    names = [s["name"] for s in api.get("/api/v1/sites/").json()["results"]]
    assert names == ["Bound DC"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "nope", "--role", "admin"), "no organisation"),
        (("--org", "agg", "--role", "ven"), "role"),
        (("--org", "owner-a", "--role", "bl"), "role"),
        (("--org", "owner-a", "--role", "ven", "--site", "Missing DC"), "has no site"),
    ],
)
def test_refusals(world: World, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not ApiClient.objects.exists()
