"""Who is told of a change, and what they are sent: the pure core of the VTN's notifiers (no ORM, no I/O).

A change (a create, update or delete of a PROGRAM, EVENT, REPORT, SUBSCRIPTION, VEN or RESOURCE) is sent:

- by webhook (Definition.md §Subscriptions) to every callback of every subscription whose ``objectOperations``
  name the object type and the operation, whose ``programID`` (if any) is the object's program (programs,
  events, reports and subscriptions; vens and resources belong to no program and pass), whose ``targets`` (if
  any) filter as in response filtering (the object carries one of them), and whose client may read the object
  (§"Object Privacy": business logic reads everything; a VEN reads programs and events that are untargeted or
  carry one of its granted targets, an event only if its program is readable too, and only its own ven,
  resources, reports and subscriptions; targets it was not granted are hidden, as on a GET);
- by MQTT (§"Notifications via Additional Protocols") to the topics of :func:`mqtt_topics`, with the same body.

The body is openadr3.yaml ``notification``: ``objectType``, ``operation`` (``CREATE`` | ``UPDATE`` |
``DELETE``), ``object`` (as a GET by that client would show it) and ``targets`` (the object's shown targets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OBJECT_TYPES = ("PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION", "VEN", "RESOURCE")
OPERATIONS = ("CREATE", "UPDATE", "DELETE")
#: Object types whose objects carry ``targets`` (a subscription's targets filter only these).
TARGETED_TYPES = frozenset({"PROGRAM", "EVENT", "VEN", "RESOURCE", "SUBSCRIPTION"})
#: Object types that belong to a program (a subscription's ``programID`` filters only these).
PROGRAM_TYPES = frozenset({"PROGRAM", "EVENT", "REPORT", "SUBSCRIPTION"})
#: Object types a VEN reads only when it owns them (their ``clientID`` is the VEN's).
OWNED_TYPES = frozenset({"REPORT", "SUBSCRIPTION", "VEN", "RESOURCE"})
#: Object types whose targets a VEN sees only where granted (``apps.openadr.selectors.shown_targets``).
HIDDEN_TARGET_TYPES = frozenset({"PROGRAM", "EVENT"})


@dataclass(frozen=True)
class Change:
    """One write of a subscribable object, as recorded after the write.

    ``body``: the object as business logic reads it; ``program_ref``: its program's id (``""`` for none);
    ``program_targets``: that program's targets (for events); ``owner_client_id``: the ``clientID`` owning a
    ven, resource, report or subscription (``""`` otherwise); ``ven_ref``: the ven of a ven or resource.
    """

    object_type: str
    operation: str
    object_ref: str
    body: Mapping[str, Any]
    program_ref: str = ""
    program_targets: tuple[str, ...] | None = None
    owner_client_id: str = ""
    ven_ref: str = ""

    @property
    def targets(self) -> list[str] | None:
        """The object's targets (``None`` when it has none)."""
        targets = self.body.get("targets")
        return list(targets) if targets else None


@dataclass(frozen=True)
class Reader:
    """A client that may be told of changes: ``granted`` is ``None`` for business logic (it reads everything),
    else the VEN's granted targets (:func:`apps.openadr.selectors.granted_targets`)."""

    client_id: str
    granted: frozenset[str] | None


@dataclass(frozen=True)
class Subscriber:
    """A subscription as the matcher needs it (``object_operations`` as stored: ``objects``, ``operations``,
    ``callbackUrl``, optional ``bearerToken``)."""

    subscription_ref: str
    reader: Reader
    program_ref: str | None
    object_operations: tuple[Mapping[str, Any], ...]
    targets: tuple[str, ...] | None


@dataclass(frozen=True)
class Delivery:
    """One notification to POST: to ``callback_url`` with ``Authorization: Bearer <bearer_token>`` when given.
    ``view_targets``: the targets the reader was granted among the object's (``None``: business logic's full
    view), enough to rebuild ``body`` from the change (:func:`body_for_view`) when the delivery is retried."""

    subscription_ref: str
    client_id: str
    callback_url: str
    bearer_token: str
    body: dict[str, Any]
    view_targets: tuple[str, ...] | None = None


def readable(change: Change, reader: Reader) -> bool:
    """Whether ``reader`` may read the changed object (module docstring, §"Object Privacy")."""
    if reader.granted is None:
        return True
    if change.object_type in OWNED_TYPES:
        return bool(change.owner_client_id) and change.owner_client_id == reader.client_id
    if not _untargeted_or_granted(change.targets, reader.granted):
        return False
    if change.object_type == "EVENT":
        return _untargeted_or_granted(change.program_targets, reader.granted)
    return True


def _untargeted_or_granted(targets: Iterable[str] | None, granted: frozenset[str]) -> bool:
    targets = list(targets or [])
    return not targets or not granted.isdisjoint(targets)


def shown_object(change: Change, reader: Reader) -> dict[str, Any]:
    """The object as ``reader`` would GET it: a VEN sees only its granted targets of programs and events."""
    body = dict(change.body)
    if reader.granted is None or change.object_type not in HIDDEN_TARGET_TYPES or not change.targets:
        return body
    shown = [t for t in change.targets if t in reader.granted]
    if shown:
        body["targets"] = shown
    else:
        body.pop("targets", None)
    return body


