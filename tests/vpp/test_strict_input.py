"""Strict input on every write endpoint of /api/v1/, read from the URL conf (so a new endpoint cannot be left
out): an unknown field is a 400 naming it, a date-time without a time zone is a 400 naming it, and neither
writes anything. Plus the rules that are not about one field name: malformed JSON names the body, an event's
``requested_kw`` below the program's minimum bid is refused by rule, multipart bodies keep working.

Each endpoint's valid request (URL with real objects, and body) and the personas allowed to call it come from
the permission matrices (tests/apps/<app>/test_permission_matrix.py), which tests/test_permission_coverage.py
keeps complete.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import transaction

import tests.apps
from apps.accounts.choices import ApiClientRole
from apps.accounts.services import api_client_create
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.models import Event
from tests.apps.assets.test_permission_matrix import site_body
from tests.apps.markets.conftest import next_slot
from tests.conftest import PERSONAS, World
from tests.factories import zone
from tests.test_permission_coverage import api_endpoints

#: Write endpoints that are lenient on purpose. RFC 6749 §3.2: "The authorization server MUST ignore
#: unrecognized request parameters" (the OAuth2 client-credentials token endpoint).
LENIENT = {("auth-token", "post")}
WRITE_METHODS = ("post", "put", "patch")
DENIED = {401, 403, 404}
#: An ISO 8601 date-time with its offset, as the matrices' bodies carry them (``datetime.isoformat()``).
AWARE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(Z|[+-]\d\d:\d\d)$")


def matrix() -> dict[tuple[str, str], tuple[Any, tuple[int, ...]]]:
    """The union of every app's ``MATRIX``: (route name, method) → (setup, expected status per persona)."""
    rows: dict[tuple[str, str], tuple[Any, tuple[int, ...]]] = {}
    for info in pkgutil.iter_modules(tests.apps.__path__):
        try:
            module = importlib.import_module(f"tests.apps.{info.name}.test_permission_matrix")
        except ModuleNotFoundError:
            continue
        rows.update(module.MATRIX)
    return rows


MATRIX = matrix()
WRITES = sorted((name, method) for name, method in api_endpoints() if method in WRITE_METHODS)
STRICT = [row for row in WRITES if row not in LENIENT]


def allowed_persona(row: tuple[str, str]) -> str:
    """The first persona the matrix lets through (any status but 401/403/404) for this endpoint."""
    assert row in MATRIX, f"{row} has no permission-matrix row to build its request from"
    _, expected = MATRIX[row]
    for persona, status in zip(PERSONAS, expected, strict=True):
        if status not in DENIED:
            return persona
    raise AssertionError(f"no persona may call {row}: the matrix denies all of them")


def row_counts() -> dict[str, int]:
    """Rows of every product model (apps.*): a refused request must leave them all unchanged."""
    return {
        m._meta.label: m._default_manager.count()
        for m in django_apps.get_models()
        if m.__module__.startswith("apps.") and not m._meta.proxy
    }


def with_unknown_field(body: Any) -> tuple[Any, str]:
    """``body`` plus ``"bogus_field": 1`` (in the first row of a batch), and the field path the 400 must name."""
    if isinstance(body, list):
        assert body and isinstance(body[0], dict), body
        return [{**body[0], "bogus_field": 1}, *body[1:]], "rows[0].bogus_field"
    return {**(body or {}), "bogus_field": 1}, "bogus_field"


def naive_times(body: Any, path: str = "") -> tuple[Any, list[str]]:
    """``body`` with the offset cut off every ISO 8601 date-time in it, and the paths of those fields."""
    if isinstance(body, dict):
        out, paths = {}, []
        for key, value in body.items():
            out[key], found = naive_times(value, f"{path}.{key}" if path else key)
            paths += found
        return out, paths
    if isinstance(body, list):
        items = [naive_times(item, f"{path or 'rows'}[{i}]") for i, item in enumerate(body)]
        return [item for item, _ in items], [p for _, found in items for p in found]
    if isinstance(body, str) and (match := AWARE.match(body)):
        return match.group(1), [path]
    return body, []


def problem_fields(response: Any) -> set[str | None]:
    assert response["Content-Type"] == "application/problem+json", response.content[:300]
    return {e["field"] for e in response.json()["errors"]}


def test_every_write_endpoint_is_enumerated() -> None:
    """The URL conf walk finds the write endpoints (a broken walk would make the tests below vacuous)."""
    assert len(STRICT) >= 25, STRICT
    assert {("site-list", "post"), ("market-event-awards", "post"), ("timeseries-data", "post")} <= set(
        STRICT
    )
    assert set(WRITES) >= LENIENT, "a lenient endpoint that no longer exists: drop it from LENIENT"


@pytest.mark.parametrize(("name", "method"), STRICT, ids=[f"{n}-{m}" for n, m in STRICT])
def test_unknown_field_is_a_400_naming_it(world: World, api_as, name: str, method: str) -> None:  # type: ignore[no-untyped-def]
    setup, _ = MATRIX[(name, method)]
    url, body = setup(world)
    sent, field = with_unknown_field(body)
    client = api_as(allowed_persona((name, method)))
    before = row_counts()
    response = getattr(client, method)(url, sent, format="json")
    assert response.status_code == 400, (url, response.status_code, response.content[:300])
    fields = problem_fields(response)
    assert field in fields, (url, fields)
    reason = next(e["reason"] for e in response.json()["errors"] if e["field"] == field)
    assert reason.startswith("unknown field; accepted: "), reason
    assert row_counts() == before, f"{url}: a refused request wrote rows"


