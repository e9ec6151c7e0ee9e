"""Site state over REST: a report is stored whole or refused whole with a 400 naming each bad field; another
organisation's site is 404; the site's own VEN reports its site and no other; GET returns the latest (at ?at=)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.choices import ApiClientRole
from apps.accounts.services import access_token_issue, api_client_create
from apps.assets.services import site_credential_bind
from apps.telemetry.models import QueuedWork, SiteState, SiteStateBattery
from tests.apps.telemetry.test_permission_matrix import _state_site, state_body
from tests.conftest import World
from tests.factories import SiteFactory, WorkloadClassFactory


def _fields(response: Any) -> set[str | None]:
    return {e["field"] for e in response.json()["errors"]}


def _counts() -> tuple[int, int, int]:
    return SiteState.objects.count(), SiteStateBattery.objects.count(), QueuedWork.objects.count()


def _ven(world: World, site: Any) -> APIClient:
    issued = api_client_create(organisation=world.owner_a, role=ApiClientRole.VEN, name="state VEN")
    site_credential_bind(api_client_id=issued.api_client.pk, site=site)
    token = access_token_issue(client_id=issued.api_client.client_id, client_secret=issued.client_secret)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.access_token}")
    return client


def test_a_report_is_stored_and_read_back(world: World, api_as: Any) -> None:
    site = _state_site(world)
    body = state_body(site)
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", body, format="json")
    assert response.status_code == 201, response.content[:400]
    out = response.json()
    assert out["it_load_kw"] == 4200.0 and out["source"] == "rest"
    assert out["batteries"] == [{"battery": site.batteries.get().pk, "soc_kwh": 640.0}]
    assert [(q["workload_name"], q["energy_kwh"], q["job_id"]) for q in out["queue"]] == [
        ("training", 350.0, "job-1")
    ]
    read = api_as("staff").get(f"/api/v1/sites/{site.pk}/state/")
    assert read.status_code == 200 and read.json() == out


def _bad(site: Any, mutate: Any) -> dict[str, Any]:
    body = state_body(site)
    mutate(body)
    return body


def _set(path: str, value: Any) -> Any:
    def mutate(body: dict[str, Any]) -> None:
        target: Any = body
        keys = path.replace("]", "").replace("[", ".").split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[keys[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("it_load_kw", -1.0, "must not be negative"),
        ("batteries[0].soc_kwh", -5.0, "must not be negative"),
        ("batteries[0].soc_kwh", 1000.5, "exceeds the battery's energy capacity"),
        ("queue[0].energy_kwh", -0.1, "must not be negative"),
        ("queue[0].workload_class", "no-such-class", "is not a workload class of this site"),
        ("queue[0].job_id", "x" * 201, "no more than 200"),
        ("queue[0].deadline", "2020-01-01T00:00:00Z", "is before the work's arrival"),
        ("reported_at", "2999-01-01T00:00:00Z", "is in the future"),
        ("queue[0].arrived_at", "2022-09-01T00:00:00", "time zone"),
    ],
)
def test_each_bad_field_is_a_400_naming_it_and_nothing_is_stored(
    world: World, api_as: Any, path: str, value: Any, reason: str
) -> None:
    site = _state_site(world)
    before = _counts()
    response = api_as("owner_a").post(
        f"/api/v1/sites/{site.pk}/state/", _bad(site, _set(path, value)), format="json"
    )
    assert response.status_code == 400, response.content[:400]
    errors = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert path in errors, errors
    assert reason in errors[path], errors[path]
    assert _counts() == before


def test_another_sites_battery_and_a_non_deferrable_class_are_refused(world: World, api_as: Any) -> None:
    site = _state_site(world)
    other = _state_site(world)
    WorkloadClassFactory(site=site, name="inference", kind="inference", max_delay_h=None)
    body = state_body(site)
    body["batteries"][0]["battery"] = other.batteries.get().pk
    body["queue"].append({**body["queue"][0], "workload_class": "inference", "job_id": "job-2"})
    body["queue"].append({**body["queue"][0], "workload_class": other.workload_classes.get().pk})
    before = _counts()
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", body, format="json")
    assert response.status_code == 400
    errors = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert "is not a battery of site" in errors["batteries[0].battery"]
    assert "is not deferrable" in errors["queue[1].workload_class"]
    assert "is not a workload class of this site" in errors["queue[2].workload_class"]
    assert _counts() == before


def test_unknown_nested_field_is_named(world: World, api_as: Any) -> None:
    site = _state_site(world)
    body = state_body(site)
    body["queue"][0]["priority"] = 3
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", body, format="json")
    assert response.status_code == 400 and "queue[0].priority" in _fields(response)


def test_the_sites_own_ven_reports_it_and_no_other(world: World) -> None:
    site = _state_site(world)
    other = _state_site(world)
    ven = _ven(world, site)
    ok = ven.post(f"/api/v1/sites/{site.pk}/state/", state_body(site), format="json")
    assert ok.status_code == 201, ok.content[:300]
    before = _counts()
    refused = ven.post(f"/api/v1/sites/{other.pk}/state/", state_body(other), format="json")
    assert refused.status_code == 404
    assert _counts() == before


def test_another_organisations_site_is_404(world: World, api_as: Any) -> None:
    site = _state_site(world)
    before = _counts()
    response = api_as("owner_b").post(f"/api/v1/sites/{site.pk}/state/", state_body(site), format="json")
    assert response.status_code == 404
    assert api_as("owner_b").get(f"/api/v1/sites/{site.pk}/state/").status_code == 404
    assert _counts() == before


def test_get_at_returns_the_latest_at_or_before(world: World, api_as: Any) -> None:
    site = _state_site(world)
    client = api_as("owner_a")
    now = timezone.now().replace(microsecond=0)
    for minutes, load in ((60, 1000.0), (30, 2000.0), (5, 3000.0)):
        body = state_body(site)
        body["reported_at"] = (now - timedelta(minutes=minutes)).isoformat()
        body["it_load_kw"] = load
        assert client.post(f"/api/v1/sites/{site.pk}/state/", body, format="json").status_code == 201
    url = f"/api/v1/sites/{site.pk}/state/"
    assert client.get(url).json()["it_load_kw"] == 3000.0
    at = (now - timedelta(minutes=20)).isoformat()
    assert client.get(url, {"at": at}).json()["it_load_kw"] == 2000.0
    early = (now - timedelta(hours=2)).isoformat()
    assert client.get(url, {"at": early}).status_code == 404
    naive = client.get(url, {"at": "2022-09-01T00:00:00"})
    assert naive.status_code == 400 and "at" in _fields(naive)


def test_a_site_without_batteries_or_queue_reports_only_its_load(world: World, api_as: Any) -> None:
    site = SiteFactory(owner=world.owner_a)
    at = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = api_as("owner_a").post(
        f"/api/v1/sites/{site.pk}/state/", {"reported_at": at, "it_load_kw": 10.0}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["batteries"] == [] and response.json()["queue"] == []
