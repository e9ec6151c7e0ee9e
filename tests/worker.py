"""A real Celery worker process for tests, on the test database (see :mod:`apps.core.workers`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from apps.core.workers import WorkerProcess
from apps.core.workers import celery_worker as _celery_worker


@contextmanager
def celery_worker(
    queues: str = "default,dispatch,forecasts", concurrency: int = 1
) -> Iterator[WorkerProcess]:
    with _celery_worker(queues=queues, concurrency=concurrency, settings_module="vpp.settings.test") as proc:
        yield proc
