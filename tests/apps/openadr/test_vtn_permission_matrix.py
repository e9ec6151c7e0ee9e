"""Permission matrix of the VTN: every endpoint × method × persona (``bl``, the VEN of site A, the VEN of site B,
a market operator's API client, anonymous). Objects of the matrix belong to site A's VEN.

(Named apart from ``test_permission_matrix.py``: ``tests/test_permission_coverage.py`` reads those for
``/api/v1/`` only; this one covers ``/openadr3/3.1.0/`` and checks its own completeness below.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import get_resolver

from apps.accounts.principal import ApiClientIdentity, principal_for
from apps.openadr import services
from apps.openadr.access import caller_for
from apps.openadr.models import Event, Program, Report, Resource, Subscription, Ven
from apps.openadr.selectors import site_target
from tests.apps.openadr.callback_sink import shared_sink
from tests.apps.openadr.conftest import BASE, VTN_PERSONAS, Vtn, assert_problem, event_body


@dataclass
class Objects:
    vtn: Vtn
    program: Program
    event: Event
    ven_a: Ven
    resource: Resource
    report: Report
    subscription: Subscription


@pytest.fixture
def objects(vtn: Vtn) -> Objects:
    ven_a = vtn.register("ven_a")  # site B's VEN stays unregistered: it may register itself
    program = services.program_create(caller=None, data={"programName": "matrix"})
    event = services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_a)]))
    resource = services.resource_create(
        caller=None, data={"clientID": ven_a.client_id, "venID": str(ven_a.pk), "resourceName": "ups"}
    )
    ven_caller = caller_for(principal_for(ApiClientIdentity(vtn.credentials["ven_a"].api_client)))
    report = services.report_create(caller=ven_caller, data=report_body(event))
    subscription = services.subscription_create(caller=ven_caller, data=subscription_body())
    return Objects(vtn, program, event, ven_a, resource, report, subscription)


def report_body(event: Event) -> dict[str, Any]:
    interval = {"id": 0, "payloads": [{"type": "DEMAND", "values": [800.0]}]}
    return {
        "eventID": str(event.pk),
        "clientName": "a",
        "resources": [{"resourceName": "m", "intervals": [interval]}],
    }


def subscription_body() -> dict[str, Any]:
    operation = {"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": shared_sink().url("/cb")}
    return {"clientName": "a", "objectOperations": [operation]}


def _spare_program() -> Program:
    return services.program_create(caller=None, data={"programName": "spare"})


Setup = Callable[[Objects], tuple[str, Any]]
R = (200, 200, 200, 403, 401)  # readable by every VTN client
BL_ONLY = (200, 403, 403, 403, 401)
OWN = (200, 200, 404, 403, 401)  # business logic and site A's VEN; B does not see it

MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("auth-server", "get"): (lambda o: ("auth/server", None), (200, 200, 200, 200, 200)),
    ("programs", "get"): (lambda o: ("programs", None), R),
    ("programs", "post"): (lambda o: ("programs", {"programName": "new"}), (201, 403, 403, 403, 401)),
    ("program", "get"): (lambda o: (f"programs/{o.program.pk}", None), R),
    ("program", "put"): (lambda o: (f"programs/{o.program.pk}", {"programName": "renamed"}), BL_ONLY),
    ("program", "delete"): (lambda o: (f"programs/{_spare_program().pk}", None), BL_ONLY),
    ("events", "get"): (lambda o: ("events", None), R),
    ("events", "post"): (lambda o: ("events", event_body(o.program)), (201, 403, 403, 403, 401)),
    ("event", "get"): (lambda o: (f"events/{o.event.pk}", None), OWN),
    ("event", "put"): (lambda o: (f"events/{o.event.pk}", event_body(o.program)), BL_ONLY),
    ("event", "delete"): (lambda o: (f"events/{o.event.pk}", None), BL_ONLY),
    ("vens", "get"): (lambda o: ("vens", None), R),
    # a VEN registers only itself: B (its own clientID) may, A (someone else's) may not
    ("vens", "post"): (
        lambda o: ("vens", {"venName": "new", "clientID": o.vtn.client_id("ven_b")}),
        (201, 403, 201, 403, 401),
    ),
    ("ven", "get"): (lambda o: (f"vens/{o.ven_a.pk}", None), OWN),
    ("ven", "put"): (
        lambda o: (f"vens/{o.ven_a.pk}", {"venName": "renamed", "clientID": o.ven_a.client_id}),
        OWN,
    ),
    ("ven", "delete"): (lambda o: (f"vens/{o.ven_a.pk}", None), BL_ONLY),
    ("resources", "get"): (lambda o: ("resources", None), R),
    ("resources", "post"): (
        lambda o: (
            "resources",
            {"venID": str(o.ven_a.pk), "resourceName": "r", "clientID": o.ven_a.client_id},
        ),
        (201, 201, 403, 403, 401),
    ),
    ("resource", "get"): (lambda o: (f"resources/{o.resource.pk}", None), OWN),
    ("resource", "put"): (
        lambda o: (
            f"resources/{o.resource.pk}",
            {"venID": str(o.ven_a.pk), "resourceName": "r2", "clientID": o.ven_a.client_id},
        ),
        OWN,
    ),
    ("resource", "delete"): (lambda o: (f"resources/{o.resource.pk}", None), OWN),
    ("reports", "get"): (lambda o: ("reports", None), R),
    ("reports", "post"): (lambda o: ("reports", report_body(o.event)), (403, 201, 409, 403, 401)),
    ("report", "get"): (lambda o: (f"reports/{o.report.pk}", None), OWN),
    ("report", "put"): (
        lambda o: (f"reports/{o.report.pk}", report_body(o.event)),
        (403, 200, 404, 403, 401),
    ),
    ("report", "delete"): (lambda o: (f"reports/{o.report.pk}", None), (403, 200, 404, 403, 401)),
    ("subscriptions", "get"): (lambda o: ("subscriptions", None), R),
    ("subscriptions", "post"): (lambda o: ("subscriptions", subscription_body()), (201, 201, 201, 403, 401)),
    ("subscription", "get"): (lambda o: (f"subscriptions/{o.subscription.pk}", None), OWN),
    ("subscription", "put"): (lambda o: (f"subscriptions/{o.subscription.pk}", subscription_body()), OWN),
    ("subscription", "delete"): (lambda o: (f"subscriptions/{o.subscription.pk}", None), OWN),
    ("notifiers", "get"): (lambda o: ("notifiers", None), R),
    # MQTT off (the default): no topics (tests/apps/openadr/test_notifiers.py covers them with MQTT on)
    ("mqtt-topics", "get"): (lambda o: ("notifiers/mqtt/topics/programs", None), (404, 404, 404, 403, 401)),
    ("not-found", "get"): (lambda o: ("nothing/here", None), (404, 404, 404, 404, 404)),
}


@pytest.mark.parametrize(("index", "persona"), list(enumerate(VTN_PERSONAS)))
@pytest.mark.parametrize("row", sorted(MATRIX), ids=lambda row: f"{row[1]}-{row[0]}")
def test_vtn_permission_matrix(objects: Objects, row: tuple[str, str], index: int, persona: str) -> None:
    setup, expected = MATRIX[row]
    path, body = setup(objects)
    call = getattr(objects.vtn.client(persona), row[1])
    response = call(f"{BASE}/{path}", body, format="json") if body is not None else call(f"{BASE}/{path}")
    assert response.status_code == expected[index], response.content
    if response.status_code >= 400:
        assert_problem(response, response.status_code)


PUBLIC = {("auth-token", "post")}  # authenticates by its body; tested in test_auth.py


def vtn_endpoints() -> set[tuple[str, str]]:
    """(route name, method) of every route of the ``openadr`` URL namespace."""
    found: set[tuple[str, str]] = set()
    resolver = get_resolver().namespace_dict["openadr"][1]
    for pattern in resolver.url_patterns:
        view_class = getattr(pattern.callback, "view_class", None)
        methods = (
            {"get"}
            if view_class is None
            else {m for m in ("get", "post", "put", "delete") if hasattr(view_class, m)}
        )
        found.update((pattern.name, m) for m in methods)
    return found


def test_matrix_covers_every_vtn_endpoint() -> None:
    endpoints = vtn_endpoints()
    assert endpoints - set(MATRIX) - PUBLIC == set()
    assert set(MATRIX) - endpoints == set()
