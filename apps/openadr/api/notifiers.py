"""Notifier endpoints (openadr3.yaml tags ``notifiers`` and ``MQTT_notifier``).

- ``GET /notifiers``: ``notifiersResponse`` — ``WEBHOOK: true`` (this VTN sends webhook notifications), and
  ``MQTT`` (``mqttNotifierBindingObject``) when the MQTT notifier is configured (``settings.MQTT_URL``).
- ``GET /notifiers/mqtt/topics/…``: ``notifierTopicsResponse`` for the twelve paths of Definition.md
  §"Notifications via Additional Protocols" (see :data:`apps.openadr.notifications.TOPIC_STEMS`); 404 when
  MQTT is off. Roles follow the YAML's scopes: ``read_all`` paths for both roles, ``read_bl`` paths for
  business logic only (403), ``read_ven_objects`` paths (``vens/{venID}/…``) for business logic and the VEN
  owning that ven (any other ven: 404, as for ``GET /vens/{venID}``). ``programs/{programID}…`` answers 404
  for a program the caller cannot read.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import NotPermitted

from .. import mqtt, selectors
from ..notifications import operation_topics
from ..selectors import object_pk
from .base import VtnView, check_object_id
from .generic import BOTH

#: Topic paths only business logic may ask for (openadr3.yaml scope ``read_bl``).
BL_ONLY = frozenset({"events", "reports", "subscriptions", "vens", "resources"})
#: Paths without an object id.
PLAIN = frozenset({"programs", *BL_ONLY})
PROGRAM_PATHS = frozenset({"", "events"})
VEN_PATHS = frozenset({"", "events", "programs", "resources"})


class NotifiersView(VtnView):
    """``GET /notifiers``: the notifier bindings of this VTN."""

    roles: ClassVar = {"GET": BOTH}

    def get(self, request: Request) -> Response:
        body: dict = {"WEBHOOK": True}
        if mqtt.enabled():
            body["MQTT"] = mqtt.binding()
        return Response(body)


class MqttTopicsView(VtnView):
    """``GET /notifiers/mqtt/topics/{path}``: the MQTT topic names of one path's operations."""

    roles: ClassVar = {"GET": BOTH}

    def get(self, request: Request, path: str) -> Response:
        if not mqtt.enabled():
            raise Http404("The MQTT notifier is not configured on this VTN (GET /notifiers).")
        stem, with_create = self._stem(path.strip("/"))
        topics = operation_topics(stem, prefix=settings.OPENADR_MQTT_TOPIC_PREFIX, with_create=with_create)
        return Response({"topics": topics})

    def _stem(self, path: str) -> tuple[str, bool]:
        """``(topic stem, with CREATE)`` for a path, after the caller's access to it is checked."""
        parts = path.split("/")
        if path in PLAIN:
            if path in BL_ONLY and not self.caller.is_bl:
                raise NotPermitted(f"Only business logic may read the topics of {path} (scope read_bl).")
            return path, True
        if len(parts) in (2, 3) and parts[0] == "programs" and "/".join(parts[2:]) in PROGRAM_PATHS:
            self._readable_program(parts[1])
            return path, len(parts) == 3
        if len(parts) in (2, 3) and parts[0] == "vens" and "/".join(parts[2:]) in VEN_PATHS:
            self._readable_ven(parts[1])
            return path, len(parts) == 3
        raise Http404(f"No MQTT topics at notifiers/mqtt/topics/{path}.")

    def _readable_program(self, program_id: str) -> None:
        check_object_id(program_id)
        scope = selectors.target_scope(caller=self.caller)
        if (
            not selectors.program_list(caller=self.caller, scope=scope)
            .filter(pk=object_pk(program_id) or 0)
            .exists()
        ):
            raise Http404(f"No program with id '{program_id}' for this client.")

    def _readable_ven(self, ven_id: str) -> None:
        check_object_id(ven_id)
        if not selectors.ven_list(caller=self.caller).filter(pk=object_pk(ven_id) or 0).exists():
            raise Http404(f"No ven with id '{ven_id}' for this client.")
