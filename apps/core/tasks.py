"""Trivial tasks used to check that the broker, a worker and beat are alive."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="apps.core.tasks.ping")
def ping(payload: str = "ping") -> dict[str, str]:
    """Echo ``payload`` with the worker's UTC time: a round trip through the broker and a real worker."""
    return {"echo": payload, "worker_time": timezone.now().isoformat()}


@shared_task(name="apps.core.tasks.heartbeat")
def heartbeat() -> str:
    """Periodic liveness log line written by a worker each time beat fires it."""
    now = timezone.now().isoformat()
    logger.info("heartbeat %s", now)
    return now
