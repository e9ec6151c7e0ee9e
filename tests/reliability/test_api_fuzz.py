"""Property-based fuzzing of ``/api/v1/`` with schemathesis, as each persona: no 5xx, and every response
conforms to the schema the API publishes (status code documented, content type, body schema).

Bounded for CI: ``VPP_FUZZ_EXAMPLES`` examples per operation and persona (default 4; 78 operations × 6
personas), generated deterministically (``derandomize``) so a CI failure reproduces locally. Raise it for a
deeper local run, e.g. ``VPP_FUZZ_EXAMPLES=50``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ALL_PERSONAS, World, site_ven_token
from tests.factories import BatteryFactory, SiteFactory, TimeSeriesFactory, WorkloadClassFactory

EXAMPLES = int(os.environ.get("VPP_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def persona_auth(world: World, persona: str) -> tuple[dict[str, str], dict[str, str]]:
    """``(headers, cookies)`` that authenticate as ``persona``: a session with a CSRF pair for people, a bearer
    token for the site VEN, nothing for anonymous."""
    if persona == "anonymous":
        return {}, {}
    if persona == "site_ven":
        return {"Authorization": f"Bearer {site_ven_token(world)}"}, {}
    client = Client()
    client.force_login(world.users[persona])
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret, as cookie and header
    return {"X-CSRFToken": csrf}, {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}


def seed(world: World) -> None:
    """A few objects of both owners so that generated ids sometimes hit real rows."""
    for owner in (world.owner_a, world.owner_b):
        site = SiteFactory(owner=owner)
        WorkloadClassFactory(site=site)
        BatteryFactory(site=site)
        TimeSeriesFactory(site=site)


def fuzz(
    schema: Any, headers: dict[str, str], cookies: dict[str, str], checks: list[Any] | None = None
) -> list[str]:
    """Run every operation of ``schema`` with :data:`EXAMPLES` generated cases; returns the failures."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers=headers, cookies=cookies)
            case.validate_response(response, checks=checks or CHECKS, headers=headers)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_api_survives_fuzzing_and_matches_its_schema(world: World, wsgi_app: Any, persona: str) -> None:
    seed(world)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    # the persona's own credentials, not generated ones; valid and invalid inputs both
    schema.config.generation.update(with_security_parameters=False, modes=list(GenerationMode))
    headers, cookies = persona_auth(world, persona)
    failures = fuzz(schema, headers, cookies)
    assert not failures, "\n\n".join(failures)
