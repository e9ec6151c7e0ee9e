"""The OpenADR VEN reports its live state every step (battery charge level, IT load, queue) in its report to the
VTN's real ``/reports`` endpoint, and follows a regulation order carried by its event (``X_VPP_REGULATION``).

The VEN's HTTP session is routed through DRF's test client into the VTN (the same views, serializers and
services as over the network; the live-server path is tests/apps/simulation/test_ven_live.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from rest_framework.test import APIClient

from apps.core import clock
from apps.dispatch.regulation import REGULATION_PAYLOAD
from apps.openadr import services as vtn_services
from apps.openadr.models import Report
from apps.openadr.selectors import site_target
from apps.simulation.agent import SiteAgent
from apps.simulation.ven import (
    QueueEntry,
    SiteStateReport,
    VenAgent,
    VtnClient,
    VtnError,
    regulation_from_events,
)
from apps.telemetry.models import SiteState
from tests.apps.openadr.conftest import BASE, Vtn, event_body, make_vtn
from tests.factories import BatteryFactory, WorkloadClassFactory

STEP = timedelta(minutes=15)
AT = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # the start of event_body's intervals
IT_KW = 600.0


class InProcessVtn(VtnClient):
    """A :class:`VtnClient` whose requests go through DRF's test client (bearer token already set)."""

    def __init__(self, api: APIClient) -> None:
        self.api = api

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "GET":
            response = self.api.get(BASE + path, kwargs.get("params"))
        else:
            response = self.api.generic(
                method, BASE + path, json.dumps(kwargs.get("json")), content_type="application/json"
            )
        if not 200 <= response.status_code < 300:
            raise VtnError(f"{method} {path}: HTTP {response.status_code} {response.content!r}")
        return response.json() if response.content else None


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock_at_the_step_end():  # type: ignore[no-untyped-def]
    """The product clock at the first step's end: a state may not be reported from the future."""
    clock.replay_start(sim_start=AT + STEP, speed=0)
    yield
    clock.replay_stop()


@pytest.fixture
def vtn(world) -> Vtn:  # type: ignore[no-untyped-def]
    return make_vtn(world)


@pytest.fixture
def program(vtn: Vtn):  # type: ignore[no-untyped-def]
    return vtn_services.program_create(caller=None, data={"programName": "dr-program"})


@pytest.fixture
def site(vtn: Vtn):  # type: ignore[no-untyped-def]
    vtn.register("ven_a")
    BatteryFactory(site=vtn.site_a, name="ups-1", energy_capacity_kwh=1000.0)
    WorkloadClassFactory(site=vtn.site_a, name="training", max_delay_h=8.0, share_pct=40.0)
    return vtn.site_a


def _agent(vtn: Vtn, site, **kwargs: Any) -> VenAgent:  # type: ignore[no-untyped-def]
    load = pd.Series([IT_KW], index=pd.DatetimeIndex([pd.Timestamp(AT - timedelta(days=1))]))
    return VenAgent(
        site, load, vtn=InProcessVtn(vtn.client("ven_a")), ven_name="ven_a", noise=0.0, seed=1, **kwargs
    )


def _figures(state: SiteState) -> tuple:
    return (
        state.reported_at,
        round(state.it_load_kw, 3),
        sorted((b.battery_id, round(b.soc_kwh, 3)) for b in state.batteries.all()),
        sorted(
            (q.workload_class_id, round(q.energy_kwh, 3), q.arrived_at, q.deadline, q.job_id)
            for q in state.queue.all()
        ),
    )


def test_a_ven_step_reports_the_state_the_rest_agent_would_store(vtn: Vtn, program, site) -> None:  # type: ignore[no-untyped-def]
    vtn_services.event_create(caller=None, data=event_body(program, targets=[site_target(site)]))
    agent = _agent(vtn, site)
    assert agent.poll() == 2
    agent.state.defer(AT - timedelta(hours=2), 120.0)  # deferred work waiting, due 8 h after it arrived
    agent.step(AT + STEP, STEP)

    report = Report.objects.get()
    assert report.telemetry_points == 1  # the DEMAND reading still becomes the site's metered power
    ven_state = SiteState.objects.get(site=site, source="openadr")
    assert ven_state.reported_at == AT + STEP and ven_state.queue.count() == 1
    # the REST site agent's path, from the same agent state at the same moment
    SiteAgent._report_state(agent, AT + STEP, ven_state.it_load_kw)
    rest_state = SiteState.objects.get(site=site, source="agent")
    assert _figures(ven_state) == _figures(rest_state)
    queued = ven_state.queue.get()
    assert queued.energy_kwh == pytest.approx(120.0) and queued.deadline == AT - timedelta(
        hours=2
    ) + timedelta(hours=8)
    assert ven_state.batteries.get().soc_kwh == pytest.approx(agent.state.soc_kwh)


