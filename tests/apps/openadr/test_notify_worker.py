"""A write's notification goes through Redis and a real Celery worker to the callback, after commit, without the
write waiting for it (CI runs this; it needs REDIS_URL)."""

from __future__ import annotations

import importlib
import time

import pytest
from django.apps import apps as django_apps

from apps.openadr import services
from apps.openadr.models import NotificationDelivery, NotificationStatus
from apps.openadr.selectors import site_target
from tests.apps.openadr.callback_sink import CallbackSink
from tests.apps.openadr.conftest import make_vtn
from tests.conftest import World, require_service
from tests.worker import celery_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def zones() -> None:
    """Re-seed the market zones a transactional test's flush removed (see test_openadr3_client_live.py)."""
    importlib.import_module("apps.core.migrations.0002_seed_market_zones").seed(django_apps, None)


def test_an_event_reaches_the_subscribed_ven_through_a_worker(zones: None, world: World) -> None:
    require_service("REDIS_URL")
    vtn = make_vtn(world)
    program = services.program_create(caller=None, data={"programName": "p"})
    vtn.register("ven_a")
    sink = CallbackSink().start()
    try:
        response = vtn.client("ven_a").post(
            "/openadr3/3.1.0/subscriptions",
            {
                "clientName": "a",
                "objectOperations": [
                    {
                        "objects": ["EVENT"],
                        "operations": ["CREATE"],
                        "callbackUrl": sink.url("/a"),
                        "bearerToken": "tok",
                    }
                ],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        with celery_worker(queues="default"):
            started = time.monotonic()
            created = vtn.client("bl").post(
                "/openadr3/3.1.0/events",
                {
                    "programID": str(program.pk),
                    "targets": [site_target(vtn.site_a)],
                    "intervals": [{"id": 0, "payloads": [{"type": "SIMPLE", "values": [1]}]}],
                },
                format="json",
            )
            write_s = time.monotonic() - started
            assert created.status_code == 201, created.content
            (post,) = sink.wait_for(1, path="/a", timeout_s=60)
            deadline = time.monotonic() + 30
            while (
                time.monotonic() < deadline
                and not NotificationDelivery.objects.filter(status=NotificationStatus.SENT).exists()
            ):
                time.sleep(0.1)
    finally:
        sink.stop()
    assert post.authorization == "Bearer tok"
    assert post.body["object"]["id"] == created.json()["id"] and post.body["operation"] == "CREATE"
    assert write_s < 2.0  # the write returned without waiting on the callback
    assert NotificationDelivery.objects.get().status == NotificationStatus.SENT