def notification_body(change: Change, reader: Reader) -> dict[str, Any]:
    """openadr3.yaml ``notification`` for ``reader`` (``targets`` left out when the object shows none)."""
    obj = shown_object(change, reader)
    body: dict[str, Any] = {"objectType": change.object_type, "operation": change.operation, "object": obj}
    if obj.get("targets") and change.object_type in TARGETED_TYPES:
        body["targets"] = list(obj["targets"])
    return body


def _passes_filters(change: Change, subscriber: Subscriber) -> bool:
    program_bound = subscriber.program_ref and change.object_type in PROGRAM_TYPES
    if program_bound and change.program_ref != subscriber.program_ref:
        return False
    if subscriber.targets and change.object_type in TARGETED_TYPES:
        wanted = frozenset(subscriber.targets)
        granted = subscriber.reader.granted
        effective = wanted if granted is None else wanted & granted
        if effective.isdisjoint(change.targets or []):
            return False
    return readable(change, subscriber.reader)


def deliveries(change: Change, subscribers: Iterable[Subscriber]) -> list[Delivery]:
    """The webhook deliveries of ``change``: one per matching subscription and callback URL (a subscription
    naming one URL in two ``objectOperations`` entries that both match is sent once)."""
    out: list[Delivery] = []
    for subscriber in subscribers:
        urls: dict[str, str] = {}
        for operation in subscriber.object_operations:
            if change.object_type in operation.get("objects", ()) and change.operation in operation.get(
                "operations", ()
            ):
                urls.setdefault(str(operation["callbackUrl"]), str(operation.get("bearerToken") or ""))
        if not urls or not _passes_filters(change, subscriber):
            continue
        body = notification_body(change, subscriber.reader)
        granted = subscriber.reader.granted
        view = None if granted is None else tuple(t for t in change.targets or [] if t in granted)
        out.extend(
            Delivery(subscriber.subscription_ref, subscriber.reader.client_id, url, token, body, view)
            for url, token in urls.items()
        )
    return out


def body_for_view(change: Change, view_targets: Iterable[str] | None) -> dict[str, Any]:
    """The notification body of a delivery, rebuilt from its change and its ``view_targets``."""
    granted = None if view_targets is None else frozenset(view_targets)
    return notification_body(change, Reader(client_id="", granted=granted))


# --- MQTT topics (Definition.md §"Notifications via Additional Protocols") ----------------------------------

#: ``GET /notifiers/mqtt/topics/<path>`` → the topic stem; ``{programID}`` / ``{venID}`` are filled in.
TOPIC_STEMS = {
    "programs": "programs",
    "programs/{programID}": "programs/{programID}",
    "events": "events",
    "programs/{programID}/events": "programs/{programID}/events",
    "reports": "reports",
    "subscriptions": "subscriptions",
    "vens": "vens",
    "vens/{venID}": "vens/{venID}",
    "resources": "resources",
    "vens/{venID}/events": "vens/{venID}/events",
    "vens/{venID}/programs": "vens/{venID}/programs",
    "vens/{venID}/resources": "vens/{venID}/resources",
}


def operation_topics(stem: str, *, prefix: str = "", with_create: bool = True) -> dict[str, str]:
    """openadr3.yaml ``notifierOperationsTopics`` of a topic stem: ``{stem}/create`` … and ``ALL`` =
    ``{stem}/+``. A stem naming one object (``programs/7``) has no CREATE (the spec: clients cannot ask to hear
    of the creation of an object that does not exist yet)."""
    topics = {op: f"{prefix}{stem}/{op.lower()}" for op in OPERATIONS if with_create or op != "CREATE"}
    topics["ALL"] = f"{prefix}{stem}/+"
    return topics


@dataclass(frozen=True)
class VenReader:
    """A registered ven as a reader of per-VEN topics: its id and the :class:`Reader` of its client."""

    ven_ref: str
    reader: Reader


BL_READER = Reader(client_id="", granted=None)


def mqtt_messages(
    change: Change, vens: Iterable[VenReader], *, prefix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """``(topic, notification body)`` to publish for ``change``: the object-type topic (``events/create``), the
    object's own topic for programs and vens (``programs/7/update``), the program's events topic, and the
    per-VEN topics (``vens/3/events/create``) of every ven that may read the object, each with that VEN's view.
    Topics without a VEN in them carry business logic's view: the broker's ACL must keep VENs off them
    (Definition.md §Security "MQTT": access is configured out of band)."""
    op = change.operation.lower()
    bl = notification_body(change, BL_READER)
    stems = {
        "PROGRAM": ["programs", f"programs/{change.object_ref}"],
        "EVENT": ["events", f"programs/{change.program_ref}/events"],
        "REPORT": ["reports"],
        "SUBSCRIPTION": ["subscriptions"],
        "VEN": ["vens", f"vens/{change.object_ref}"],
        "RESOURCE": ["resources"],
    }[change.object_type]
    messages = [(f"{prefix}{stem}/{op}", bl) for stem in stems]
    per_ven = {"PROGRAM": "programs", "EVENT": "events", "RESOURCE": "resources"}.get(change.object_type)
    if per_ven is not None:
        for ven in vens:
            if change.object_type == "RESOURCE" and ven.ven_ref != change.ven_ref:
                continue
            if readable(change, ven.reader):
                messages.append(
                    (f"{prefix}vens/{ven.ven_ref}/{per_ven}/{op}", notification_body(change, ven.reader))
                )
    return messages
