"""``GET /notifiers`` and the MQTT notifier (openadr3.yaml ``notifiersResponse``, ``notifierTopicsResponse``;
Definition.md §"Notifications via Additional Protocols").

The MQTT tests publish to a real broker: ``MQTT_TEST_URL`` (e.g. ``mqtt://127.0.0.1:1883``; bin/services prints
it). They skip locally without it and fail in CI, like the Redis tests."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from apps.openadr import mqtt, services
from apps.openadr.models import Notification, Program
from apps.openadr.selectors import site_target
from apps.openadr.services import notify
from tests.apps.openadr.conftest import BASE, Vtn, assert_problem, event_body
from tests.apps.openadr.test_spec_conformance import check
from tests.conftest import require_service


def test_notifiers_without_mqtt_is_webhook_only(vtn: Vtn) -> None:
    for persona in ("bl", "ven_a"):
        response = vtn.client(persona).get(f"{BASE}/notifiers")
        assert response.status_code == 200
        assert response.json() == {"WEBHOOK": True}
        check(response.json(), "notifiersResponse")


def test_notifiers_and_topics_with_mqtt_configured(vtn: Vtn, program: Program, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MQTT_URL = "mqtt://user:pw@broker.example:1883"
    settings.OPENADR_MQTT_TOPIC_PREFIX = "vtn1/"
    body = vtn.client("ven_a").get(f"{BASE}/notifiers").json()
    check(body, "notifiersResponse")
    assert body == {
        "WEBHOOK": True,
        "MQTT": {
            "URIS": ["mqtt://broker.example:1883"],
            "serialization": "JSON",
            "authentication": {"method": "ANONYMOUS"},
        },
    }
    bl, ven_a, ven_b = (vtn.client(p) for p in ("bl", "ven_a", "ven_b"))
    ven = vtn.register("ven_a")
    topics = bl.get(f"{BASE}/notifiers/mqtt/topics/events").json()
    check(topics, "notifierTopicsResponse")
    assert topics["topics"] == {
        "CREATE": "vtn1/events/create",
        "UPDATE": "vtn1/events/update",
        "DELETE": "vtn1/events/delete",
        "ALL": "vtn1/events/+",
    }
    assert ven_a.get(f"{BASE}/notifiers/mqtt/topics/programs").status_code == 200  # read_all
    assert_problem(ven_a.get(f"{BASE}/notifiers/mqtt/topics/events"), 403)  # read_bl
    own = ven_a.get(f"{BASE}/notifiers/mqtt/topics/vens/{ven.pk}/events").json()["topics"]
    assert own["CREATE"] == f"vtn1/vens/{ven.pk}/events/create"
    assert "CREATE" not in ven_a.get(f"{BASE}/notifiers/mqtt/topics/vens/{ven.pk}").json()["topics"]
    assert_problem(ven_b.get(f"{BASE}/notifiers/mqtt/topics/vens/{ven.pk}/events"), 404)  # not its ven
    hidden = services.program_create(
        caller=None, data={"programName": "b-only", "targets": [site_target(vtn.site_b)]}
    )
    assert_problem(ven_a.get(f"{BASE}/notifiers/mqtt/topics/programs/{hidden.pk}/events"), 404)
    assert bl.get(f"{BASE}/notifiers/mqtt/topics/programs/{hidden.pk}/events").status_code == 200
    assert_problem(bl.get(f"{BASE}/notifiers/mqtt/topics/programs/{program.pk}/nothing"), 404)


class Listener:
    """A paho subscriber collecting ``(topic, JSON body)`` from a real broker."""

    def __init__(self, url: str, topics: list[str]) -> None:
        from urllib.parse import urlsplit

        import paho.mqtt.client as paho

        self.messages: list[tuple[str, dict]] = []
        self._ready = threading.Event()
        parts = urlsplit(url)
        self.client = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, json.loads(m.payload)))
        self.client.on_subscribe = lambda *args: self._ready.set()
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe([(t, 1) for t in topics])
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        assert self._ready.wait(10), "could not subscribe to the broker"

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.services
def test_changes_are_published_to_a_real_broker_with_each_vens_view(
    vtn: Vtn, program: Program, settings
) -> None:  # type: ignore[no-untyped-def]
    url = require_service("MQTT_TEST_URL")
    settings.MQTT_URL = url
    prefix = f"test-{uuid.uuid4().hex[:8]}/"
    settings.OPENADR_MQTT_TOPIC_PREFIX = prefix
    ven_a, ven_b = vtn.register("ven_a"), vtn.register("ven_b")
    listener = Listener(url, [f"{prefix}events/+", f"{prefix}vens/+/events/+"])
    try:
        event = services.event_create(
            caller=None, data=event_body(program, targets=[site_target(vtn.site_a), "label"])
        )
        (row,) = Notification.objects.filter(
            object_type="EVENT"
        )  # recorded although nobody subscribed by webhook
        assert notify.notification_fan_out(notification_id=row.pk) == []
        got = dict(listener.wait_for(2))
    finally:
        listener.close()
    assert set(got) == {f"{prefix}events/create", f"{prefix}vens/{ven_a.pk}/events/create"}
    assert f"{prefix}vens/{ven_b.pk}/events/create" not in got  # VEN B may not read it
    mine = got[f"{prefix}vens/{ven_a.pk}/events/create"]
    assert mine["objectType"] == "EVENT" and mine["operation"] == "CREATE"
    assert mine["object"]["id"] == event.object_id and mine["object"]["targets"] == [site_target(vtn.site_a)]
    assert got[f"{prefix}events/create"]["object"]["targets"] == [site_target(vtn.site_a), "label"]


def test_an_unreachable_broker_is_an_mqtt_error(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MQTT_URL = "mqtt://127.0.0.1:9"
    with pytest.raises(mqtt.MqttError):
        mqtt.publish_many([("t/x", {"a": 1})])
