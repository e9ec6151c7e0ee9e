"""The VTN's MQTT notifier: publishes notifications to a broker (Definition.md §"Notifications via Additional
Protocols", §Security "MQTT": MQTT 3.1.1 or later), with paho-mqtt.

On when ``settings.MQTT_URL`` is set (``mqtt://host:1883`` or ``mqtts://host:8883``, optional
``user:password@``); off in the zero-configuration demo. ``GET /notifiers`` advertises
``settings.OPENADR_MQTT_PUBLIC_URIS`` (default: ``MQTT_URL`` without its credentials) with ``ANONYMOUS``
authentication, or ``OAUTH2_BEARER_TOKEN`` with username ``{clientID}`` when
``settings.OPENADR_MQTT_AUTHENTICATION`` says so (the broker is then configured to accept VTN tokens).

One connection per process (made on first use, after a worker forks), messages at QoS 1, JSON bodies.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterable
from typing import Any

from django.conf import settings

#: Seconds to wait for the broker to acknowledge a batch of publishes.
PUBLISH_TIMEOUT_S = 10.0

_lock = threading.Lock()
_client: Any = None
_client_url = ""


class MqttError(Exception):
    """The broker cannot be reached or did not acknowledge the messages in time."""


def enabled() -> bool:
    """Whether the MQTT notifier is configured (``settings.MQTT_URL``)."""
    return bool(getattr(settings, "MQTT_URL", ""))


def public_uris() -> list[str]:
    """The broker URIs shown to clients in ``GET /notifiers`` (no credentials)."""
    configured = list(getattr(settings, "OPENADR_MQTT_PUBLIC_URIS", []) or [])
    if configured:
        return configured
    parts = urllib.parse.urlsplit(settings.MQTT_URL)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return [urllib.parse.urlunsplit((parts.scheme, netloc, "", "", ""))]


def binding() -> dict[str, Any]:
    """openadr3.yaml ``mqttNotifierBindingObject`` of this VTN's broker."""
    method = getattr(settings, "OPENADR_MQTT_AUTHENTICATION", "ANONYMOUS")
    authentication: dict[str, Any] = {"method": method}
    if method == "OAUTH2_BEARER_TOKEN":
        authentication["username"] = "{clientID}"
    return {"URIS": public_uris(), "serialization": "JSON", "authentication": authentication}


def _connect(url: str) -> Any:
    import paho.mqtt.client as paho

    parts = urllib.parse.urlsplit(url)
    client = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2,
        client_id=f"vpp-vtn-{threading.get_native_id()}-{time.time_ns()}",
        protocol=paho.MQTTv311,
    )
    if parts.username:
        client.username_pw_set(
            urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
        )
    if parts.scheme in ("mqtts", "ssl"):
        client.tls_set()
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    try:
        client.connect(
            parts.hostname or "127.0.0.1", parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        )
    except OSError as exc:
        raise MqttError(f"cannot connect to the MQTT broker at {parts.hostname}:{parts.port}: {exc}") from exc
    client.loop_start()
    return client


def _connected_client() -> Any:
    global _client, _client_url
    url = settings.MQTT_URL
    with _lock:
        if _client is None or _client_url != url or not _client.is_connected():
            if _client is not None:
                _client.loop_stop()
                _client.disconnect()
            _client, _client_url = _connect(url), url
            deadline = time.monotonic() + PUBLISH_TIMEOUT_S
            while not _client.is_connected() and time.monotonic() < deadline:
                time.sleep(0.01)
        return _client


def publish_many(messages: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Publish ``(topic, JSON body)`` pairs at QoS 1 and wait until the broker acknowledged them all.

    Returns:
        the number of messages published.

    Raises:
        MqttError: no broker, or not acknowledged within :data:`PUBLISH_TIMEOUT_S`.
    """
    client = _connected_client()
    infos = [
        client.publish(topic, json.dumps(body, separators=(",", ":")), qos=1) for topic, body in messages
    ]
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    for info in infos:
        if info.rc != 0:
            raise MqttError(f"publish refused (paho rc {info.rc})")
        info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
        if not info.is_published():
            raise MqttError("the broker did not acknowledge the notifications in time")
    return len(infos)
