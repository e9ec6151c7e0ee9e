"""A Celery worker SIGKILLed mid-dispatch: the task is redelivered to a fresh worker process and the dispatch
happens exactly once — one plan, one set of setpoints, one delivery per site, one webhook POST per site.

The kill lands at a named checkpoint (:mod:`apps.simulation.faults`): the worker process pauses there and writes
its pid to a marker file; the test checks the state at the pause (so the kill is mid-dispatch, not after),
SIGKILLs it and waits for the redelivered task. Two ways to die:

- the pool process is killed (an OOM kill): the worker's main process sees it lost and, with
  ``task_reject_on_worker_lost`` and ``acks_late``, requeues the task for a new pool process;
- the whole worker is killed (the machine dies): the message stays unacknowledged in Redis and a fresh worker
  restores it once the broker's visibility timeout has passed.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import pytest

from apps.core import clock
from apps.core.workers import celery_worker
from apps.dispatch.choices import DeliveryStatus
from apps.dispatch.models import Delivery, DispatchPlan, Setpoint, WebhookEndpoint
from apps.dispatch.webhooks import IDEMPOTENCY_HEADER
from tests.conftest import World, require_service

from .conftest import activate
from .test_worker import wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT_S = 3


def _marker_pid(marker: Path, timeout: float = 120.0) -> int:
    assert wait_for(lambda: marker.exists() and marker.read_text().strip() != "", timeout), "never paused"
    return int(marker.read_text())


@pytest.mark.parametrize(
    ("checkpoint", "kill"),
    [
        ("plan_stored_uncommitted", "pool process"),
        ("delivery_batch_sent", "pool process"),
        ("delivery_batch_sent", "whole worker"),
    ],
)
def test_worker_killed_mid_dispatch_dispatches_exactly_once(  # type: ignore[no-untyped-def]
    world: World, sites, sink, settings, monkeypatch, checkpoint: str, kill: str
) -> None:
    require_service("REDIS_URL")
    settings.VPP_ACTIVATION_TASK = "apps.dispatch.tasks.dispatch_activation"
    for site in sites:
        WebhookEndpoint.objects.create(site=site, url=sink.url, secret="k")
    marker = Path(tempfile.mkdtemp(prefix="vpp-fault-")) / "paused"
    # The worker subprocesses inherit these (apps.core.workers.worker_env copies the environment).
    monkeypatch.setenv("VPP_FAULT_PAUSE_AT", checkpoint)
    monkeypatch.setenv("VPP_FAULT_MARKER", str(marker))
    monkeypatch.setenv("VPP_DISPATCH_DELIVERY_BATCH", "1")  # two sites: two batches, the kill between them
    monkeypatch.setenv("VPP_BROKER_VISIBILITY_TIMEOUT", str(VISIBILITY_TIMEOUT_S))
    try:
        with celery_worker(settings_module="vpp.settings.test") as first:
            activation = activate(world, 1200)  # on commit the activation goes to the dispatch queue
            paused_pid = _marker_pid(marker)
            assert paused_pid != first.pid  # the pool process, not the worker's main process
            if checkpoint == "plan_stored_uncommitted":
                # written but not committed: nobody else sees the plan yet
                assert not DispatchPlan.objects.filter(activation=activation).exists()
            else:
                # one batch out and committed, the other not sent: the kill lands mid-fan-out
                statuses = sorted(
                    Delivery.objects.filter(plan__activation=activation).values_list("status", flat=True)
                )
                assert statuses == [DeliveryStatus.DELIVERED, DeliveryStatus.PENDING]
                assert len(sink.requests) == 1
            os.kill(paused_pid, signal.SIGKILL)
            if kill == "pool process":
                finished = _all_delivered(activation)
            else:
                os.kill(first.pid, signal.SIGKILL)
                first.wait(timeout=30)
        if kill == "whole worker":
            time.sleep(VISIBILITY_TIMEOUT_S + 0.5)  # a fresh worker restores what is unacknowledged that long
            monkeypatch.delenv("VPP_FAULT_PAUSE_AT")
            with celery_worker(settings_module="vpp.settings.test", purge=False):
                finished = _all_delivered(activation)
    finally:
        clock.replay_stop()
    assert finished, "the redelivered task did not finish the dispatch"
    plans = DispatchPlan.objects.filter(activation=activation)
    assert plans.count() == 1
    plan = plans.get()
    assert Setpoint.objects.filter(plan=plan).count() == 4 * len(sites)
    deliveries = list(plan.deliveries.all())
    assert sorted(d.site_id for d in deliveries) == sorted(s.pk for s in sites)
    assert all(d.status == DeliveryStatus.DELIVERED and d.attempts == 1 for d in deliveries)
    keys = [headers[IDEMPOTENCY_HEADER.lower()] for headers, _ in sink.requests]
    assert sorted(keys) == sorted(d.idempotency_key for d in deliveries)  # one POST per site, none resent


def _all_delivered(activation) -> bool:  # type: ignore[no-untyped-def]
    return wait_for(
        lambda: (
            Delivery.objects.filter(plan__activation=activation, status=DeliveryStatus.DELIVERED).count() == 2
        ),
        timeout=120,
    )
