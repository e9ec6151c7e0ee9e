"""Permission matrix of the dispatch API: every endpoint × method × persona."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.core import clock
from apps.dispatch import services
from apps.dispatch.models import Delivery
from tests.conftest import PERSONAS, World
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory

from .conftest import activate

Setup = Callable[[World], tuple[str, dict[str, Any] | None]]


def _delivery(world: World) -> Delivery:
    """A delivery to one of owner A's sites (the sites fixture is not available here: make two sites)."""
    for name in ("PM A", "PM B"):
        site = SiteFactory(
            owner=world.owner_a, name=name, enrolment_status="active", grid_import_limit_kw=1e6
        )
        WorkloadClassFactory(site=site, name="batch", share_pct=50, max_delay_h=6)
        BatteryFactory(site=site)
    plan = services.dispatch_activation(activation_id=activate(world, 500).pk)
    return plan.deliveries.first()


def delivery(suffix: str = "") -> Setup:
    return lambda w: (f"/api/v1/dispatch/deliveries/{_delivery(w).pk}/{suffix}", None)


def plan_detail(world: World) -> tuple[str, None]:
    return f"/api/v1/dispatch/plans/{_delivery(world).plan_id}/", None


def webhook_create(world: World) -> tuple[str, dict[str, Any]]:
    site = SiteFactory(owner=world.owner_a)
    return "/api/v1/dispatch/webhooks/", {"site": site.pk, "url": "https://dc.example/hook"}


def webhook_detail(world: World) -> tuple[str, None]:
    from apps.dispatch.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        site=SiteFactory(owner=world.owner_a), url="https://x.example", secret="s"
    )
    return f"/api/v1/dispatch/webhooks/{endpoint.pk}/", None


MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("dispatch-delivery-list", "get"): (
        lambda w: ("/api/v1/dispatch/deliveries/", None),
        (200, 200, 200, 200, 401),
    ),
    ("dispatch-delivery-detail", "get"): (delivery(), (200, 200, 404, 404, 401)),
    ("dispatch-delivery-acknowledge", "post"): (delivery("acknowledge/"), (403, 200, 404, 404, 401)),
    ("dispatch-plan-list", "get"): (lambda w: ("/api/v1/dispatch/plans/", None), (200, 200, 200, 200, 401)),
    ("dispatch-plan-detail", "get"): (plan_detail, (200, 404, 404, 404, 401)),
    ("dispatch-webhook-list", "get"): (
        lambda w: ("/api/v1/dispatch/webhooks/", None),
        (200, 200, 200, 200, 401),
    ),
    ("dispatch-webhook-list", "post"): (webhook_create, (403, 201, 400, 400, 401)),
    ("dispatch-webhook-detail", "get"): (webhook_detail, (200, 200, 404, 404, 401)),
}

CASES = [(name, method, persona, i) for (name, method) in MATRIX for i, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("name", "method", "persona", "index"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_permission_matrix(world: World, api_as, name: str, method: str, persona: str, index: int) -> None:  # type: ignore[no-untyped-def]
    setup, expected = MATRIX[(name, method)]
    try:
        url, body = setup(world)
        response = getattr(api_as(persona), method)(url, body, format="json")
    finally:
        clock.replay_stop()
    assert response.status_code == expected[index], (url, persona, response.content[:300])


# Expected status of the site VEN persona (an OpenADR VEN API client of owner A, bound to one site of A; bearer
# token) for each MATRIX row: deliveries and webhooks of owner A's other sites are invisible to the VEN (404 / 400 no such site). tests/reliability/test_access_matrix.py runs these and fails for a
# MATRIX row without one.
SITE_VEN: dict[tuple[str, str], int] = {
    ("dispatch-delivery-list", "get"): 200,
    ("dispatch-delivery-detail", "get"): 404,
    ("dispatch-delivery-acknowledge", "post"): 404,
    ("dispatch-plan-list", "get"): 200,
    ("dispatch-plan-detail", "get"): 404,
    ("dispatch-webhook-list", "get"): 200,
    ("dispatch-webhook-list", "post"): 400,
    ("dispatch-webhook-detail", "get"): 404,
}
