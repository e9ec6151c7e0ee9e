"""Permission matrix of the accounts and asset API: every endpoint × method × persona, with the expected status.

tests/test_permission_coverage.py checks that the matrices together cover every endpoint of the URL conf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.assets.choices import EnrolmentStatus
from tests.conftest import PERSONAS, World
from tests.factories import BatteryFactory, PVArrayFactory, SiteFactory, WorkloadClassFactory

# Each case: build objects owned by owner A in the needed state → (url, body).
Setup = Callable[[World], tuple[str, dict[str, Any] | None]]


def _site(world: World, status: str = EnrolmentStatus.DRAFT, with_workload: bool = False):  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=status)
    if with_workload:
        WorkloadClassFactory(site=site)
    return site


def site_body(name: str = "New DC") -> dict[str, Any]:
    return {
        "name": name,
        "latitude": 32.9,
        "longitude": -96.9,
        "timezone": "America/Chicago",
        "market_zone": "ERCOT_HUB",
        "grid_import_limit_kw": 15000,
        "grid_export_limit_kw": 0,
        "pue": 1.3,
        "it_capacity_kw": 9000,
    }


def workload_body(site_id: int) -> dict[str, Any]:
    return {"site": site_id, "name": "batch-x", "kind": "batch", "share_pct": 20, "max_delay_h": 6}


def battery_body(site_id: int) -> dict[str, Any]:
    return {
        "site": site_id,
        "name": "ups-x",
        "energy_capacity_kwh": 500,
        "max_charge_kw": 250,
        "max_discharge_kw": 250,
        "charge_efficiency": 0.95,
        "discharge_efficiency": 0.95,
        "soc_min_kwh": 50,
        "soc_max_kwh": 500,
        "backup_reserve_kwh": 200,
    }


def pv_body(site_id: int) -> dict[str, Any]:
    return {"site": site_id, "name": "pv-x", "dc_capacity_kwp": 300, "ac_limit_kw": 250, "tilt_deg": 25}


def transition(action: str, status: str, with_workload: bool = False, reason: str = "") -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        site = _site(world, status, with_workload)
        return f"/api/v1/sites/{site.pk}/{action}/", {"reason": reason}

    return setup


def detail(factory: Any, path: str, body: Callable[[int], dict[str, Any]] | None = None) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        obj = factory(site=_site(world))
        return f"/api/v1/{path}/{obj.pk}/", body(obj.site_id) if body else {"name": "renamed"}

    return setup


def listing(path: str, body: Callable[[int], dict[str, Any]] | None = None) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        site = _site(world)
        return f"/api/v1/{path}/", body(site.pk) if body else None

    return setup


def site_detail(body: dict[str, Any] | None = None) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        return f"/api/v1/sites/{_site(world).pk}/", body

    return setup


# Expected statuses, in the order of PERSONAS: staff, owner_a, owner_b, operator, anonymous.
READ_OWN = (200, 200, 404, 403, 401)  # an owner-A object: staff and A read it, B gets 404
WRITE_OWN = (403, 200, 404, 403, 401)  # only owner A's writers change it
LIST = (200, 200, 200, 403, 401)
CREATE_CHILD = (403, 201, 400, 403, 401)  # owner B cannot even see site A (400: site does not exist)
AGGREGATOR_ACTION = (200, 403, 404, 403, 401)

MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("api-root", "get"): (lambda w: ("/api/v1/", None), (200, 200, 200, 200, 401)),
    ("me", "get"): (lambda w: ("/api/v1/me/", None), (200, 200, 200, 200, 401)),
    ("site-list", "get"): (listing("sites"), LIST),
    ("site-list", "post"): (lambda w: ("/api/v1/sites/", site_body()), (403, 201, 201, 403, 401)),
    ("site-detail", "get"): (site_detail(), READ_OWN),
    ("site-detail", "put"): (site_detail(site_body("Renamed DC")), WRITE_OWN),
    ("site-detail", "patch"): (site_detail({"pue": 1.2}), WRITE_OWN),
    ("site-detail", "delete"): (site_detail(), (403, 204, 404, 403, 401)),
    ("site-history", "get"): (site_detail(), READ_OWN),
    ("site-submit", "post"): (transition("submit", EnrolmentStatus.DRAFT, with_workload=True), WRITE_OWN),
    ("site-approve", "post"): (transition("approve", EnrolmentStatus.SUBMITTED), AGGREGATOR_ACTION),
    ("site-reject", "post"): (
        transition("reject", EnrolmentStatus.SUBMITTED, reason="no meter"),
        AGGREGATOR_ACTION,
    ),
    ("site-activate", "post"): (transition("activate", EnrolmentStatus.APPROVED), AGGREGATOR_ACTION),
    ("site-suspend", "post"): (
        transition("suspend", EnrolmentStatus.ACTIVE, reason="audit"),
        AGGREGATOR_ACTION,
    ),
    ("workload-class-list", "get"): (listing("workload-classes"), LIST),
    ("workload-class-list", "post"): (listing("workload-classes", workload_body), CREATE_CHILD),
    ("workload-class-detail", "get"): (detail(WorkloadClassFactory, "workload-classes"), READ_OWN),
    ("workload-class-detail", "put"): (
        detail(WorkloadClassFactory, "workload-classes", workload_body),
        WRITE_OWN,
    ),
    ("workload-class-detail", "patch"): (detail(WorkloadClassFactory, "workload-classes"), WRITE_OWN),
    ("workload-class-detail", "delete"): (
        detail(WorkloadClassFactory, "workload-classes"),
        (403, 204, 404, 403, 401),
    ),
    ("battery-list", "get"): (listing("batteries"), LIST),
    ("battery-list", "post"): (listing("batteries", battery_body), CREATE_CHILD),
    ("battery-detail", "get"): (detail(BatteryFactory, "batteries"), READ_OWN),
    ("battery-detail", "put"): (detail(BatteryFactory, "batteries", battery_body), WRITE_OWN),
    ("battery-detail", "patch"): (detail(BatteryFactory, "batteries"), WRITE_OWN),
    ("battery-detail", "delete"): (detail(BatteryFactory, "batteries"), (403, 204, 404, 403, 401)),
    ("pv-array-list", "get"): (listing("pv-arrays"), LIST),
    ("pv-array-list", "post"): (listing("pv-arrays", pv_body), CREATE_CHILD),
    ("pv-array-detail", "get"): (detail(PVArrayFactory, "pv-arrays"), READ_OWN),
    ("pv-array-detail", "put"): (detail(PVArrayFactory, "pv-arrays", pv_body), WRITE_OWN),
    ("pv-array-detail", "patch"): (detail(PVArrayFactory, "pv-arrays"), WRITE_OWN),
    ("pv-array-detail", "delete"): (detail(PVArrayFactory, "pv-arrays"), (403, 204, 404, 403, 401)),
}

CASES = [(name, method, persona, i) for (name, method) in MATRIX for i, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("name", "method", "persona", "index"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_permission_matrix(world: World, api_as, name: str, method: str, persona: str, index: int) -> None:  # type: ignore[no-untyped-def]
    setup, expected = MATRIX[(name, method)]
    url, body = setup(world)
    response = getattr(api_as(persona), method)(url, body, format="json")
    assert response.status_code == expected[index], (url, persona, response.content[:300])
    if response.status_code >= 400:
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["errors"], "every refusal names at least one reason"


def test_owner_lists_show_only_own_sites(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    mine = SiteFactory(owner=world.owner_a)
    theirs = SiteFactory(owner=world.owner_b)
    ids_a = {s["id"] for s in api_as("owner_a").get("/api/v1/sites/").json()["results"]}
    ids_staff = {s["id"] for s in api_as("staff").get("/api/v1/sites/").json()["results"]}
    assert ids_a == {mine.pk}
    assert {mine.pk, theirs.pk} <= ids_staff


# Expected status of the site VEN persona (an OpenADR VEN API client of owner A, bound to one site of A; bearer
# token) for each MATRIX row: the VEN reads only its own site (404 for owner A's other sites) and writes nothing in the registry. tests/reliability/test_access_matrix.py runs these and fails for a
# MATRIX row without one.
SITE_VEN: dict[tuple[str, str], int] = {
    ("api-root", "get"): 200,
    ("me", "get"): 200,
    ("site-list", "get"): 200,
    ("site-list", "post"): 403,
    ("site-detail", "get"): 404,
    ("site-detail", "put"): 403,
    ("site-detail", "patch"): 403,
    ("site-detail", "delete"): 403,
    ("site-history", "get"): 404,
    ("site-submit", "post"): 403,
    ("site-approve", "post"): 403,
    ("site-reject", "post"): 403,
    ("site-activate", "post"): 403,
    ("site-suspend", "post"): 403,
    ("workload-class-list", "get"): 200,
    ("workload-class-list", "post"): 403,
    ("workload-class-detail", "get"): 404,
    ("workload-class-detail", "put"): 403,
    ("workload-class-detail", "patch"): 403,
    ("workload-class-detail", "delete"): 403,
    ("battery-list", "get"): 200,
    ("battery-list", "post"): 403,
    ("battery-detail", "get"): 404,
    ("battery-detail", "put"): 403,
    ("battery-detail", "patch"): 403,
    ("battery-detail", "delete"): 403,
    ("pv-array-list", "get"): 200,
    ("pv-array-list", "post"): 403,
    ("pv-array-detail", "get"): 404,
    ("pv-array-detail", "put"): 403,
    ("pv-array-detail", "patch"): 403,
    ("pv-array-detail", "delete"): 403,
}
