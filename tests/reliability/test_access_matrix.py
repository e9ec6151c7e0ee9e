"""The whole access matrix: every route of the URL conf × staff, owner A, owner B, market operator, anonymous and
the site VEN, with the expected status, so that a new endpoint or page cannot be forgotten.

Where the expectations live (each app keeps its own):

- ``/api/v1/``: ``MATRIX`` (five session personas) and ``SITE_VEN`` (the VEN's bearer token) in each
  ``tests/apps/<app>/test_permission_matrix.py``; the VEN column is run here. tests/test_permission_coverage.py
  checks that every endpoint has a ``MATRIX`` row; :func:`test_every_api_row_has_a_site_ven_expectation` that
  every row has a ``SITE_VEN`` value.
- ``/openadr3/3.1.0/``: ``MATRIX`` of tests/apps/openadr/test_vtn_permission_matrix.py (VTN personas: business
  logic, the VENs of sites A and B, a market operator's client, anonymous). The VTN takes bearer tokens only, so
  a person's session is anonymous there: :func:`test_vtn_treats_every_session_as_anonymous`.
- Pages: ``ROWS`` of tests/apps/dashboard/test_access_matrix.py, plus :data:`PAGES` here for pages of other apps.
  Pages take sessions only, so the VEN's bearer token is anonymous there:
  :func:`test_site_ven_token_opens_no_page`.
- ``/admin/``: Django's admin, for ``is_staff`` accounts only; no persona is one (aggregator staff work in the
  dashboard), so every persona is sent to the admin login: :func:`test_admin_is_for_django_staff_only`.
- :data:`PUBLIC`: routes open to everyone by design.

:func:`test_every_route_has_an_access_expectation` walks the URL conf: a route in none of these fails.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

import tests.apps
from apps.core import clock
from tests.apps.dashboard import test_access_matrix as pages
from tests.apps.openadr import test_vtn_permission_matrix as vtn_matrix
from tests.apps.openadr.conftest import BASE, make_vtn
from tests.conftest import PERSONAS, World, site_ven_token
from tests.factories import UserFactory

#: (namespace, route name) open to everyone by design: liveness probe, API schema and docs, the two token endpoints (authenticated by
#: their body; rate-limited, tests/reliability/test_security.py).
PUBLIC = {
    ("", "healthz"),
    ("", "schema"),
    ("", "api-docs"),
    ("", "auth-token"),
    ("openadr", "auth-token"),
}

#: Pages of apps other than the dashboard: (namespace, route name) → (url, expected statuses in PERSONAS order
#: then site VEN).
PAGES: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {
    ("greenpower", "page"): ("/green/", (200, 200, 200, 403, 302, 302)),
    # The last /api/ route: any path no API route matches is a 404 problem document, for everyone.
    ("", "api-not-found"): ("/api/v1/no-such-endpoint/", (404, 404, 404, 404, 404, 404)),
}


def matrix_modules() -> dict[str, ModuleType]:
    """``tests/apps/<app>/test_permission_matrix`` of every app that has one."""
    found = {}
    for info in pkgutil.iter_modules(tests.apps.__path__):
        try:
            found[info.name] = importlib.import_module(f"tests.apps.{info.name}.test_permission_matrix")
        except ModuleNotFoundError:
            continue
    return found


def test_every_api_row_has_a_site_ven_expectation() -> None:
    missing, stale = [], []
    for app, module in matrix_modules().items():
        site_ven = getattr(module, "SITE_VEN", {})
        missing += [f"{app}: {row}" for row in module.MATRIX if row not in site_ven]
        stale += [f"{app}: {row}" for row in site_ven if row not in module.MATRIX]
    assert not missing, f"MATRIX rows without a SITE_VEN expected status: {missing}"
    assert not stale, f"SITE_VEN entries without a MATRIX row: {stale}"


VEN_CASES = [
    (app, row) for app, module in matrix_modules().items() for row in getattr(module, "SITE_VEN", {})
]


@pytest.mark.parametrize(("app", "row"), VEN_CASES, ids=[f"{a}-{r[0]}-{r[1]}" for a, r in VEN_CASES])
def test_site_ven_column(
    world: World, api_as: Callable[[str], APIClient], app: str, row: tuple[str, str]
) -> None:
    module = matrix_modules()[app]
    setup, _ = module.MATRIX[row]
    try:
        url, body = setup(world)
        client = api_as("site_ven")
        response = client.get(url) if row[1] == "get" else getattr(client, row[1])(url, body, format="json")
    finally:
        clock.replay_stop()  # some setups move the product clock
    assert response.status_code == module.SITE_VEN[row], (url, response.content[:300])
    if response.status_code >= 400:
        assert response.json()["errors"], "every refusal names a reason"


def _page_client(world: World, persona: str) -> Client:
    client = Client()
    if persona == "site_ven":
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {site_ven_token(world)}"
    elif persona != "anonymous":
        client.force_login(world.users[persona])
    return client


@pytest.mark.parametrize(
    "row", pages.ROWS, ids=[f"{r[0]}-{r[1]}{'-' + r[2] if r[2] else ''}" for r in pages.ROWS]
)
def test_site_ven_token_opens_no_page(world: World, row: tuple[Any, ...]) -> None:
    _name, method, _, setup, expected = row
    url, body = setup(world)
    client = _page_client(world, "site_ven")
    response = client.post(url, body or {}) if method == "post" else client.get(url)
    assert response.status_code == expected[PERSONAS.index("anonymous")], (url, response.content[:300])


@pytest.mark.parametrize(("key", "index"), [(k, i) for k in PAGES for i in range(len(PERSONAS) + 1)])
def test_other_pages(world: World, key: tuple[str, str], index: int) -> None:
    url, expected = PAGES[key]
    persona = (*PERSONAS, "site_ven")[index]
    response = _page_client(world, persona).get(url)
    assert response.status_code == expected[index], (url, persona, response.content[:300])
    if response.status_code == 302:
        assert response["Location"].startswith("/login/"), response["Location"]


@pytest.mark.parametrize("row", sorted(vtn_matrix.MATRIX), ids=lambda row: f"{row[1]}-{row[0]}")
@pytest.mark.parametrize("persona", ["staff", "owner_a", "owner_b", "operator"])
def test_vtn_treats_every_session_as_anonymous(world: World, row: tuple[str, str], persona: str) -> None:
    setup, expected = vtn_matrix.MATRIX[row]
    try:
        path, body = setup(_LazyObjects(make_vtn(world)))  # only the rows' paths are needed
    except _NeedsObjects:
        pytest.skip("row needs stored VTN objects; its anonymous case is in the VTN matrix")
    client = APIClient()
    client.force_login(world.users[persona])
    call = getattr(client, row[1])
    response = call(f"{BASE}/{path}", body, format="json") if body is not None else call(f"{BASE}/{path}")
    assert response.status_code == expected[vtn_matrix.VTN_PERSONAS.index("anonymous")], response.content[
        :300
    ]


class _NeedsObjects(Exception):
    pass


class _LazyObjects:
    """Stands in for the VTN matrix's objects: ids are placeholders (a session is refused before any lookup)."""

    def __init__(self, vtn: Any) -> None:
        self.vtn = vtn

    def __getattr__(self, name: str) -> Any:
        return _Placeholder()


