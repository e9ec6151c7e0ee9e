"""Notifications of the VTN: recorded with each write, sent after commit by Celery (webhooks and MQTT).

- :func:`notification_record` / :func:`notifications_record_many` run inside the writing transaction: one
  :class:`~apps.openadr.models.Notification` row per change (so a notification exists exactly when its write
  committed, and a deleted object is still described), and one ``fan_out_notifications`` task enqueued on
  commit (``delay_on_commit``). Nothing is recorded while there is no subscription and MQTT is off.
- :func:`notification_fan_out` (the task's service, :func:`notifications_fan_out` for several): matches the
  subscriptions (:func:`apps.openadr.notifications.deliveries`), publishes to MQTT (:mod:`apps.openadr.mqtt`),
  POSTs every delivery concurrently, then stores the delivery log and marks the notification fanned out (a
  conditional UPDATE, so it is logged once); returns the deliveries to retry.
- :func:`notification_delivery_send`: one retry of one delivery (the task backs off 1, 2, 4 … 60 s and gives
  up after :data:`MAX_DELIVERY_ATTEMPTS`).
- :func:`callback_verify`: the challenge of Definition.md §Webhooks (GET ``?echo=<random>``, the answer must be
  200 and contain it), run when a subscription is created or names a new callback. The callback requests
  (POST, URL policy, echo challenge) are in :mod:`.callbacks`, re-exported here.

No write waits on a callback: the requests are made by the worker, never in the writing request (except the
verification, which the spec requires before a subscription may exist).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core import clock

from .. import mqtt
from ..models import Event, Notification, NotificationDelivery, NotificationStatus, Program
from ..notifications import (
    OBJECT_TYPES,
    Change,
    Delivery,
    Reader,
    Subscriber,
    VenReader,
    body_for_view,
    deliveries,
    mqtt_messages,
)
from ..representations import (
    event_repr,
    program_repr,
    report_repr,
    resource_repr,
    subscription_repr,
    ven_repr,
)
from ..selectors import granted_targets_many, subscriptions_exist, subscriptions_for
from .callbacks import (
    LOOPBACK_HOSTS,
    HttpResult,
    callback_url_check,
    callback_verify,
    post_notification,
    subscription_callbacks_verify,
    subscriptions_known_urls,
)

__all__ = [
    "CALLBACK_CONCURRENCY",
    "LOOPBACK_HOSTS",
    "MAX_DELIVERY_ATTEMPTS",
    "HttpResult",
    "RetryableNotificationError",
    "callback_url_check",
    "callback_verify",
    "notification_delivery_send",
    "notification_fan_out",
    "notification_record",
    "notifications_fan_out",
    "notifications_record_many",
    "post_notification",
    "subscription_callbacks_verify",
    "subscriptions_known_urls",
]

logger = logging.getLogger(__name__)

#: Attempts of one delivery (the first and the retries) before it is marked failed.
MAX_DELIVERY_ATTEMPTS = 6
#: Concurrent callback POSTs of one fan-out (I/O bound; the same figure apps.dispatch measured for its webhooks).
CALLBACK_CONCURRENCY = 32

_REPRESENT: dict[str, Callable[..., dict[str, Any]]] = {
    "PROGRAM": program_repr,
    "EVENT": event_repr,
    "REPORT": report_repr,
    "SUBSCRIPTION": subscription_repr,
    "VEN": ven_repr,
    "RESOURCE": resource_repr,
}


class RetryableNotificationError(Exception):
    """A delivery failed and has attempts left (the task retries it with backoff)."""


# --- recording (inside the write) --------------------------------------------------------------------------


def _wanted() -> bool:
    return bool(settings.MQTT_URL) or subscriptions_exist()


def _row(object_type: str, operation: str, obj: Any) -> Notification:
    program_ref = owner = ven_ref = ""
    program_targets = None
    if isinstance(obj, Program):
        program_ref = str(obj.pk)
    elif isinstance(obj, Event):
        program_ref, program_targets = str(obj.program_id), obj.program.targets
    elif object_type == "REPORT":
        program_ref, owner = obj.program_ref, obj.client_id
    elif object_type == "SUBSCRIPTION":
        program_ref, owner = str(obj.program_id or ""), obj.client_id
    elif object_type == "VEN":
        owner, ven_ref = obj.client_id, str(obj.pk)
    elif object_type == "RESOURCE":
        owner, ven_ref = obj.client_id, str(obj.ven_id)
    return Notification(
        object_type=object_type,
        operation=operation,
        object_ref=str(obj.pk),
        body=_REPRESENT[object_type](obj),
        program_ref=program_ref,
        program_targets=program_targets,
        owner_client_id=owner,
        ven_ref=ven_ref,
    )


def notification_record(*, object_type: str, operation: str, obj: Any) -> Notification | None:
    """Record one change of ``obj`` (after it was written, before the transaction commits) and enqueue its
    fan-out on commit. ``object_type`` in :data:`~apps.openadr.notifications.OBJECT_TYPES`, ``operation``
    ``CREATE`` | ``UPDATE`` | ``DELETE``. Returns ``None`` when nobody can be told (no subscription, MQTT off)."""
    rows = notifications_record_many(object_type=object_type, changes=[(operation, obj)])
    return rows[0] if rows else None


def notifications_record_many(*, object_type: str, changes: Iterable[tuple[str, Any]]) -> list[Notification]:
    """:func:`notification_record` for many objects of one type at once (one INSERT, one task)."""
    assert object_type in OBJECT_TYPES, object_type
    changes = list(changes)
    if not changes or not _wanted():
        return []
    rows = Notification.objects.bulk_create([_row(object_type, op, obj) for op, obj in changes])
    from ..tasks import fan_out_notifications  # the tasks module imports these services

    fan_out_notifications.delay_on_commit([row.pk for row in rows])
    return rows


# --- fan-out (in the worker) -------------------------------------------------------------------------------


def _change(row: Notification) -> Change:
    return Change(
        object_type=row.object_type,
        operation=row.operation,
        object_ref=row.object_ref,
        body=row.body,
        program_ref=row.program_ref,
        program_targets=tuple(row.program_targets) if row.program_targets else None,
        owner_client_id=row.owner_client_id,
        ven_ref=row.ven_ref,
    )


def _subscribers(object_type: str) -> list[Subscriber]:
    subs = list(
        subscriptions_for(object_type=object_type).values_list(
            "pk", "client_id", "client_role", "program_id", "object_operations", "targets"
        )
    )
    ven_clients = {client for _, client, role, *_ in subs if role != "bl"}
    granted = granted_targets_many(client_ids=ven_clients) if ven_clients else {}
    out = []
    for pk, client_id, role, program_id, operations, targets in subs:
        reader_granted = None if role == "bl" else granted.get(client_id, (0, frozenset()))[1]
        out.append(
            Subscriber(
                subscription_ref=str(pk),
                reader=Reader(client_id=client_id, granted=reader_granted),
                program_ref=str(program_id) if program_id else None,
                object_operations=tuple(operations or ()),
                targets=tuple(targets) if targets else None,
            )
        )
    return out


def notifications_fan_out(*, notification_ids: Iterable[int]) -> list[int]:
    """:func:`notification_fan_out` for several changes (one dispatch plan's events), reading the subscriptions
    of each object type and the vens' granted targets once. Returns the deliveries to retry."""
    subscribers: dict[str, list[Subscriber]] = {}
    vens: list[VenReader] | None = None
    retry: list[int] = []
    for notification_id in notification_ids:
        row = Notification.objects.filter(pk=notification_id).only("object_type").first()
        if row is None:
            continue
        if row.object_type not in subscribers:
            subscribers[row.object_type] = _subscribers(row.object_type)
        if vens is None and mqtt.enabled():
            vens = _ven_readers()
        retry.extend(
            notification_fan_out(
                notification_id=notification_id, subscribers=subscribers[row.object_type], vens=vens
            )
        )
    return retry


def notification_fan_out(
    *,
    notification_id: int,
    subscribers: list[Subscriber] | None = None,
    vens: list[VenReader] | None = None,
) -> list[int]:
    """Send one recorded change to MQTT and to every matching subscription; returns the ids of deliveries that
    failed this first attempt (to retry). ``subscribers`` / ``vens``: already loaded (see
    :func:`notifications_fan_out`), else read here.

    The POSTs go out first and the delivery log is written after them with their outcome (writing it first was
    half the fan-out's time), together with the notification's ``fanned_out_at``: a fan-out that already
    finished does nothing, and one killed mid-way (``acks_late`` redelivers it) sends again — at least once,
    never lost; a receiver can drop a repeat by the object's ``id`` and ``modificationDateTime``.
    """
    row = Notification.objects.filter(pk=notification_id).first()
    if row is None or row.fanned_out_at is not None:
        return []
    change = _change(row)
    found = deliveries(change, _subscribers(change.object_type) if subscribers is None else subscribers)
    if mqtt.enabled():
        _publish_mqtt(change, _ven_readers() if vens is None else vens)
    results = _post_all(found)
    now = clock.now()
    rows = [
        NotificationDelivery(
            notification=row,
            subscription_ref=d.subscription_ref,
            client_id=d.client_id,
            callback_url=d.callback_url,
            bearer_token=d.bearer_token,
            view_targets=list(d.view_targets) if d.view_targets is not None else None,
            status=NotificationStatus.SENT if result.ok else NotificationStatus.PENDING,
            attempts=1,
            last_status_code=result.status,
            last_error=result.error[:500],
            sent_at=now if result.ok else None,
        )
        for d, result in zip(found, results, strict=True)
    ]
    try:
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=notification_id, fanned_out_at__isnull=True).update(
                fanned_out_at=now
            )
            if not claimed:  # a concurrent copy of this task finished first and logged the deliveries
                return []
            NotificationDelivery.objects.bulk_create(rows)
    except IntegrityError:
        return []
    return [r.pk for r in rows if r.status == NotificationStatus.PENDING]


