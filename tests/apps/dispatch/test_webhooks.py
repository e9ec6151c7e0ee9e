"""Signed webhook delivery: signature and replay rejection, delivery to a local sink, retries, acknowledgement."""

from __future__ import annotations

import json
import time

import pytest

from apps.dispatch import services, webhooks
from apps.dispatch.choices import Channel, DeliveryStatus
from apps.dispatch.models import Delivery, WebhookEndpoint

from .conftest import Sink

SECRET = "s3cret"


def test_signature_round_trip_and_refusals() -> None:
    body = b'{"a":1}'
    header = webhooks.sign(SECRET, body, timestamp=1_700_000_000)
    assert webhooks.verify(SECRET, header, body, now=1_700_000_010) == 1_700_000_000
    with pytest.raises(webhooks.SignatureError, match="does not match"):
        webhooks.verify(SECRET, header, b'{"a":2}', now=1_700_000_010)  # tampered body
    with pytest.raises(webhooks.SignatureError, match="does not match"):
        webhooks.verify("other", header, body, now=1_700_000_010)  # wrong secret
    with pytest.raises(webhooks.SignatureError, match="window"):
        webhooks.verify(SECRET, header, body, now=1_700_000_000 + 301)  # replayed after 5 minutes
    with pytest.raises(webhooks.SignatureError, match="malformed"):
        webhooks.verify(SECRET, "v1=abc", body)


def _hook_all(sites, url: str) -> None:  # type: ignore[no-untyped-def]
    for site in sites:
        WebhookEndpoint.objects.create(site=site, url=url, secret=SECRET)


def test_plan_delivered_signed_to_each_site(activation, sites, sink) -> None:  # type: ignore[no-untyped-def]
    _hook_all(sites, sink.url)
    plan = services.dispatch_activation(activation_id=activation.pk)
    assert set(plan.deliveries.values_list("channel", flat=True)) == {Channel.WEBHOOK}
    assert services.deliveries_send(plan_id=plan.pk) == []
    assert len(sink.requests) == 2
    received_sites = set()
    for headers, body in sink.requests:
        webhooks.verify(SECRET, headers[webhooks.SIGNATURE_HEADER.lower()], body, now=int(time.time()))
        payload = json.loads(body)
        assert headers[webhooks.IDEMPOTENCY_HEADER.lower()] == payload["idempotency_key"]
        assert payload["plan_version"] == 1 and len(payload["setpoints"]) == 4
        received_sites.add(payload["site_id"])
    assert received_sites == {s.pk for s in sites}
    assert set(plan.deliveries.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    # a second send finds nothing pending: no duplicate POSTs
    assert services.deliveries_send(plan_id=plan.pk) == [] and len(sink.requests) == 2


def test_failures_are_retried_then_failed(activation, sites) -> None:  # type: ignore[no-untyped-def]
    flaky = Sink(fail_first=1)
    try:
        _hook_all(sites[:1], flaky.url)
        plan = services.dispatch_activation(activation_id=activation.pk)
        delivery = plan.deliveries.get(channel=Channel.WEBHOOK)
        assert services.deliveries_send(plan_id=plan.pk) == [delivery.pk]
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING and "500" in delivery.last_error
        assert services.delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.DELIVERED  # the retry
        first_key = json.loads(flaky.requests[0][1])["idempotency_key"]
        assert json.loads(flaky.requests[1][1])["idempotency_key"] == first_key  # same key: receiver dedups
    finally:
        flaky.close()


def test_unreachable_site_fails_after_max_attempts(activation, sites) -> None:  # type: ignore[no-untyped-def]
    _hook_all(sites[:1], "http://127.0.0.1:9/unreachable")
    plan = services.dispatch_activation(activation_id=activation.pk)
    delivery = plan.deliveries.get(channel=Channel.WEBHOOK)
    for _ in range(services.MAX_WEBHOOK_ATTEMPTS - 1):
        with pytest.raises(services.RetryableDeliveryError):
            services.delivery_send(delivery_id=delivery.pk)
    assert services.delivery_send(delivery_id=delivery.pk).status == DeliveryStatus.FAILED
    assert Delivery.objects.get(pk=delivery.pk).attempts == services.MAX_WEBHOOK_ATTEMPTS


def test_site_acknowledges_its_setpoints(activation, sites, api_as) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    delivery = plan.deliveries.first()
    owner = api_as("owner_a")
    detail = owner.get(f"/api/v1/dispatch/deliveries/{delivery.pk}/").json()
    assert len(detail["setpoints"]) == 4
    ack = owner.post(f"/api/v1/dispatch/deliveries/{delivery.pk}/acknowledge/")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = owner.post(f"/api/v1/dispatch/deliveries/{delivery.pk}/acknowledge/")
    assert again.status_code == 409


def test_webhook_registration_shows_secret_once(world, api_as) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import SiteFactory

    site = SiteFactory(owner=world.owner_a)
    created = api_as("owner_a").post(
        "/api/v1/dispatch/webhooks/", {"site": site.pk, "url": "https://dc.example/h"}, format="json"
    )
    assert created.status_code == 201 and len(created.json()["secret"]) > 30
    listed = api_as("owner_a").get("/api/v1/dispatch/webhooks/").json()["results"]
    assert listed and "secret" not in listed[0]
    bad = api_as("owner_a").post(
        "/api/v1/dispatch/webhooks/", {"site": site.pk, "url": "not a url"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "url"