class _Placeholder:
    pk = "1"
    client_id = "placeholder"

    def __getattr__(self, name: str) -> Any:
        raise _NeedsObjects(name)


@pytest.mark.parametrize("persona", [*PERSONAS, "site_ven"])
def test_admin_is_for_django_staff_only(world: World, persona: str) -> None:
    client = _page_client(world, persona)
    urls = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/" for model in admin.site._registry
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), (
            url,
            persona,
        )
    root = Client()
    root.force_login(UserFactory(username="django-admin", is_staff=True, is_superuser=True))
    assert all(root.get(url).status_code == 200 for url in urls)


def routes() -> set[tuple[str, str, str]]:
    """(namespace, route name, path) of every named route of the URL conf (unnamed ones are reported too)."""
    found: set[tuple[str, str, str]] = set()

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                found.add((namespace, pattern.name or f"<unnamed {route}>", route))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_route_has_an_access_expectation() -> None:
    api_rows = {name for module in matrix_modules().values() for name, _ in module.MATRIX}
    vtn_rows = {name for name, _ in vtn_matrix.MATRIX}
    page_rows = {row[0] for row in pages.ROWS}
    uncovered = []
    for namespace, name, path in sorted(routes()):
        if namespace == "admin" or (namespace, name) in PUBLIC or (namespace, name) in PAGES:
            continue
        if path.startswith("api/v1/") and name in api_rows:
            continue
        if namespace == "openadr" and name in vtn_rows:
            continue
        if namespace == "dashboard" and name in page_rows:
            continue
        uncovered.append(f"{namespace or '-'}:{name} ({path})")
    assert not uncovered, f"routes with no access-matrix row: {uncovered}"
