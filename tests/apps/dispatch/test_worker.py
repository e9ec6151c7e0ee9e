"""Activation → setpoints → webhooks through a real Celery worker and Redis (CI runs these)."""

from __future__ import annotations

import time

import pytest

from apps.core import clock
from apps.dispatch.choices import DeliveryStatus
from apps.dispatch.models import DispatchPlan, WebhookEndpoint
from tests.conftest import World, require_service
from tests.worker import celery_worker

from .conftest import activate

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_activation_is_dispatched_and_delivered_by_a_worker(world: World, sites, sink, settings) -> None:  # type: ignore[no-untyped-def]
    require_service("REDIS_URL")
    settings.VPP_ACTIVATION_TASK = "apps.dispatch.tasks.dispatch_activation"
    for site in sites:
        WebhookEndpoint.objects.create(site=site, url=sink.url, secret="k")
    try:
        with celery_worker():
            activation = activate(
                world, 1200
            )  # posts the activation; on commit it goes to the dispatch queue
            assert wait_for(lambda: DispatchPlan.objects.filter(activation=activation).exists())
            plan = DispatchPlan.objects.get(activation=activation)
            assert wait_for(lambda: plan.deliveries.filter(status=DeliveryStatus.DELIVERED).count() == 2)
    finally:
        clock.replay_stop()
    assert plan.setpoints.count() == 8 and len(sink.requests) == 2


def test_duplicate_dispatch_messages_make_one_plan(world: World, sites) -> None:  # type: ignore[no-untyped-def]
    require_service("REDIS_URL")
    from apps.dispatch.tasks import dispatch_activation

    try:
        activation = activate(world, 1000)
        with celery_worker(concurrency=2):
            results = [dispatch_activation.delay(activation.pk) for _ in range(3)]
            plan_ids = {r.get(timeout=120) for r in results}
    finally:
        clock.replay_stop()
    assert len(plan_ids) == 1
    assert DispatchPlan.objects.filter(activation=activation).count() == 1
