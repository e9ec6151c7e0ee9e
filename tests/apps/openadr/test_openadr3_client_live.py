"""The real OpenADR 3 client from PyPI (``openadr3``) drives a live VTN as business logic and as two VENs.

Token (form body with ``/auth/server`` discovery, and HTTP Basic), VEN registration (a VEN registering itself and
business logic registering another), events visible only to the VEN they target (one created over HTTP, one
published through the Python API dispatch uses), and a report that becomes ``site_power_kw`` telemetry.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps as django_apps

from apps.openadr import services
from apps.openadr.selectors import site_target
from apps.telemetry.models import DataPoint
from tests.apps.openadr.conftest import BASE, make_vtn
from tests.conftest import World

openadr3 = pytest.importorskip(
    "openadr3", reason="the openadr3 client (requirements-dev.txt) is not installed"
)
httpx = pytest.importorskip("httpx")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def zones() -> None:
    """Transactional tests end with a flush that empties the market zones of the data migration (and run after
    the others), so they are re-seeded with the migration's own idempotent function. (``serialized_rollback``
    breaks once another transactional test has flushed: re-created content types clash with the serialized.)"""
    importlib.import_module("apps.core.migrations.0002_seed_market_zones").seed(django_apps, None)


def warm_up(base: str) -> None:
    """The live server's first request imports every URL module (forecasting pulls in scikit-learn): seconds on a
    loaded machine, longer than the client's 5 s timeout. One request with a long timeout first."""
    assert httpx.get(f"{base}/auth/server", timeout=120).status_code == 200


def test_openadr3_client_against_a_live_vtn(live_server, zones: None, world: World) -> None:  # type: ignore[no-untyped-def]
    vtn = make_vtn(world)
    base = f"{live_server.url}{BASE}"
    warm_up(base)

    # --- tokens: form body after discovery via GET /auth/server, and HTTP Basic ------------------------------
    bl_creds = vtn.credentials["bl"]
    bl_token = openadr3.fetch_token(
        base, bl_creds.api_client.client_id, bl_creds.client_secret, scopes=["write_programs", "write_events"]
    )
    bl = openadr3.create_bl_client(base, bl_token)
    a_creds = vtn.credentials["ven_a"]
    basic = httpx.post(
        f"{base}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(a_creds.api_client.client_id, a_creds.client_secret),
    )
    assert basic.status_code == 200, basic.text
    assert basic.json()["token_type"] == "Bearer" and isinstance(basic.json()["scope"], str)
    ven_a = openadr3.create_ven_client(base, basic.json()["access_token"])
    b_creds = vtn.credentials["ven_b"]
    ven_b = openadr3.OpenADRClient(base_url=base, client_type="ven", scopes=openadr3.VEN_SCOPES)
    ven_b.fetch_token(b_creds.api_client.client_id, b_creds.client_secret)

    # --- business logic: a program -----------------------------------------------------------------------------
    created = bl.create_program(
        {"programName": "dc-flex", "intervalPeriod": {"start": "2030-01-01T00:00:00Z"}}
    )
    assert created.status_code == 201, created.text
    program = openadr3.coerce(created.json())
    assert isinstance(program, openadr3.Program) and program.program_name == "dc-flex" and program.id
    assert ven_a.create_program({"programName": "mine"}).status_code == 403

    # --- VEN registration -------------------------------------------------------------------------------------
    registered = ven_a.create_ven({"objectType": "VEN_VEN_REQUEST", "venName": "dc-a"})
    assert registered.status_code == 201, registered.text
    ven_a_obj = openadr3.coerce(registered.json())
    assert ven_a_obj.client_id == a_creds.api_client.client_id
    assert site_target(vtn.site_a) in ven_a_obj.targets
    by_bl = bl.create_ven(
        {"objectType": "BL_VEN_REQUEST", "clientID": b_creds.api_client.client_id, "venName": "dc-b"}
    )
    assert by_bl.status_code == 201, by_bl.text
    duplicate = {"objectType": "BL_VEN_REQUEST", "clientID": b_creds.api_client.client_id, "venName": "dc-b"}
    assert bl.create_ven(duplicate).status_code == 409
    assert ven_b.find_ven_by_name("dc-b") is not None
    assert ven_a.find_ven_by_name("dc-b") is None  # a VEN reads only its own ven object
    assert [v.ven_name for v in bl.vens()] == ["dc-a", "dc-b"]

    # --- events: one over HTTP for site A, one through the dispatch API for site B ----------------------------
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    event_a = bl.create_event(
        {
            "programID": program.id,
            "eventName": "cap-a",
            "targets": [site_target(vtn.site_a)],
            "payloadDescriptors": [
                {
                    "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "IMPORT_CAPACITY_LIMIT",
                    "units": "KW",
                }
            ],
            "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT15M"},
            "intervals": [
                {"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [800.0]}]},
                {"id": 1, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [750.0]}]},
            ],
            "reportDescriptors": [{"payloadType": "DEMAND", "readingType": "DIRECT_READ", "units": "KW"}],
        }
    )
    assert event_a.status_code == 201, event_a.text
    event_a_id = event_a.json()["id"]
    published = services.openadr_event_publish(
        site=vtn.site_b, intervals=[(start, timedelta(minutes=15), {"DISPATCH_SETPOINT": 500.0})]
    )

    seen_by_a = ven_a.events()
    assert [e.id for e in seen_by_a] == [event_a_id]
    windows = [i.interval_period.period for i in seen_by_a[0].resolved_intervals()]
    assert [(s.isoformat(), e.isoformat()) for s, e in windows] == [
        ("2030-01-01T12:00:00+00:00", "2030-01-01T12:15:00+00:00"),
        ("2030-01-01T12:15:00+00:00", "2030-01-01T12:30:00+00:00"),
    ]
    seen_by_b = ven_b.events()
    assert [e.id for e in seen_by_b] == [published.object_id]
    assert seen_by_b[0].intervals[0].payloads[0].type == "DISPATCH_SETPOINT"
    assert seen_by_b[0].intervals[0].payloads[0].values == [500.0]
    assert seen_by_b[0].payload_descriptors[0].units == "KW"
    hidden = ven_a.get_event_by_id(published.object_id)
    assert hidden.status_code == 404 and hidden.headers["content-type"].startswith("application/problem+json")
    assert {e.id for e in bl.events()} == {event_a_id, published.object_id}
    assert [e.id for e in ven_a.events(programID=program.id)] == [event_a_id]

    # --- a report from VEN A becomes telemetry ----------------------------------------------------------------
    report = ven_a.create_report(
        {
            "eventID": event_a_id,
            "clientName": "dc-a",
            "reportName": "metered load",
            "payloadDescriptors": [
                {
                    "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "DEMAND",
                    "readingType": "DIRECT_READ",
                    "units": "KW",
                }
            ],
            "resources": [
                {
                    "resourceName": "AGGREGATED_REPORT",
                    "intervals": [
                        {"id": 0, "payloads": [{"type": "DEMAND", "values": [795.5]}]},
                        {"id": 1, "payloads": [{"type": "DEMAND", "values": [748.25]}]},
                    ],
                }
            ],
        }
    )
    assert report.status_code == 201, report.text
    stored = ven_a.report(report.json()["id"])
    assert isinstance(stored, openadr3.Report) and stored.client_id == a_creds.api_client.client_id
    points = DataPoint.objects.filter(series__site=vtn.site_a, series__quantity="site_power_kw").order_by(
        "start"
    )
    assert [(p.start, p.value) for p in points] == [
        (start, 795.5),
        (start + timedelta(minutes=15), 748.25),
    ]
    assert [r.id for r in bl.reports(eventID=event_a_id)] == [stored.id]
    assert ven_b.reports() == []
    assert ven_b.create_report({**report.json(), "clientName": "dc-b"}).status_code == 409  # not its event


