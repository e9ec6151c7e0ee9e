"""A regulation order travels to an OpenADR VEN as the private ``X_VPP_REGULATION`` interval payload (the order
JSON-encoded), beside ``DISPATCH_SETPOINT``; the VEN decodes the same order (apps.simulation.ven)."""

from __future__ import annotations

import json

import pytest

from apps.assets.choices import EnrolmentStatus
from apps.dispatch.models import Delivery, DispatchPlan
from apps.dispatch.regulation import REGULATION_KEY, REGULATION_PAYLOAD
from apps.dispatch.services.deliveries import _publish_openadr
from apps.openadr.models import Event as VtnEvent
from apps.simulation.ven import regulation_from_events, setpoints_from_events
from tests.apps.settlement.conftest import make_event, plan
from tests.conftest import World
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def test_a_regulation_setpoint_is_published_with_its_order(world: World) -> None:
    site = SiteFactory(owner=world.owner_a, name="DC A", enrolment_status=EnrolmentStatus.ACTIVE)
    activation = plan(make_event(world), {site: (1000.0, 1000.0)}, kw=100)
    dispatch = DispatchPlan.objects.get(activation=activation)
    setpoint = dispatch.setpoints.order_by("start").first()
    assert setpoint is not None
    order = {
        "share_kw": 80.0,
        "signal_start": setpoint.start.isoformat(),
        "signal_resolution_seconds": 2,
        "signal": [0.25, -0.5, 1.0],
    }
    setpoint.workloads = {REGULATION_KEY: order}
    setpoint.save(update_fields=["workloads"])
    delivery = Delivery.objects.create(plan=dispatch, site=site, channel="openadr", idempotency_key="k-1")

    _publish_openadr(delivery)

    event = VtnEvent.objects.get()
    first = event.intervals[0]
    payloads = {p["type"]: p["values"] for p in first["payloads"]}
    assert json.loads(payloads[REGULATION_PAYLOAD][0]) == order
    assert payloads["DISPATCH_SETPOINT"] == [pytest.approx(setpoint.target_kw, abs=1e-3)]
    # intervals without an order carry none
    assert all(REGULATION_PAYLOAD not in {p["type"] for p in i["payloads"]} for i in event.intervals[1:])
    body = {"id": str(event.pk), "intervals": event.intervals, "intervalPeriod": None}
    ((start, end, decoded),) = regulation_from_events([body])
    assert (start, end) == (setpoint.start, setpoint.end)
    assert decoded.share_kw == 80.0 and decoded.signal == (0.25, -0.5, 1.0) and decoded.step_s == 2
    assert len(setpoints_from_events([body])) == len(event.intervals)  # the order adds no setpoint interval
