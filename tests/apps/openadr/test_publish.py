"""The Python API dispatch uses: setpoint events for a site's VEN, idempotent by key, withdrawal, and zone-wide
PRICE / GHG signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.core.errors import DomainError
from apps.openadr import services
from apps.openadr.models import Event, Program
from apps.openadr.selectors import event_by_key, site_target, zone_target
from tests.apps.openadr.conftest import BASE, Vtn

START = datetime(2030, 6, 1, 14, 0, tzinfo=UTC)
Q = timedelta(minutes=15)


def test_publish_targets_the_sites_ven_with_kw_setpoints(vtn: Vtn) -> None:
    vtn.register("ven_a")
    vtn.register("ven_b")
    event = services.openadr_event_publish(
        site=vtn.site_a,
        intervals=[
            (START, Q, {"IMPORT_CAPACITY_LIMIT": 800.0, "DISPATCH_SETPOINT": 750.0}),
            (START + Q, Q, {"IMPORT_CAPACITY_LIMIT": 820.0}),
        ],
        event_name="plan 4",
        priority=1,
    )
    assert event.targets == [site_target(vtn.site_a)]
    assert event.program.program_name == services.DISPATCH_PROGRAM_NAME
    assert event.ends_at == START + 2 * Q
    body = vtn.client("ven_a").get(f"{BASE}/events/{event.object_id}").json()
    assert body["eventName"] == "plan 4" and body["priority"] == 1
    assert body["payloadDescriptors"] == [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"},
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "DISPATCH_SETPOINT", "units": "KW"},
    ]
    assert body["intervals"][0] == {
        "id": 0,
        "intervalPeriod": {"start": "2030-06-01T14:00:00Z", "duration": "PT15M"},
        "payloads": [
            {"type": "IMPORT_CAPACITY_LIMIT", "values": [800.0]},
            {"type": "DISPATCH_SETPOINT", "values": [750.0]},
        ],
    }
    assert vtn.client("ven_b").get(f"{BASE}/events/{event.object_id}").status_code == 404


def test_a_ven_registering_later_still_gets_the_event(vtn: Vtn) -> None:
    event = services.openadr_event_publish(
        site=vtn.site_a, intervals=[(START, Q, {"DISPATCH_SETPOINT": 10.0})]
    )
    assert vtn.client("ven_a").get(f"{BASE}/events").json() == []
    vtn.register("ven_a")
    assert [e["id"] for e in vtn.client("ven_a").get(f"{BASE}/events").json()] == [event.object_id]


def test_ensure_is_idempotent_by_key_and_updates_in_place(vtn: Vtn) -> None:
    first, created = services.openadr_event_ensure(
        key="plan-7-site-a", site=vtn.site_a, intervals=[(START, Q, {"DISPATCH_SETPOINT": 500.0})]
    )
    again, created_again = services.openadr_event_ensure(
        key="plan-7-site-a", site=vtn.site_a, intervals=[(START, Q, {"DISPATCH_SETPOINT": 500.0})]
    )
    assert created and not created_again
    assert again.pk == first.pk and again.modification_date_time == first.modification_date_time
    assert first.event_name == "plan-7-site-a"
    changed, _ = services.openadr_event_ensure(
        key="plan-7-site-a", site=vtn.site_a, intervals=[(START, Q, {"DISPATCH_SETPOINT": 450.0})]
    )
    assert changed.pk == first.pk and changed.intervals[0]["payloads"][0]["values"] == [450.0]
    assert Event.objects.count() == 1
    assert event_by_key(key="plan-7-site-a").pk == first.pk
    assert services.openadr_event_withdraw(key="plan-7-site-a") is True
    assert services.openadr_event_withdraw(key="plan-7-site-a") is False
    assert not Event.objects.exists()


def test_publish_refuses_bad_intervals_and_negative_setpoints(vtn: Vtn) -> None:
    with pytest.raises(DomainError):
        services.openadr_event_publish(site=vtn.site_a, intervals=[])
    with pytest.raises(DomainError):
        services.openadr_event_publish(
            site=vtn.site_a, intervals=[(datetime(2030, 1, 1), Q, {"DISPATCH_SETPOINT": 1.0})]
        )
    with pytest.raises(DomainError):
        services.openadr_event_publish(
            site=vtn.site_a, intervals=[(START, timedelta(0), {"DISPATCH_SETPOINT": 1.0})]
        )
    for bad in (-1.0, float("nan"), "lots", True):
        with pytest.raises(DomainError) as refused:
            services.openadr_event_publish(
                site=vtn.site_a, intervals=[(START, Q, {"IMPORT_CAPACITY_LIMIT": bad})]
            )
        assert refused.value.field == "intervals[0].payloads[0].values[0]"
    with pytest.raises(DomainError):
        services.openadr_event_ensure(key="x" * 201, site=vtn.site_a, intervals=[(START, Q, {"SIMPLE": 1})])
    assert not Event.objects.exists()


def test_price_and_ghg_signals_for_a_zone(vtn: Vtn) -> None:
    vtn.register("ven_a")  # CAISO_NP15
    vtn.register("ven_b")  # ERCOT_HUB
    zone = vtn.site_a.market_zone
    price = services.openadr_signal_publish(
        zone=zone, signal="PRICE", intervals=[(START, timedelta(hours=1), 85.0)], key="da-price-2030-06-01"
    )
    ghg = services.openadr_signal_publish(
        zone=zone, signal="GHG", intervals=[(START, timedelta(hours=1), 210.0)]
    )
    assert price.targets == [zone_target(zone)]
    assert price.program.program_name == services.SIGNALS_PROGRAM_NAME
    assert price.payload_descriptors == [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "units": "KWH", "currency": "USD"}
    ]
    assert price.intervals[0]["payloads"] == [
        {"type": "PRICE", "values": [0.085]}
    ]  # 85 USD/MWh = 0.085 USD/kWh
    assert ghg.intervals[0]["payloads"] == [{"type": "GHG", "values": [210.0]}]
    assert ghg.payload_descriptors[0]["units"] == "GHG"
    seen_a = {e["id"] for e in vtn.client("ven_a").get(f"{BASE}/events").json()}
    assert seen_a == {price.object_id, ghg.object_id}
    assert vtn.client("ven_b").get(f"{BASE}/events").json() == []
    with pytest.raises(DomainError):
        services.openadr_signal_publish(zone=zone, signal="CO2", intervals=[(START, Q, 1.0)])


def test_program_ensure_is_idempotent(vtn: Vtn) -> None:
    first = services.program_ensure(program_name="vpp-dispatch")
    assert services.program_ensure(program_name="vpp-dispatch").pk == first.pk
    assert Program.objects.count() == 1


def test_dispatch_entry_point_is_keyed_by_the_event_name(vtn: Vtn) -> None:
    intervals = [(START, Q, {"DISPATCH_SETPOINT": [500.0], "IMPORT_CAPACITY_LIMIT": [900.0]})]
    first = services.dispatch_event_publish(site=vtn.site_a, intervals=intervals, event_name="dispatch-k1")
    again = services.dispatch_event_publish(site=vtn.site_a, intervals=intervals, event_name="dispatch-k1")
    assert first.pk == again.pk and first.publish_key == "dispatch-k1" and Event.objects.count() == 1


def test_many_sites_in_one_call(vtn: Vtn) -> None:
    vtn.register("ven_a")
    vtn.register("ven_b")
    plan = [
        services.SitePublication("plan-9-a", vtn.site_a, [(START, Q, {"DISPATCH_SETPOINT": 700.0})]),
        services.SitePublication("plan-9-b", vtn.site_b, [(START, Q, {"DISPATCH_SETPOINT": 300.0})]),
    ]
    first = services.openadr_events_ensure_many(publications=plan)
    assert [created for _, created in first] == [True, True]
    again = services.openadr_events_ensure_many(publications=plan)
    assert [(e.pk, created) for e, created in again] == [(e.pk, False) for e, _ in first]
    revised = [
        plan[0],
        services.SitePublication("plan-9-b", vtn.site_b, [(START, Q, {"DISPATCH_SETPOINT": 250.0})]),
    ]
    (a, _), (b, _) = services.openadr_events_ensure_many(publications=revised)
    assert a.modification_date_time == first[0][0].modification_date_time
    assert b.modification_date_time > first[1][0].modification_date_time
    seen_b = vtn.client("ven_b").get(f"{BASE}/events").json()
    assert [e["intervals"][0]["payloads"][0]["values"] for e in seen_b] == [[250.0]]
    with pytest.raises(DomainError) as refused:
        services.openadr_events_ensure_many(publications=[plan[0], plan[0]])
    assert refused.value.field == "key"
    with pytest.raises(DomainError) as refused:
        services.openadr_events_ensure_many(
            publications=[
                plan[0],
                services.SitePublication("k", vtn.site_b, [(START, Q, {"DISPATCH_SETPOINT": -1})]),
            ]
        )
    assert refused.value.field.startswith("publications[1].intervals[0]")
    assert Event.objects.count() == 2