def test_every_step_reports_the_state_of_its_end(vtn: Vtn, program, site) -> None:  # type: ignore[no-untyped-def]
    vtn_services.event_create(caller=None, data=event_body(program, targets=[site_target(site)]))
    agent = _agent(vtn, site)
    agent.poll()
    clock.replay_jump(to=AT + 3 * STEP)
    for k in (1, 2, 3):
        agent.step(AT + k * STEP, STEP)
    assert Report.objects.count() == 3
    assert list(SiteState.objects.filter(site=site).values_list("reported_at", flat=True)) == [
        AT + k * STEP for k in (1, 2, 3)
    ]


def test_a_bad_state_report_is_refused_naming_its_path_and_nothing_is_stored(vtn: Vtn, program, site) -> None:  # type: ignore[no-untyped-def]
    event = vtn_services.event_create(caller=None, data=event_body(program, targets=[site_target(site)]))
    client = InProcessVtn(vtn.client("ven_a"))
    bad = SiteStateReport(
        reported_at=AT,
        it_load_kw=IT_KW,
        charge_levels=(("ups-1", 0.5),),
        queue=(QueueEntry("training", -5.0, AT - timedelta(hours=1), AT + timedelta(hours=7)),),
    )
    with pytest.raises(VtnError) as refused:
        client.report_demand(
            event_id=str(event.pk), client_name="ven_a", start=AT, duration=STEP, kw=700.0, state=bad
        )
    assert "HTTP 400" in str(refused.value)
    assert (
        "resources[2].intervals[1].payloads[0].values[0].energy_kwh"
    )  # [0]: DEMAND, [1]: ups-1 in str(refused.value)
    assert not Report.objects.exists() and not SiteState.objects.exists()


def _regulation_event(program, site, signal: list[float], share_kw: float) -> dict:  # type: ignore[no-untyped-def]
    order = {
        "share_kw": share_kw,
        "signal_start": AT.isoformat(),
        "signal_resolution_seconds": 2,
        "signal": signal,
    }
    body = event_body(program, targets=[site_target(site)])
    body["intervals"] = [
        {
            "id": 0,
            "payloads": [
                {"type": "DISPATCH_SETPOINT", "values": [IT_KW * site.pue]},
                {"type": REGULATION_PAYLOAD, "values": [json.dumps(order)]},
            ],
        }
    ]
    body["payloadDescriptors"] = [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "DISPATCH_SETPOINT", "units": "KW"}
    ]
    return body


def test_the_ven_follows_a_regulation_signal_from_its_event(vtn: Vtn, program, site) -> None:  # type: ignore[no-untyped-def]
    signal = [0.5] * 450  # 15 min at 2 s: half the share down (less consumption) all interval
    vtn_services.event_create(caller=None, data=_regulation_event(program, site, signal, share_kw=200.0))
    clock.replay_jump(to=AT)  # the VEN reads its events while they are active
    agent = _agent(vtn, site)
    agent.poll()
    (order,) = agent.regulation_orders_between(AT, AT + STEP)
    assert order.share_kw == 200.0 and order.signal == tuple(signal) and order.start == AT
    assert agent.regulation_orders_between(AT + STEP, AT + 2 * STEP) == []

    twin = _agent(vtn, site)  # the same site and event, the regulation order left out
    twin.poll()
    twin.regulation = []
    clock.replay_jump(to=AT + STEP)
    soc_before = agent.state.soc_kwh
    base = twin.step(AT + STEP, STEP)
    regulated = agent.step(AT + STEP, STEP)
    # the signal asked 100 kW less on average; the battery (500 kW, ~1 s lag) delivers nearly all of it
    assert base - regulated == pytest.approx(100.0, rel=0.05)
    assert agent.state.soc_kwh < soc_before
    # one report per step, the regulated reading and the state after the regulation moved the SoC
    last = Report.objects.order_by("pk").last()
    assert last is not None
    demand = last.resources[0]["intervals"][0]["payloads"][0]["values"][0]
    assert demand == pytest.approx(regulated, abs=1e-3)
    ven_state = SiteState.objects.filter(site=site).order_by("pk").last()
    assert ven_state is not None
    assert ven_state.batteries.get().soc_kwh == pytest.approx(agent.state.soc_kwh, abs=1e-3)


def test_regulation_from_events_skips_undecodable_payloads() -> None:
    event = {
        "id": "9",
        "intervalPeriod": {"start": AT.isoformat(), "duration": "PT15M"},
        "intervals": [
            {"id": 0, "payloads": [{"type": REGULATION_PAYLOAD, "values": ["not json"]}]},
            {"id": 1, "payloads": [{"type": REGULATION_PAYLOAD, "values": [json.dumps({"share_kw": 1})]}]},
        ],
    }
    assert regulation_from_events([event]) == []
