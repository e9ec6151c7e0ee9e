"""``run_site_agent --vtn …``: the simulated site as an OpenADR VEN over real HTTP against a live VTN.

The VEN registers itself with its client credentials, dispatch publishes the activation's setpoints as an event
targeted at it, and the agent — polling ``GET /events`` with its bearer token — follows the setpoint and
reports its metered load, which the VTN stores as the site's telemetry.
"""

from __future__ import annotations

import importlib
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from apps.accounts.choices import ApiClientRole
from apps.accounts.services import api_client_create
from apps.assets.services import site_credential_bind
from apps.core import clock
from apps.dispatch import services
from apps.dispatch.choices import Channel, DeliveryStatus
from apps.dispatch.models import Setpoint
from apps.openadr.models import Report
from apps.simulation.ven import VtnClient, setpoints_from_events
from apps.telemetry.models import DataPoint
from tests.conftest import World

from .conftest import STEP, activate

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/openadr3/3.1.0"


@pytest.fixture
def zones() -> None:
    """Transactional tests flush the market zones of the data migration: re-seed them (its own function)."""
    importlib.import_module("apps.core.migrations.0002_seed_market_zones").seed(django_apps, None)


def test_ven_agent_follows_a_dispatched_setpoint_and_reports_it(
    live_server, zones, world: World, sites
) -> None:  # type: ignore[no-untyped-def]
    vtn_url = f"{live_server.url}{BASE}"
    creds = {}
    for site in sites:
        creds[site.pk] = api_client_create(organisation=world.owner_a, role=ApiClientRole.VEN, name=site.name)
        site_credential_bind(api_client_id=creds[site.pk].api_client.pk, site=site)
    try:
        activation = activate(world, 1200)
        # the VENs register before the activation is dispatched, so dispatch picks the OpenADR channel for them
        clients = {pk: VtnClient(vtn_url, c.api_client.client_id, c.client_secret) for pk, c in creds.items()}
        for pk, client in clients.items():
            ven = client.register(f"ven-{pk}")
            assert client.register(f"ven-{pk}")["id"] == ven["id"]  # registering again finds the same object
        plan = services.dispatch_activation(activation_id=activation.pk)
        assert services.deliveries_send(plan_id=plan.pk) == []
        assert {(d.channel, d.status) for d in plan.deliveries.all()} == {
            (Channel.OPENADR, DeliveryStatus.DELIVERED)
        }
        start = activation.start
        # the agent runs for the site with the most to do in the first interval
        planned = max(Setpoint.objects.filter(plan=plan, start=start), key=lambda s: s.reduction_kw)
        site = planned.site
        assert planned.reduction_kw > 100
        events = clients[site.pk].events()  # each VEN sees only the event targeted at its site
        assert len(events) == 1 and len(setpoints_from_events(events)) == 4
        for client in clients.values():
            client.close()

        clock.replay_jump(to=start + STEP)  # the agent's step simulates [start, start + 15 min)
        out = io.StringIO()
        args = ["--site", str(site.pk), "--vtn", vtn_url, "--client-id", creds[site.pk].api_client.client_id]
        args += ["--client-secret", creds[site.pk].client_secret, "--ven-name", f"ven-{site.pk}"]
        call_command("run_site_agent", *args, "--poll-seconds", "0", "--iterations", "1", stdout=out)
    finally:
        clock.replay_stop()

    text = out.getvalue()
    assert f"following event {events[0]['id']}" in text, text
    # the report arrived over HTTP and became the site's metered power for the interval
    report = Report.objects.get()
    assert report.client_id == creds[site.pk].api_client.client_id and report.telemetry_points == 1
    point = DataPoint.objects.get(series__site=site, series__quantity="site_power_kw", start=start)
    # DISPATCH_SETPOINT is absolute: the site moved from its own uncontrolled load (70 % of IT capacity, no
    # history, × PUE) to the planned grid power, within the meter noise (σ = 0.5 % of the baseline)
    own_baseline_kw = site.pue * 0.7 * site.it_capacity_kw
    assert own_baseline_kw - planned.target_kw > 100
    assert abs(point.value - planned.target_kw) < 0.03 * own_baseline_kw, (point.value, planned.target_kw)


def test_setpoints_from_events_splits_multi_value_payloads_and_skips_other_units() -> None:
    event = {
        "id": "7",
        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT30M"},
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "DISPATCH_SETPOINT", "units": "KW"},
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "MW"},
        ],
        "intervals": [
            {
                "id": 0,
                "payloads": [
                    {"type": "DISPATCH_SETPOINT", "values": [800.0, 700.0]},
                    {"type": "IMPORT_CAPACITY_LIMIT", "values": [1.0]},
                ],
            },
            {"id": 1, "payloads": [{"type": "PRICE", "values": [0.2]}]},
        ],
    }
    got = setpoints_from_events([event])
    t0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert [(s.start, s.end, s.target_kw, s.import_cap_kw) for s in got] == [
        (t0, t0 + timedelta(minutes=15), 800.0, None),
        (t0 + timedelta(minutes=15), t0 + timedelta(minutes=30), 700.0, None),
    ]


def test_ven_agent_subscribes_and_is_woken_by_a_pushed_event(live_server, zones, world: World, sites) -> None:  # type: ignore[no-untyped-def]
    """The VEN subscribes at its own webhook (the VTN verifies it with the echo challenge), and an event
    published for its site wakes it at once; it then re-reads its events (polling is only the fallback)."""
    from apps.openadr import services as vtn_services
    from apps.openadr.models import Notification
    from apps.openadr.services import notify
    from apps.simulation.ven import NotificationListener, VenAgent

    site = sites[0]
    cred = api_client_create(organisation=world.owner_a, role=ApiClientRole.VEN, name="push")
    site_credential_bind(api_client_id=cred.api_client.pk, site=site)
    # a long timeout: the live server's first request imports every URL module (seconds on a loaded machine)
    client = VtnClient(
        f"{live_server.url}{BASE}", cred.api_client.client_id, cred.client_secret, timeout_s=120
    )
    agent = VenAgent(site, pd.Series(dtype=float), vtn=client, ven_name="push-ven")
    listener = NotificationListener(bearer_token="push-token")
    try:
        agent.register()
        subscription = client.subscribe(
            client_name="push-ven", callback_url=listener.url(), bearer_token="push-token"
        )
        assert subscription["objectOperations"][0]["callbackUrl"] == listener.url()
        assert agent.poll() == 0 and not listener.wait(0.05)
        start = datetime(2030, 1, 1, 12, tzinfo=UTC)
        event = vtn_services.openadr_event_publish(
            site=site, intervals=[(start, timedelta(minutes=15), {"DISPATCH_SETPOINT": 900.0})]
        )
        # the fan-out the worker runs after commit (tests/apps/openadr/test_notify_worker.py: a real worker)
        for pk in Notification.objects.filter(object_type="EVENT").values_list("pk", flat=True):
            assert notify.notification_fan_out(notification_id=pk) == []
        assert listener.wait(10) and listener.received == 1
        assert agent.poll() == 1 and agent.last_event_id == event.object_id
    finally:
        listener.close()
        client.close()
