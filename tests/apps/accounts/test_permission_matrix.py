"""Permission matrix of the accounts API (``/api/v1/audit/``): every endpoint × method × persona.

Expected statuses in the order of ``PERSONAS``: staff, owner_a, owner_b, operator, anonymous (``SITE_VEN`` below). The
audit log names every organisation's sites, so only aggregator members read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.accounts.audit import audit_record
from apps.accounts.models import AuditAction
from tests.conftest import PERSONAS, World
from tests.factories import SiteFactory

Setup = Callable[[World], tuple[str, dict[str, Any] | None]]


def _entry(world: World) -> tuple[str, None]:
    site = SiteFactory(owner=world.owner_a)
    entry = audit_record(actor=world.users["staff"], action=AuditAction.SITE_APPROVE, target=site)
    return f"/api/v1/audit/{entry.pk}/", None


STAFF_ONLY = (200, 403, 403, 403, 401)

MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("audit-entry-list", "get"): (lambda w: ("/api/v1/audit/", None), STAFF_ONLY),
    ("audit-entry-detail", "get"): (_entry, STAFF_ONLY),
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
        assert response.json()["errors"], "every refusal names a reason"


# Expected status of the site VEN persona for each MATRIX row (run by tests/reliability/test_access_matrix.py).
SITE_VEN: dict[tuple[str, str], int] = {
    ("audit-entry-list", "get"): 403,
    ("audit-entry-detail", "get"): 403,
}
