"""Thin tasks of the VTN's notifiers (default queue, ``acks_late``: a worker that dies mid-fan-out is replaced by
a redelivery, and the services make that resend only what was not sent)."""

from __future__ import annotations

from celery import shared_task

from .models import NotificationDelivery
from .services import notify

#: Backoff of a delivery's retries in seconds: 1, 2, 4 … at most this.
MAX_BACKOFF_S = 60


@shared_task(name="apps.openadr.tasks.fan_out_notifications", acks_late=True)
def fan_out_notifications(notification_ids: list[int]) -> int:
    """Send the recorded changes ``notification_ids`` to their subscribers; returns the deliveries to retry."""
    retry = notify.notifications_fan_out(notification_ids=notification_ids)
    for delivery_id in retry:
        send_notification.apply_async(args=[delivery_id], countdown=1)
    return len(retry)


@shared_task(
    bind=True,
    name="apps.openadr.tasks.send_notification",
    acks_late=True,
    max_retries=notify.MAX_DELIVERY_ATTEMPTS,
)
def send_notification(self, delivery_id: int) -> str:
    """Retry one delivery with exponential backoff (2, 4, 8 … s, at most 60 s); a removed one is dropped."""
    try:
        return notify.notification_delivery_send(delivery_id=delivery_id).status
    except NotificationDelivery.DoesNotExist:
        return "gone"
    except notify.RetryableNotificationError as exc:
        raise self.retry(exc=exc, countdown=min(MAX_BACKOFF_S, 2 ** (self.request.retries + 1))) from exc
