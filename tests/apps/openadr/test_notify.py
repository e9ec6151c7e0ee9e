"""Webhook notifications (apps/openadr/services/notify.py): callback verification, recording with the write,
fan-out to matching subscriptions with their bearer tokens, retries and the delivery log.

The fan-out runs here in the test process (``notification_fan_out``, the service the Celery task calls); the
task path through a real worker is tests/apps/openadr/test_notify_worker.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.openadr import services
from apps.openadr.models import Notification, NotificationDelivery, NotificationStatus
from apps.openadr.selectors import site_target
from apps.openadr.services import notify
from tests.apps.openadr.callback_sink import CallbackSink
from tests.apps.openadr.conftest import BASE, Vtn, assert_problem, event_body
from tests.apps.openadr.test_spec_conformance import SPEC, check, validators


def check_notification(body: dict[str, Any]) -> None:
    """``body`` is an openadr3.yaml ``notification`` whose ``object`` is the schema its ``objectType`` names (the
    validator does not follow the ``object``'s discriminator, and an event also matches other oneOf branches)."""
    envelope = dict(SPEC["components"]["schemas"]["notification"])
    envelope["properties"] = {**envelope["properties"], "object": {"type": "object"}}
    validators.validate(body, {**envelope, "components": SPEC["components"]}, cls=validators.OAS30Validator)
    check(body["object"], body["objectType"].lower())


@pytest.fixture
def sink() -> Iterator[CallbackSink]:
    server = CallbackSink().start()
    yield server
    server.stop()


def subscription(url: str, *, objects: list[str] | None = None, token: str = "", **extra: Any) -> dict:
    operation: dict[str, Any] = {
        "objects": objects or ["EVENT"],
        "operations": ["CREATE", "UPDATE", "DELETE"],
        "callbackUrl": url,
    }
    if token:
        operation["bearerToken"] = token
    return {"clientName": "c", "objectOperations": [operation], **extra}


def fan_out_all() -> list[int]:
    """Fan out every recorded, not yet fanned-out notification; returns the deliveries to retry."""
    retry: list[int] = []
    for pk in (
        Notification.objects.filter(fanned_out_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    ):
        retry.extend(notify.notification_fan_out(notification_id=pk))
    return retry


@pytest.mark.parametrize(
    ("path", "why"),
    [("/noecho", "did not echo"), ("/missing", "HTTP 404")],
)
def test_a_callback_that_fails_the_echo_challenge_refuses_the_subscription(
    vtn: Vtn, sink: CallbackSink, path: str, why: str
) -> None:
    response = vtn.client("ven_a").post(f"{BASE}/subscriptions", subscription(sink.url(path)), format="json")
    body = assert_problem(response, 400)
    (error,) = body["errors"]
    assert error["field"] == "objectOperations[0].callbackUrl"
    assert sink.url(path) in error["reason"] and why in error["reason"]
    assert path in sink.challenges
    assert vtn.client("ven_a").get(f"{BASE}/subscriptions").json() == []


def test_an_unreachable_callback_refuses_the_subscription(vtn: Vtn) -> None:
    response = vtn.client("bl").post(
        f"{BASE}/subscriptions", subscription("http://127.0.0.1:9/cb"), format="json"
    )
    body = assert_problem(response, 400)
    assert "http://127.0.0.1:9/cb" in body["errors"][0]["reason"]


def test_callbacks_must_be_https_to_public_hosts_unless_loopback_is_allowed(
    vtn: Vtn, sink: CallbackSink, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.OPENADR_ALLOW_LOOPBACK_CALLBACKS = False
    bl = vtn.client("bl")
    for url, reason in [
        (sink.url("/cb"), "https://"),
        ("https://127.0.0.1/cb", "private or reserved"),
        ("https://10.1.2.3/cb", "private or reserved"),
        ("https://localhost/cb", "loopback"),
    ]:
        body = assert_problem(bl.post(f"{BASE}/subscriptions", subscription(url), format="json"), 400)
        assert reason in body["errors"][0]["reason"], (url, body)
    assert sink.challenges == []  # refused before any request is made


def test_the_challenge_is_made_on_create_and_for_new_callbacks_on_update(
    vtn: Vtn, sink: CallbackSink
) -> None:
    ven = vtn.client("ven_a")
    created = ven.post(f"{BASE}/subscriptions", subscription(sink.url("/one"), token="t1"), format="json")
    assert created.status_code == 201, created.content
    assert sink.challenges == ["/one"]
    sub_id = created.json()["id"]
    assert (
        ven.put(f"{BASE}/subscriptions/{sub_id}", subscription(sink.url("/one")), format="json").status_code
        == 200
    )
    assert sink.challenges == ["/one"]  # unchanged URL: not challenged again
    refused = ven.put(f"{BASE}/subscriptions/{sub_id}", subscription(sink.url("/noecho")), format="json")
    assert_problem(refused, 400)
    assert ven.get(f"{BASE}/subscriptions/{sub_id}").json()["objectOperations"][0]["callbackUrl"] == sink.url(
        "/one"
    )


def test_writes_record_nothing_while_nobody_subscribes(vtn: Vtn, program) -> None:  # type: ignore[no-untyped-def]
    services.event_create(caller=None, data=event_body(program))
    assert not Notification.objects.exists()


def test_a_targeted_event_is_sent_to_the_subscribed_vens_that_may_read_it(
    vtn: Vtn, program, sink: CallbackSink
) -> None:  # type: ignore[no-untyped-def]
    vtn.register("ven_a")
    vtn.register("ven_b")
    for persona, path, token in [("ven_a", "/a", "tok-a"), ("ven_b", "/b", "tok-b"), ("bl", "/bl", "")]:
        response = vtn.client(persona).post(
            f"{BASE}/subscriptions", subscription(sink.url(path), token=token), format="json"
        )
        assert response.status_code == 201, response.content
    Notification.objects.all().delete()  # the subscriptions' own CREATE notifications (nobody subscribes to them)
    body = event_body(program, targets=[site_target(vtn.site_a), "private-label"])
    created = vtn.client("bl").post(f"{BASE}/events", body, format="json")
    assert created.status_code == 201, created.content
    assert fan_out_all() == []
    (to_a,) = sink.posts("/a")
    assert sink.posts("/b") == []  # VEN B may not read an event targeted at site A
    (to_bl,) = sink.posts("/bl")
    assert to_a.authorization == "Bearer tok-a" and to_bl.authorization == ""
    check_notification(to_a.body)
    check_notification(to_bl.body)
    assert to_a.body["operation"] == "CREATE" and to_a.body["objectType"] == "EVENT"
    assert to_a.body["object"]["id"] == created.json()["id"]
    assert to_a.body["object"]["targets"] == [
        site_target(vtn.site_a)
    ]  # the label it was not granted is hidden
    assert to_bl.body["object"]["targets"] == [site_target(vtn.site_a), "private-label"]
    log = NotificationDelivery.objects.order_by("callback_url")
    assert [(d.callback_url, d.status, d.attempts, d.last_status_code) for d in log] == [
        (sink.url("/a"), NotificationStatus.SENT, 1, 200),
        (sink.url("/bl"), NotificationStatus.SENT, 1, 200),
    ]

    # update and delete are sent too; a deleted event is still described
    vtn.client("bl").put(f"{BASE}/events/{created.json()['id']}", {**body, "eventName": "v2"}, format="json")
    vtn.client("bl").delete(f"{BASE}/events/{created.json()['id']}")
    fan_out_all()
    assert [(p.body["operation"], p.body["object"].get("eventName")) for p in sink.posts("/a")] == [
        ("CREATE", "cap"),
        ("UPDATE", "v2"),
        ("DELETE", "v2"),
    ]
    # a redelivered fan-out task sends nothing twice
    assert notify.notification_fan_out(notification_id=Notification.objects.order_by("pk").first().pk) == []
    assert len(sink.posts("/a")) == 3


def test_events_published_for_dispatch_notify_the_site_ven(vtn: Vtn, sink: CallbackSink) -> None:
    from datetime import UTC, datetime, timedelta

    vtn.register("ven_b")
    vtn.client("ven_b").post(f"{BASE}/subscriptions", subscription(sink.url("/b")), format="json")
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    intervals = [(start, timedelta(minutes=15), {"DISPATCH_SETPOINT": 400.0})]
    services.openadr_event_ensure(key="plan-1-b", site=vtn.site_b, intervals=intervals)
    services.openadr_event_ensure(
        key="plan-1-b", site=vtn.site_b, intervals=intervals
    )  # unchanged: no update
    services.openadr_event_publish(site=vtn.site_a, intervals=intervals)  # site A's: not VEN B's
    fan_out_all()
    (post,) = sink.posts("/b")
    assert post.body["operation"] == "CREATE"
    assert post.body["object"]["intervals"][0]["payloads"] == [
        {"type": "DISPATCH_SETPOINT", "values": [400.0]}
    ]


def test_a_failed_delivery_is_retried_then_given_up(vtn: Vtn, program, sink: CallbackSink) -> None:  # type: ignore[no-untyped-def]
    bl = vtn.client("bl")
    for path in ("/flaky", "/fail"):
        assert (
            bl.post(f"{BASE}/subscriptions", subscription(sink.url(path)), format="json").status_code == 201
        )
    services.event_create(caller=None, data=event_body(program))
    retry = fan_out_all()
    assert len(retry) == 2
    flaky = NotificationDelivery.objects.get(callback_url=sink.url("/flaky"))
    assert (
        flaky.status == NotificationStatus.PENDING and flaky.attempts == 1 and flaky.last_status_code == 503
    )
    assert notify.notification_delivery_send(delivery_id=flaky.pk).status == NotificationStatus.SENT
    assert len(sink.posts("/flaky")) == 1
    failing = NotificationDelivery.objects.get(callback_url=sink.url("/fail"))
    for _ in range(notify.MAX_DELIVERY_ATTEMPTS - 2):
        with pytest.raises(notify.RetryableNotificationError):
            notify.notification_delivery_send(delivery_id=failing.pk)
    final = notify.notification_delivery_send(delivery_id=failing.pk)
    assert final.status == NotificationStatus.FAILED and final.attempts == notify.MAX_DELIVERY_ATTEMPTS
    assert final.last_error == "HTTP 500"


def test_the_delivery_log_is_in_the_admin_without_the_token(
    vtn: Vtn, program, sink: CallbackSink, admin_client
) -> None:  # type: ignore[no-untyped-def]
    vtn.client("bl").post(
        f"{BASE}/subscriptions", subscription(sink.url("/cb"), token="s3cret"), format="json"
    )
    services.event_create(caller=None, data=event_body(program))
    fan_out_all()
    delivery = NotificationDelivery.objects.get()
    listing = admin_client.get("/admin/openadr/notificationdelivery/")
    assert listing.status_code == 200 and sink.url("/cb").encode() in listing.content
    page = admin_client.get(f"/admin/openadr/notificationdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and b"s3cret" not in page.content
    assert (
        admin_client.get(f"/admin/openadr/notification/{delivery.notification_id}/change/").status_code == 200
    )