class _Undo(Exception):
    """Raised to roll one endpoint's objects back (a savepoint), so the next endpoint starts clean."""


def test_naive_date_times_are_a_400_naming_them_on_every_write_endpoint(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    """Every write endpoint whose valid body carries date-times refuses the same body with the offsets cut off,
    naming each of those fields, and writes nothing."""
    checked: list[tuple[str, str]] = []
    for name, method in STRICT:
        setup, _ = MATRIX[(name, method)]
        try:
            with transaction.atomic():
                url, body = setup(world)
                naive, paths = naive_times(body)
                if paths:
                    before = row_counts()
                    client = api_as(allowed_persona((name, method)))
                    response = getattr(client, method)(url, naive, format="json")
                    assert response.status_code == 400, (url, response.status_code, response.content[:300])
                    fields = problem_fields(response)
                    assert set(paths) <= fields, (url, paths, fields)
                    assert all(
                        re.search("time zone|offset", e["reason"])
                        for e in response.json()["errors"]
                        if e["field"] in paths
                    ), response.json()
                    assert row_counts() == before, f"{url}: a refused request wrote rows"
                    checked.append((name, method))
                raise _Undo
        except _Undo:
            pass
    must = {
        ("market-event-list", "post"),
        ("market-event-awards", "post"),  # nested: intervals[0].start
        ("market-event-activations", "post"),
        ("market-activation-end", "post"),
        ("timeseries-data", "post"),  # a bulk batch: rows[0].start
        ("green-compute-model-fit", "post"),
        ("green-work-unit-data", "post"),
    }
    assert must <= set(checked), f"checked only {checked}"


def test_the_token_endpoint_ignores_unknown_parameters_as_rfc_6749_requires(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    creds = api_client_create(organisation=world.operator, role=ApiClientRole.ADMIN, name="strict test")
    response = api_as("anonymous").post(
        "/api/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
            "bogus_field": 1,
        },
        format="json",
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            b'{"name": "x",',
            "malformed JSON: Expecting property name enclosed in double quotes at line 1 column 14",
        ),
        (b'{"name": "x", "name": "y"}', "the key 'name' appears twice in one object."),
        (b'{"pue": NaN}', "'NaN' is not a JSON number (RFC 8259 §6)."),
    ],
)
def test_malformed_json_names_the_body(world: World, api_as, raw: bytes, reason: str) -> None:  # type: ignore[no-untyped-def]
    before = row_counts()
    response = api_as("owner_a").generic("POST", "/api/v1/sites/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "reason": response.json()["errors"][0]["reason"]}]
    assert response.json()["errors"][0]["reason"].startswith(reason)
    assert row_counts() == before


def test_malformed_json_of_a_batch_names_the_body(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    """The ingestion endpoint has its own (large-body) parser; its malformed body is named the same way."""
    from tests.factories import SiteFactory

    site = SiteFactory(owner=world.owner_a)
    series = api_as("owner_a").post(
        "/api/v1/timeseries/",
        {"site": site.pk, "quantity": "site_power_kw", "resolution": "PT15M"},
        format="json",
    )
    assert series.status_code == 201, series.content
    response = api_as("owner_a").generic(
        "POST",
        f"/api/v1/timeseries/{series.json()['id']}/data/",
        b'[{"start": ',
        content_type="application/json",
    )
    assert response.status_code == 400 and problem_fields(response) == {"body"}


def test_multipart_bodies_keep_working_and_are_strict(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    body = site_body("Multipart DC")
    created = api_as("owner_a").post("/api/v1/sites/", body, format="multipart")
    assert created.status_code == 201, created.content[:300]
    refused = api_as("owner_a").post(
        "/api/v1/sites/", {**body, "name": "Other", "bogus_field": "1"}, format="multipart"
    )
    assert refused.status_code == 400 and problem_fields(refused) == {"bogus_field"}


@pytest.mark.parametrize(("kw", "ok"), [(50, False), (99.5, False), (100, True), (0, False)])
def test_event_requested_kw_below_the_programs_minimum_bid_is_refused_by_rule(
    world: World, api_as, kw: float, ok: bool
) -> None:  # type: ignore[no-untyped-def]
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
    )
    assert program.min_bid_kw == 100
    start = next_slot(4)
    body = {
        "program": program.pk,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "requested_kw": kw,
    }
    response = api_as("operator").post("/api/v1/market/events/", body, format="json")
    if ok:
        assert response.status_code == 201, response.content[:300]
        return
    assert response.status_code == 400, response.content[:300]
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["requested_kw"]
    assert ("min_bid_kw" in errors[0]["reason"]) or ("more than 0 kW" in errors[0]["reason"])
    assert not Event.objects.exists()


def test_a_read_only_field_is_refused_not_silently_dropped(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import SiteFactory

    site = SiteFactory(owner=world.owner_a, enrolment_status="draft")
    response = api_as("owner_a").patch(
        f"/api/v1/sites/{site.pk}/", {"enrolment_status": "active"}, format="json"
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["enrolment_status"]
    assert response.json()["errors"][0]["reason"].startswith("read-only field; it cannot be set; accepted: ")
    site.refresh_from_db()
    assert site.enrolment_status == "draft"
