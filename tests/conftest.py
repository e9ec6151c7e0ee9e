"""Shared fixtures: the five personas of every permission test and API clients logged in as each.

Personas: ``staff`` (aggregator admin), ``owner_a`` and ``owner_b`` (admins of two site owners),
``operator`` (a market operator's admin) and ``anonymous``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from apps.accounts.choices import OrganisationKind, Role
from apps.accounts.models import Organisation, User
from tests.factories import MembershipFactory, OrganisationFactory

PERSONAS = ("staff", "owner_a", "owner_b", "operator", "anonymous")
#: PERSONAS plus ``site_ven``: the OpenADR VEN API client (role ``ven``, bearer token) of a site of owner A. Its
#: expected statuses are each matrix's ``SITE_VEN`` dict (run by tests/reliability/test_access_matrix.py).
ALL_PERSONAS = (*PERSONAS, "site_ven")


def require_service(env_var: str) -> str:
    """The URL of a service a test needs. Skips locally when unset, but fails in CI (``CI`` set): tests that need
    PostgreSQL or Redis must never silently skip there."""
    value = os.environ.get(env_var, "")
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{env_var} is not set in CI; this test needs the real service.")
        pytest.skip(f"{env_var} not set: this test needs the real service (make test sets it).")
    return value


@dataclass
class World:
    """The organisations and users behind the personas."""

    aggregator: Organisation
    owner_a: Organisation
    owner_b: Organisation
    operator: Organisation
    users: dict[str, User]
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    aggregator = OrganisationFactory(name="Aggregator", slug="agg", kind=OrganisationKind.AGGREGATOR)
    owner_a = OrganisationFactory(name="Owner A", slug="owner-a", kind=OrganisationKind.SITE_OWNER)
    owner_b = OrganisationFactory(name="Owner B", slug="owner-b", kind=OrganisationKind.SITE_OWNER)
    operator = OrganisationFactory(name="Operator", slug="operator", kind=OrganisationKind.MARKET_OPERATOR)
    users = {
        "staff": MembershipFactory(organisation=aggregator, role=Role.ADMIN, user__username="staff").user,
        "owner_a": MembershipFactory(organisation=owner_a, role=Role.ADMIN, user__username="owner_a").user,
        "owner_b": MembershipFactory(organisation=owner_b, role=Role.ADMIN, user__username="owner_b").user,
        "operator": MembershipFactory(organisation=operator, role=Role.ADMIN, user__username="operator").user,
    }
    return World(aggregator, owner_a, owner_b, operator, users)


def site_ven_token(world: World) -> str:
    """A bearer token of the VEN of an active site of owner A (created on first use, then reused)."""
    if "site_ven" not in world.tokens:
        from apps.accounts.choices import ApiClientRole
        from apps.accounts.services import access_token_issue, api_client_create
        from apps.assets.services import site_credential_bind
        from tests.factories import SiteFactory

        site = SiteFactory(owner=world.owner_a, name="VEN site A", enrolment_status="active")
        creds = api_client_create(organisation=world.owner_a, role=ApiClientRole.VEN, name="Site VEN A")
        site_credential_bind(api_client_id=creds.api_client.pk, site=site)
        issued = access_token_issue(client_id=creds.api_client.client_id, client_secret=creds.client_secret)
        world.tokens["site_ven"] = issued.access_token
    return world.tokens["site_ven"]


@pytest.fixture
def api_as(world: World):  # type: ignore[no-untyped-def]
    """``api_as(persona)`` → a DRF test client logged in (session) as that persona; ``anonymous`` is not."""

    def make(persona: str) -> APIClient:
        client = APIClient()
        if persona == "site_ven":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {site_ven_token(world)}")
        elif persona != "anonymous":
            client.force_login(world.users[persona])
        return client

    return make
