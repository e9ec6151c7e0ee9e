"""A task round trip through Redis and a real worker process (runs in CI, where REDIS_URL is set)."""

from __future__ import annotations

import pytest

from tests.conftest import require_service
from tests.worker import celery_worker


@pytest.mark.services
def test_ping_through_redis_and_a_real_worker() -> None:
    redis_url = require_service("REDIS_URL")
    from django.conf import settings

    from apps.core.tasks import ping

    assert redis_url == settings.CELERY_BROKER_URL
    with celery_worker() as proc:
        result = ping.delay("round trip").get(timeout=30)
        assert proc.poll() is None
    assert result["echo"] == "round trip"
    assert result["worker_time"].endswith("+00:00")
