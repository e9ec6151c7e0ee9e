"""Who may open which dashboard page: every route × persona, with the expected status.

Objects belong to owner A. Staff pages refuse site owners and market operators (403); another owner's site
is 404 (its existence does not leak); anonymous callers are redirected to the login page. The last test walks
the URL conf, so a new dashboard page cannot be added without a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.choices import Role
from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from tests.conftest import PERSONAS, World
from tests.factories import (
    BatteryFactory,
    MembershipFactory,
    PVArrayFactory,
    SiteFactory,
    UserFactory,
    WorkloadClassFactory,
)

from .activity_data import dispatched_event
from .forms_data import battery_form, pv_form, site_form, workload_form

Setup = Callable[[World], tuple[str, dict[str, Any] | None]]


def _site(world: World, status: str = EnrolmentStatus.DRAFT, with_workload: bool = True) -> Site:
    site = SiteFactory(owner=world.owner_a, enrolment_status=status)
    if with_workload:
        WorkloadClassFactory(site=site)
    return site


def fixed(url: str, body: dict[str, Any] | None = None) -> Setup:
    return lambda world: (url, body)


def on_site(suffix: str, status: str = EnrolmentStatus.DRAFT, body: dict[str, Any] | None = None) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        return f"/sites/{_site(world, status).pk}/{suffix}", body

    return setup


def on_event() -> Setup:
    """An event in which only owner A's site was dispatched: owner B has no part in it (404)."""

    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        return f"/events/{dispatched_event(world, _site(world, EnrolmentStatus.ACTIVE)).pk}/", None

    return setup


KIND_FACTORY = {"workloads": WorkloadClassFactory, "batteries": BatteryFactory, "pv-arrays": PVArrayFactory}
KIND_BODY = {"workloads": workload_form, "batteries": battery_form, "pv-arrays": pv_form}


def on_asset(kind: str, suffix: str, with_body: bool = False) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        site = _site(world, with_workload=False)
        asset = KIND_FACTORY[kind](site=site, name="existing")
        return f"/sites/{site.pk}/{kind}/{asset.pk}/{suffix}", KIND_BODY[kind]() if with_body else None

    return setup


# Expected statuses in the order of PERSONAS: staff, owner_a, owner_b, operator, anonymous (302 = to login).
STAFF_PAGE = (200, 403, 403, 403, 302)
READ_OWN = (200, 200, 404, 403, 302)
OWNER_WRITE = (403, 302, 404, 403, 302)
OWNER_FORM = (403, 200, 404, 403, 302)
AGGREGATOR_ACTION = (302, 403, 404, 403, 302)
LOGGED_IN = (200, 200, 200, 200, 302)

ROWS: list[tuple[str, str, str, Setup, tuple[int, ...]]] = [
    ("home", "get", "", fixed("/"), (302, 302, 302, 302, 302)),
    ("login", "get", "", fixed("/login/"), (302, 302, 302, 302, 200)),
    ("logout", "post", "", fixed("/logout/"), (302, 302, 302, 302, 302)),
    ("password_change", "get", "", fixed("/account/password/"), LOGGED_IN),
    ("password_change_done", "get", "", fixed("/account/password/done/"), LOGGED_IN),
    ("overview", "get", "", fixed("/overview/"), STAFF_PAGE),
    ("site_list", "get", "", fixed("/sites/"), STAFF_PAGE),
    ("site_list", "get", "filtered", fixed("/sites/?status=submitted"), STAFF_PAGE),
    ("site_detail", "get", "", on_site(""), READ_OWN),
    ("site_detail", "get", "active", on_site("", EnrolmentStatus.ACTIVE), READ_OWN),
    ("site_action", "post", "submit", on_site("submit/"), OWNER_WRITE),
    ("site_action", "post", "approve", on_site("approve/", EnrolmentStatus.SUBMITTED), AGGREGATOR_ACTION),
    (
        "site_action",
        "post",
        "reject",
        on_site("reject/", EnrolmentStatus.SUBMITTED, {"reason": "meter missing"}),
        AGGREGATOR_ACTION,
    ),
    ("site_action", "post", "activate", on_site("activate/", EnrolmentStatus.APPROVED), AGGREGATOR_ACTION),
    (
        "site_action",
        "post",
        "suspend",
        on_site("suspend/", EnrolmentStatus.ACTIVE, {"reason": "audit"}),
        AGGREGATOR_ACTION,
    ),
    ("portal", "get", "", fixed("/portal/"), (403, 200, 200, 403, 302)),
    ("site_create", "get", "", fixed("/portal/sites/new/"), (403, 200, 200, 403, 302)),
    ("site_create", "post", "", fixed("/portal/sites/new/", site_form()), (403, 302, 302, 403, 302)),
    ("site_edit", "get", "", on_site("edit/"), OWNER_FORM),
    ("site_edit", "post", "", on_site("edit/", body=site_form("Renamed DC")), OWNER_WRITE),
    ("site_delete", "post", "", on_site("delete/"), OWNER_WRITE),
    ("operator_home", "get", "", fixed("/operator/"), (403, 403, 403, 200, 302)),
    ("event_list", "get", "", fixed("/events/"), (200, 200, 200, 403, 302)),
    ("event_detail", "get", "", on_event(), READ_OWN),
    ("event_detail", "get", "unknown", fixed("/events/999999/"), (404, 404, 404, 403, 302)),
    ("revenue", "get", "", fixed("/revenue/"), (200, 200, 200, 403, 302)),
    ("forecast_accuracy", "get", "", fixed("/forecasts/"), STAFF_PAGE),
]
for _kind in KIND_FACTORY:
    ROWS += [
        ("asset_create", "get", _kind, on_site(f"{_kind}/new/"), OWNER_FORM),
        ("asset_create", "post", _kind, on_site(f"{_kind}/new/", body=KIND_BODY[_kind]()), OWNER_WRITE),
        ("asset_edit", "get", _kind, on_asset(_kind, "edit/"), OWNER_FORM),
        ("asset_edit", "post", _kind, on_asset(_kind, "edit/", with_body=True), OWNER_WRITE),
        ("asset_delete", "post", _kind, on_asset(_kind, "delete/"), OWNER_WRITE),
    ]

