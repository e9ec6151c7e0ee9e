"""Permission matrix of the settlement API: every endpoint × method × persona.

Expected statuses for (staff, owner_a, owner_b, operator, anonymous). The settled event has a site of owner A and
a site of owner B; detail rows read owner A's figures, so owner B gets 404 (not visible) and the market operator
403 (no site or owner money in its API).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.assets.choices import EnrolmentStatus
from apps.settlement import services
from apps.settlement.models import SettlementRun
from tests.conftest import PERSONAS, World
from tests.factories import SiteFactory

from .conftest import make_event, plan

Setup = Callable[[World], tuple[str, dict[str, Any] | None]]


def _settled(world: World) -> SettlementRun:
    """A settled event with one site of each owner (no meter data: a quick run with zero delivery)."""
    site_a = SiteFactory(owner=world.owner_a, name="A1", enrolment_status=EnrolmentStatus.ACTIVE)
    site_b = SiteFactory(owner=world.owner_b, name="B1", enrolment_status=EnrolmentStatus.ACTIVE)
    event = make_event(world)
    plan(event, {site_a: (1000.0, 700.0), site_b: (500.0, 400.0)}, kw=400)
    run, _ = services.event_settle(event_id=event.pk)
    return run


def _site_a_row(world: World) -> tuple[str, None]:
    run = _settled(world)
    row = run.sites.get(owner=world.owner_a)
    return f"/api/v1/settlement/sites/{row.pk}/", None


def _statement(suffix: str = "") -> Setup:
    def setup(world: World) -> tuple[str, None]:
        _settled(world)
        return f"/api/v1/settlement/statements/2026-07/{suffix}?owner={world.owner_a.pk}", None

    return setup


def _settle(world: World) -> tuple[str, dict[str, Any]]:
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE)
    event = make_event(world)
    plan(event, {site: (1000.0, 700.0)}, kw=400)
    return "/api/v1/settlement/runs/settle/", {"event": event.pk}


OPERATOR_ONLY = (403, 403, 403, 200, 401)
STAFF_ONLY = (200, 403, 403, 403, 401)
STAFF_AND_OWNERS = (200, 200, 200, 403, 401)
OWNER_A_FIGURES = (200, 200, 404, 403, 401)

MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("market-performance-list", "get"): (lambda w: ("/api/v1/market/performance/", None), OPERATOR_ONLY),
    ("market-performance-detail", "get"): (
        lambda w: (f"/api/v1/market/performance/{_settled(w).pk}/", None),
        OPERATOR_ONLY,
    ),
    ("settlement-run-list", "get"): (lambda w: ("/api/v1/settlement/runs/", None), STAFF_ONLY),
    ("settlement-run-detail", "get"): (
        lambda w: (f"/api/v1/settlement/runs/{_settled(w).pk}/", None),
        STAFF_ONLY,
    ),
    ("settlement-run-settle", "post"): (_settle, (201, 403, 403, 403, 401)),
    ("settlement-site-list", "get"): (lambda w: ("/api/v1/settlement/sites/", None), STAFF_AND_OWNERS),
    ("settlement-site-detail", "get"): (_site_a_row, OWNER_A_FIGURES),
    ("settlement-site-summary", "get"): (
        lambda w: ("/api/v1/settlement/sites/summary/?group_by=event", None),
        STAFF_AND_OWNERS,
    ),
    ("settlement-statement-list", "get"): (
        lambda w: ("/api/v1/settlement/statements/", None),
        STAFF_AND_OWNERS,
    ),
    ("settlement-statement-detail", "get"): (_statement(), OWNER_A_FIGURES),
    ("settlement-statement-csv", "get"): (_statement("csv/"), OWNER_A_FIGURES),
    ("settlement-statement-page", "get"): (_statement("page/"), OWNER_A_FIGURES),
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


# Expected status of the site VEN persona (an OpenADR VEN API client of owner A, bound to one site of A; bearer
# token) for each MATRIX row: no staff or operator views; other sites' figures invisible (404); owner A's statements readable. tests/reliability/test_access_matrix.py runs these and fails for a
# MATRIX row without one.
SITE_VEN: dict[tuple[str, str], int] = {
    ("market-performance-list", "get"): 403,
    ("market-performance-detail", "get"): 403,
    ("settlement-run-list", "get"): 403,
    ("settlement-run-detail", "get"): 403,
    ("settlement-run-settle", "post"): 403,
    ("settlement-site-list", "get"): 200,
    ("settlement-site-detail", "get"): 404,
    ("settlement-site-summary", "get"): 200,
    ("settlement-statement-list", "get"): 200,
    ("settlement-statement-detail", "get"): 200,
    ("settlement-statement-csv", "get"): 200,
    ("settlement-statement-page", "get"): 200,
}