@pytest.mark.services
def test_openadr3_client_subscribes_and_is_notified(live_server, zones: None, world: World) -> None:  # type: ignore[no-untyped-def]
    """Issue #19's scenario with the registry's client: business logic creates a program and a targeted event, the
    VEN lists them, reports, subscribes (the VTN verifies its callback) and receives the notification of the next
    event at its local callback, sent by a real Celery worker."""
    from tests.apps.openadr.callback_sink import CallbackSink
    from tests.conftest import require_service
    from tests.worker import celery_worker

    require_service("REDIS_URL")
    vtn = make_vtn(world)
    base = f"{live_server.url}{BASE}"
    warm_up(base)
    bl_creds, a_creds = vtn.credentials["bl"], vtn.credentials["ven_a"]
    bl = openadr3.create_bl_client(
        base, openadr3.fetch_token(base, bl_creds.api_client.client_id, bl_creds.client_secret)
    )
    ven = openadr3.create_ven_client(
        base, openadr3.fetch_token(base, a_creds.api_client.client_id, a_creds.client_secret)
    )
    assert ven.get_notifiers().json() == {"WEBHOOK": True}
    assert ven.create_ven({"objectType": "VEN_VEN_REQUEST", "venName": "dc-a"}).status_code == 201
    program = bl.create_program({"programName": "dc-flex", "intervalPeriod": None})
    assert program.status_code == 201, program.text

    def targeted_event(name: str) -> dict:
        return {
            "programID": program.json()["id"],
            "eventName": name,
            "targets": [site_target(vtn.site_a)],
            "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT15M", "randomizeStart": None},
            "intervals": [{"id": 0, "intervalPeriod": None, "payloads": [{"type": "SIMPLE", "values": [1]}]}],
        }

    first = bl.create_event(targeted_event("first"))
    assert first.status_code == 201, first.text
    assert [e.id for e in ven.events()] == [first.json()["id"]]
    report = ven.create_report(
        {
            "eventID": first.json()["id"],
            "clientName": "dc-a",
            "resources": [
                {
                    "resourceName": "AGGREGATED_REPORT",
                    "intervals": [{"id": 0, "payloads": [{"type": "SIMPLE", "values": [1]}]}],
                }
            ],
        }
    )
    assert report.status_code == 201, report.text

    sink = CallbackSink().start()
    try:
        refused = ven.create_subscription(
            {
                "clientName": "dc-a",
                "objectOperations": [
                    {"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": sink.url("/noecho")}
                ],
            }
        )
        assert refused.status_code == 400 and sink.url("/noecho") in refused.text
        subscribed = ven.create_subscription(
            {
                "clientName": "dc-a",
                "objectOperations": [
                    {
                        "objects": ["EVENT"],
                        "operations": ["CREATE", "UPDATE"],
                        "callbackUrl": sink.url("/events"),
                        "bearerToken": "ven-secret",
                    }
                ],
            }
        )
        assert subscribed.status_code == 201, subscribed.text
        with celery_worker(queues="default"):
            second = bl.create_event(targeted_event("second"))
            assert second.status_code == 201, second.text
            received = sink.wait_for(1, path="/events", timeout_s=60)
    finally:
        sink.stop()
    (post,) = received
    assert post.authorization == "Bearer ven-secret"
    assert post.body["objectType"] == "EVENT" and post.body["operation"] == "CREATE"
    notified = openadr3.coerce(post.body["object"])
    assert isinstance(notified, openadr3.Event) and notified.id == second.json()["id"]
    assert notified.event_name == "second"
