"""Fixtures of the VTN tests: two enrolled sites with VEN clients, a business-logic client, a market-operator
client, and DRF clients authenticated with each one's bearer token.

Personas (every permission test): ``bl`` (the aggregator's business logic), ``ven_a`` / ``ven_b`` (VENs of site A
of owner A and site B of owner B), ``operator`` (a market operator's API client) and ``anonymous``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.choices import ApiClientRole
from apps.accounts.services import IssuedCredentials, access_token_issue, api_client_create
from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from apps.assets.services import site_credential_bind
from apps.openadr import services
from apps.openadr.models import Program, Ven
from tests.conftest import World
from tests.factories import SiteFactory, zone

BASE = "/openadr3/3.1.0"
VTN_PERSONAS = ("bl", "ven_a", "ven_b", "operator", "anonymous")


@dataclass
class Vtn:
    """The VTN's world: sites, credentials per persona, and helpers."""

    world: World
    site_a: Site
    site_b: Site
    credentials: dict[str, IssuedCredentials]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, persona: str) -> str:
        if persona not in self.tokens:
            creds = self.credentials[persona]
            issued = access_token_issue(
                client_id=creds.api_client.client_id, client_secret=creds.client_secret
            )
            self.tokens[persona] = issued.access_token
        return self.tokens[persona]

    def client(self, persona: str) -> APIClient:
        api = APIClient()
        if persona != "anonymous":
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token(persona)}")
        return api

    def client_id(self, persona: str) -> str:
        return self.credentials[persona].api_client.client_id

    def register(self, persona: str, name: str | None = None) -> Ven:
        """A ven object for ``ven_a`` / ``ven_b``, created by business logic."""
        return services.ven_create(
            caller=None,
            data={
                "objectType": "BL_VEN_REQUEST",
                "clientID": self.client_id(persona),
                "venName": name or persona,
            },
        )


def make_vtn(world: World) -> Vtn:
    site_a = SiteFactory(owner=world.owner_a, name="Site A", enrolment_status=EnrolmentStatus.ACTIVE)
    site_b = SiteFactory(
        owner=world.owner_b,
        name="Site B",
        enrolment_status=EnrolmentStatus.ACTIVE,
        market_zone=zone("ERCOT_HUB"),
    )
    creds = {
        "bl": api_client_create(organisation=world.aggregator, role=ApiClientRole.BL, name="BL"),
        "ven_a": api_client_create(organisation=world.owner_a, role=ApiClientRole.VEN, name="VEN A"),
        "ven_b": api_client_create(organisation=world.owner_b, role=ApiClientRole.VEN, name="VEN B"),
        "operator": api_client_create(organisation=world.operator, role=ApiClientRole.ADMIN, name="Operator"),
    }
    site_credential_bind(api_client_id=creds["ven_a"].api_client.pk, site=site_a)
    site_credential_bind(api_client_id=creds["ven_b"].api_client.pk, site=site_b)
    return Vtn(world=world, site_a=site_a, site_b=site_b, credentials=creds)


@pytest.fixture
def vtn(world: World) -> Vtn:
    return make_vtn(world)


@pytest.fixture
def program(vtn: Vtn) -> Program:
    return services.program_create(caller=None, data={"programName": "dr-program"})


def event_body(program: Program, **extra: Any) -> dict[str, Any]:
    """An event with two 15-minute IMPORT_CAPACITY_LIMIT intervals."""
    return {
        "programID": str(program.pk),
        "eventName": "cap",
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}
        ],
        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT15M"},
        "intervals": [
            {"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [800.0]}]},
            {"id": 1, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [750.0]}]},
        ],
        **extra,
    }


PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem document with ``status`` (openadr3.yaml ``problem``)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["instance"].startswith("http") and "/openadr3/3.1.0/" in body["instance"]
    return body