CASES = [(row, i, persona) for row in ROWS for i, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("row", "index", "persona"),
    CASES,
    ids=[f"{r[0]}-{r[1]}{'-' + r[2] if r[2] else ''}-{p}" for r, _, p in CASES],
)
def test_access_matrix(world: World, page_as, row, index: int, persona: str) -> None:  # type: ignore[no-untyped-def]
    name, method, _, setup, expected = row
    url, body = setup(world)
    client: Client = page_as(persona)
    response = client.post(url, body or {}) if method == "post" else client.get(url)
    assert response.status_code == expected[index], (url, persona, response.content[:400])
    if persona == "anonymous" and response.status_code == 302 and name not in {"logout"}:
        assert response["Location"].startswith("/login/?next="), response["Location"]


def test_home_sends_each_persona_to_its_start_page(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    targets = {persona: page_as(persona).get("/")["Location"] for persona in PERSONAS}
    assert targets == {
        "staff": "/overview/",
        "owner_a": "/portal/",
        "owner_b": "/portal/",
        "operator": "/operator/",
        "anonymous": "/login/?next=/",
    }


def test_user_without_organisation_is_refused_everywhere(world: World) -> None:
    client = Client()
    client.force_login(UserFactory(username="loner"))
    site = _site(world)
    for url in ["/", "/overview/", "/sites/", f"/sites/{site.pk}/", "/portal/", "/operator/"]:
        assert client.get(url).status_code == 403, url


def test_owner_viewer_reads_but_cannot_write(world: World) -> None:
    viewer = MembershipFactory(organisation=world.owner_a, role=Role.VIEWER).user
    client = Client()
    client.force_login(viewer)
    site = _site(world)
    assert client.get("/portal/").status_code == 200
    assert client.get(f"/sites/{site.pk}/").status_code == 200
    assert client.get("/portal/sites/new/").status_code == 403
    assert client.post(f"/sites/{site.pk}/submit/").status_code == 403
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.DRAFT


def test_another_owners_objects_appear_nowhere(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    secret = SiteFactory(owner=world.owner_a, name="Secret Site A", enrolment_status=EnrolmentStatus.ACTIVE)
    WorkloadClassFactory(site=secret, name="secret-workload")
    SiteFactory(owner=world.owner_b, name="Site of B")
    client = page_as("owner_b")
    portal = client.get("/portal/").content.decode()
    assert "Site of B" in portal and "Secret Site A" not in portal
    assert client.get(f"/sites/{secret.pk}/").status_code == 404
    assert client.get(f"/sites/{secret.pk}/workloads/new/").status_code == 404
    workload = secret.workload_classes.get()
    assert client.get(f"/sites/{secret.pk}/workloads/{workload.pk}/edit/").status_code == 404


def _dashboard_routes() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "dashboard" and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_matrix_covers_every_dashboard_route() -> None:
    routes = _dashboard_routes()
    covered = {row[0] for row in ROWS}
    assert routes - covered == set(), "dashboard routes without an access-matrix row"
    assert covered - routes == set(), "matrix rows for routes that no longer exist"