def _post_all(found: list[Delivery]) -> list[HttpResult]:
    if not found:
        return []
    with ThreadPoolExecutor(max_workers=min(CALLBACK_CONCURRENCY, len(found))) as pool:
        return list(
            pool.map(lambda d: post_notification(d.callback_url, d.body, bearer_token=d.bearer_token), found)
        )


def _ven_readers() -> list[VenReader]:
    return [
        VenReader(ven_ref=str(pk), reader=Reader(client_id=client_id, granted=granted))
        for client_id, (pk, granted) in granted_targets_many().items()
    ]


def _publish_mqtt(change: Change, vens: list[VenReader]) -> None:
    try:
        mqtt.publish_many(mqtt_messages(change, vens, prefix=settings.OPENADR_MQTT_TOPIC_PREFIX))
    except mqtt.MqttError:
        logger.exception(
            "OpenADR MQTT notifier: could not publish %s %s", change.operation, change.object_type
        )


def notification_delivery_send(*, delivery_id: int) -> NotificationDelivery:
    """Retry one pending delivery. Marks it sent, or failed once it has had :data:`MAX_DELIVERY_ATTEMPTS`.

    Raises:
        NotificationDelivery.DoesNotExist: it was removed (its notification was deleted).
        RetryableNotificationError: it failed again and has attempts left.
    """
    delivery = NotificationDelivery.objects.select_related("notification").get(pk=delivery_id)
    if delivery.status != NotificationStatus.PENDING:
        return delivery
    body = body_for_view(_change(delivery.notification), delivery.view_targets)
    result = post_notification(delivery.callback_url, body, bearer_token=delivery.bearer_token)
    delivery.attempts += 1
    delivery.last_status_code = result.status
    if result.ok:
        delivery.status, delivery.sent_at, delivery.last_error = NotificationStatus.SENT, clock.now(), ""
    else:
        delivery.last_error = result.error[:500]
        if delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
            delivery.status = NotificationStatus.FAILED
    delivery.save(update_fields=["attempts", "last_status_code", "status", "sent_at", "last_error"])
    if delivery.status == NotificationStatus.PENDING:
        raise RetryableNotificationError(delivery.last_error)
    return delivery
