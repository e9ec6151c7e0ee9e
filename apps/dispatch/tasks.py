"""Thin dispatch tasks on the high-priority ``dispatch`` queue. ``acks_late``: a task whose worker dies is
redelivered, and the services make the redelivery a no-op for what was already done."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task

from apps.core import clock

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="apps.dispatch.tasks.dispatch_activation", acks_late=True)
def dispatch_activation(activation_id: int) -> int:
    """Plan the activation (once) and deliver the plan (:func:`apps.dispatch.services.activation_dispatch`);
    queue the failed webhooks for retry; returns the plan id. Logs the stages' wall times (``bench_dispatch``
    reads them): when the task started (Unix time), read + scale (or solve), the bulk writes, the commit and
    the fan-out."""
    done = services.activation_dispatch(activation_id=activation_id)
    for delivery_id in done.retry_delivery_ids:
        send_delivery.apply_async(args=[delivery_id], countdown=1)
    logger.info(
        "activation %s: plan v%s started_at=%.6f plan_s=%.4f store_s=%.4f commit_s=%.4f fanout_s=%.4f retry=%d",
        activation_id,
        done.plan_version,
        done.started_at,
        done.plan_seconds,
        done.store_seconds,
        done.commit_seconds,
        done.fanout_seconds,
        len(done.retry_delivery_ids),
    )
    return done.plan_id


@shared_task(
    bind=True,
    name="apps.dispatch.tasks.send_delivery",
    acks_late=True,
    max_retries=services.MAX_WEBHOOK_ATTEMPTS,
)
def send_delivery(self, delivery_id: int) -> str:
    """Retry one delivery with exponential backoff (1, 2, 4 … s, at most 60 s); a delivery that no longer exists
    (its plan was removed) is dropped."""
    from .models import Delivery

    try:
        return services.delivery_send(delivery_id=delivery_id).status
    except Delivery.DoesNotExist:
        return "gone"
    except services.RetryableDeliveryError as exc:
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc


@shared_task(name="apps.dispatch.tasks.closed_loop")
def closed_loop() -> int:
    """Check every ended settlement interval of running activations (re-dispatch on shortfall)."""
    due = services.checks_due(now=clock.now())
    for activation_id, start in due:
        check_interval.delay(activation_id, start.isoformat())
    return len(due)


@shared_task(name="apps.dispatch.tasks.replan")
def replan() -> int | None:
    """Re-plan the portfolio from the live site state (claimed per interval: one worker re-plans it) and send
    the setpoints that changed; returns the plan id, or ``None`` when nothing changed or another worker had it."""
    run = services.portfolio_replan(now=clock.now())
    if run is not None and run.plan_id:
        services.deliveries_send(plan_id=run.plan_id)
        return run.plan_id
    return None


@shared_task(name="apps.dispatch.tasks.check_interval", acks_late=True)
def check_interval(activation_id: int, interval_start: str) -> str | None:
    check = services.delivery_check(
        activation_id=activation_id, interval_start=datetime.fromisoformat(interval_start)
    )
    return check.action if check else None


@shared_task(name="apps.dispatch.tasks.prepare_plan", acks_late=True)
def prepare_plan(event_id: int) -> int | None:
    """Solve an awarded event's plan before its activation."""
    prepared = services.plan_prepare(event_id=event_id)
    return prepared.pk if prepared else None
