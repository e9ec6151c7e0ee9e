"""Responses conform to openadr3.yaml's schemas, checked with an independent OpenAPI 3.0 validator
(``openapi-schema-validator``, installed with ``openadr3``), not with the VTN's own request validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.accounts.principal import ApiClientIdentity, principal_for
from apps.openadr import services
from apps.openadr.access import caller_for
from apps.openadr.models import Program
from apps.openadr.selectors import site_target
from tests.apps.openadr.callback_sink import shared_sink
from tests.apps.openadr.conftest import BASE, Vtn, event_body

validators = pytest.importorskip(
    "openapi_schema_validator", reason="installed with openadr3 (requirements-dev.txt)"
)

SPEC = yaml.safe_load((Path(__file__).resolve().parents[3] / "apps/openadr/spec/openadr3.yaml").read_text())


def check(instance: Any, schema_name: str, *, drop_object_type: bool = False) -> None:
    """Validate ``instance`` against ``components.schemas[schema_name]`` (OpenAPI 3.0 semantics: nullable …)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    if drop_object_type:  # ven/resource: objectMetadata.objectType and the request's discriminator contradict
        instance = {k: v for k, v in instance.items() if k != "objectType"}
    validators.validate(instance, schema, cls=validators.OAS30Validator)


def test_program_event_report_subscription_responses_match_the_spec(vtn: Vtn, program: Program) -> None:
    vtn.register("ven_a")
    bl, ven = vtn.client("bl"), vtn.client("ven_a")
    program_json = bl.get(f"{BASE}/programs/{program.pk}").json()
    check(program_json, "program")
    for item in bl.get(f"{BASE}/programs").json():
        check(item, "program")
    event = bl.post(
        f"{BASE}/events", event_body(program, targets=[site_target(vtn.site_a)]), format="json"
    ).json()
    check(event, "event")
    check(ven.get(f"{BASE}/events/{event['id']}").json(), "event")
    interval = {"id": 0, "payloads": [{"type": "DEMAND", "values": [800.0]}]}
    report = ven.post(
        f"{BASE}/reports",
        {
            "eventID": event["id"],
            "clientName": "a",
            "resources": [{"resourceName": "m", "intervals": [interval]}],
        },
        format="json",
    ).json()
    check(report, "report")
    operation = {"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": shared_sink().url("/cb")}
    subscription = ven.post(
        f"{BASE}/subscriptions", {"clientName": "a", "objectOperations": [operation]}, format="json"
    ).json()
    check(subscription, "subscription")


def test_ven_and_resource_responses_match_metadata_and_request_schemas(vtn: Vtn) -> None:
    ven = vtn.register("ven_a")
    body = vtn.client("bl").get(f"{BASE}/vens/{ven.pk}").json()
    check(body, "objectMetadata")
    check({**body, "objectType": "BL_VEN_REQUEST"}, "BlVenRequest")
    caller = caller_for(principal_for(ApiClientIdentity(vtn.credentials["ven_a"].api_client)))
    resource = services.resource_create(caller=caller, data={"venID": str(ven.pk), "resourceName": "ups"})
    body = vtn.client("ven_a").get(f"{BASE}/resources/{resource.pk}").json()
    check(body, "objectMetadata")
    check({**body, "objectType": "BL_RESOURCE_REQUEST"}, "BlResourceRequest")


def test_auth_and_problem_responses_match_the_spec(vtn: Vtn) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    check(api.get(f"{BASE}/auth/server").json(), "authServerInfo")
    creds = vtn.credentials["bl"]
    token = api.post(
        f"{BASE}/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": creds.api_client.client_id,
            "client_secret": creds.client_secret,
        },
        format="multipart",
    ).json()
    check(token, "clientCredentialResponse")
    for response in (
        api.get(f"{BASE}/programs"),
        vtn.client("bl").post(f"{BASE}/programs", {}, format="json"),
        vtn.client("ven_a").post(f"{BASE}/programs", {"programName": "x"}, format="json"),
        vtn.client("bl").get(f"{BASE}/events/99999"),
        api.post(f"{BASE}/auth/token", {"grant_type": "client_credentials"}, format="multipart"),
    ):
        check(response.json(), "problem")
        check({"error": response.json().get("error", "invalid_request")}, "authError")
