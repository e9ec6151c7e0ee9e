"""Reports: a VEN posts USAGE/DEMAND readings for its events; they become ``site_power_kw`` telemetry, all or
nothing (see :mod:`apps.openadr.readings`)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.openadr import services
from apps.openadr.models import Event, Program, Report
from apps.openadr.selectors import site_target
from apps.telemetry.models import DataPoint, TimeSeries
from apps.telemetry.services import timeseries_get_or_create
from tests.apps.openadr.conftest import BASE, Vtn, event_body


@pytest.fixture
def event(vtn: Vtn, program: Program) -> Event:
    vtn.register("ven_a")
    vtn.register("ven_b")
    return services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_a)]))


def report_body(event: Event, resources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "eventID": str(event.pk),
        "clientName": "ven_a",
        "reportName": "metering",
        "resources": resources,
        **extra,
    }


def demand(
    values_by_id: dict[int, list[float]], name: str = "AGGREGATED_REPORT", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceName": name,
        "intervals": [
            {"id": i, "payloads": [{"type": "DEMAND", "values": v}]} for i, v in values_by_id.items()
        ],
        **extra,
    }


def points(vtn: Vtn) -> dict[str, float]:
    return {
        p.start.strftime("%H:%M"): p.value
        for p in DataPoint.objects.filter(series__site=vtn.site_a, series__quantity="site_power_kw").order_by(
            "start"
        )
    }


def test_demand_readings_for_event_intervals_become_site_power(vtn: Vtn, event: Event) -> None:
    response = vtn.client("ven_a").post(
        f"{BASE}/reports", report_body(event, [demand({0: [812.5], 1: [760.0]})]), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["clientID"] == vtn.client_id("ven_a") and body["objectType"] == "REPORT"
    assert body["eventID"] == str(event.pk)
    series = TimeSeries.objects.get(site=vtn.site_a, quantity="site_power_kw")
    assert series.resolution == "PT15M" and series.unit == "kW"
    assert points(vtn) == {"12:00": 812.5, "12:15": 760.0}
    assert Report.objects.get().telemetry_points == 2


def test_usage_in_kwh_is_converted_to_mean_kw(vtn: Vtn, event: Event) -> None:
    usage = {
        "resourceName": "meter",
        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT15M"},
        "intervals": [
            {"id": 0, "payloads": [{"type": "USAGE", "values": [200.0]}]},
            {"id": 1, "payloads": [{"type": "USAGE", "values": [190.0]}]},
        ],
    }
    descriptors = [{"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": "USAGE", "units": "KWH"}]
    response = vtn.client("ven_a").post(
        f"{BASE}/reports", report_body(event, [usage], payloadDescriptors=descriptors), format="json"
    )
    assert response.status_code == 201, response.content
    assert points(vtn) == {"12:00": 800.0, "12:15": 760.0}


def test_multi_valued_payloads_are_sub_intervals(vtn: Vtn, event: Event) -> None:
    response = vtn.client("ven_a").post(
        f"{BASE}/reports", report_body(event, [demand({0: [800.0, 810.0, 820.0]})]), format="json"
    )
    assert response.status_code == 201, response.content
    assert TimeSeries.objects.get(site=vtn.site_a).resolution == "PT5M"
    assert points(vtn) == {"12:00": 800.0, "12:05": 810.0, "12:10": 820.0}


def test_readings_are_laid_on_an_existing_series_grid(vtn: Vtn, event: Event) -> None:
    timeseries_get_or_create(owner=vtn.site_a, quantity="site_power_kw", resolution="PT5M")
    response = vtn.client("ven_a").post(
        f"{BASE}/reports", report_body(event, [demand({1: [700.0]})]), format="json"
    )
    assert response.status_code == 201, response.content
    assert points(vtn) == {"12:15": 700.0, "12:20": 700.0, "12:25": 700.0}


def test_finer_readings_average_into_a_coarser_series(vtn: Vtn, event: Event) -> None:
    timeseries_get_or_create(owner=vtn.site_a, quantity="site_power_kw", resolution="PT15M")
    fine = {
        "resourceName": "meter",
        "intervalPeriod": {"start": "2030-01-01T12:00:00Z", "duration": "PT5M"},
        "intervals": [
            {"id": i, "payloads": [{"type": "DEMAND", "values": [v]}]} for i, v in enumerate([600, 700, 800])
        ],
    }
    response = vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, [fine]), format="json")
    assert response.status_code == 201, response.content
    assert points(vtn) == {"12:00": 700.0}
    partial = {**fine, "intervals": fine["intervals"][:2]}
    refused = vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, [partial]), format="json")
    assert refused.status_code == 400
    assert "only part" in refused.json()["detail"]


def test_resources_add_up_unless_aggregated(vtn: Vtn, event: Event) -> None:
    feeds = [demand({0: [300.0]}, name="feed-1"), demand({0: [500.0]}, name="feed-2")]
    assert (
        vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, feeds), format="json").status_code
        == 201
    )
    assert points(vtn) == {"12:00": 800.0}
    with_total = [*feeds, demand({0: [900.0]})]
    assert (
        vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, with_total), format="json").status_code
        == 201
    )
    assert points(vtn) == {"12:00": 900.0}
    uneven = [demand({0: [300.0]}, name="feed-1"), demand({1: [500.0]}, name="feed-2")]
    response = vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, uneven), format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "resources[1]"


def test_a_report_is_all_or_nothing(vtn: Vtn, event: Event) -> None:
    no_time = {
        "resourceName": "meter",
        "intervals": [{"id": 7, "payloads": [{"type": "DEMAND", "values": [1.0]}]}],
    }
    good = demand({0: [812.5]}, name="meter-2")
    response = vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, [good, no_time]), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "resources[1].intervals[0].intervalPeriod"
    negative = demand({0: [-5.0]})
    response = vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, [negative]), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "resources[0].intervals[0].payloads[0].values[0]"
    in_mw = report_body(
        event,
        [demand({0: [0.8]})],
        payloadDescriptors=[
            {"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": "DEMAND", "units": "MW"}
        ],
    )
    assert vtn.client("ven_a").post(f"{BASE}/reports", in_mw, format="json").status_code == 400
    absurd = demand({0: [5e9]})  # 5 TW: telemetry refuses it, so nothing of the report stays
    response = vtn.client("ven_a").post(f"{BASE}/reports", report_body(event, [absurd]), format="json")
    assert response.status_code == 400 and "telemetry refused" in response.json()["detail"]
    assert not Report.objects.exists() and not DataPoint.objects.exists()


def test_forecasts_and_private_payloads_are_kept_but_not_telemetry(vtn: Vtn, event: Event) -> None:
    forecast = report_body(
        event,
        [
            demand({0: [900.0]}),
            {
                "resourceName": "x",
                "intervals": [{"id": 0, "payloads": [{"type": "MY_STATE", "values": ["ok"]}]}],
            },
        ],
        payloadDescriptors=[
            {"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": "DEMAND", "readingType": "FORECAST"}
        ],
    )
    response = vtn.client("ven_a").post(f"{BASE}/reports", forecast, format="json")
    assert response.status_code == 201, response.content
    assert Report.objects.get().telemetry_points == 0 and not DataPoint.objects.exists()


def test_who_may_report_on_which_event(vtn: Vtn, event: Event) -> None:
    body = report_body(event, [demand({0: [812.5]})])
    assert vtn.client("bl").post(f"{BASE}/reports", body, format="json").status_code == 403
    other = vtn.client("ven_b").post(f"{BASE}/reports", body, format="json")
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "eventID"
    assert (
        vtn.client("ven_a").post(f"{BASE}/reports", {**body, "eventID": "999"}, format="json").status_code
        == 409
    )


def test_reports_are_read_by_their_ven_and_business_logic(vtn: Vtn, event: Event, program: Program) -> None:
    a = vtn.client("ven_a")
    report = a.post(f"{BASE}/reports", report_body(event, [demand({0: [812.5]})]), format="json").json()
    b_event = services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_b)]))
    b_report = vtn.client("ven_b").post(
        f"{BASE}/reports",
        {**report_body(b_event, [demand({0: [1.0]})]), "clientName": "ven_b"},
        format="json",
    )
    assert b_report.status_code == 201, b_report.content
    assert [r["id"] for r in a.get(f"{BASE}/reports").json()] == [report["id"]]
    assert a.get(f"{BASE}/reports/{b_report.json()['id']}").status_code == 404
    bl = vtn.client("bl")
    assert len(bl.get(f"{BASE}/reports").json()) == 2
    assert [r["id"] for r in bl.get(f"{BASE}/reports", {"eventID": str(event.pk)}).json()] == [report["id"]]
    assert len(bl.get(f"{BASE}/reports", {"programID": str(program.pk)}).json()) == 2
    assert [r["clientName"] for r in bl.get(f"{BASE}/reports", {"clientName": "ven_b"}).json()] == ["ven_b"]
    assert bl.delete(f"{BASE}/reports/{report['id']}").status_code == 403


def test_updating_a_report_rewrites_its_readings_and_deleting_keeps_them(vtn: Vtn, event: Event) -> None:
    a = vtn.client("ven_a")
    report = a.post(f"{BASE}/reports", report_body(event, [demand({0: [812.5]})]), format="json").json()
    updated = a.put(
        f"{BASE}/reports/{report['id']}", report_body(event, [demand({0: [799.0]})]), format="json"
    )
    assert updated.status_code == 200, updated.content
    assert points(vtn) == {"12:00": 799.0}
    assert a.delete(f"{BASE}/reports/{report['id']}").status_code == 200
    assert points(vtn) == {"12:00": 799.0}
    # the event may be deleted while reports answer it; they keep its id
    again = a.post(f"{BASE}/reports", report_body(event, [demand({0: [812.5]})]), format="json").json()
    assert vtn.client("bl").delete(f"{BASE}/events/{event.pk}").status_code == 200
    assert vtn.client("bl").get(f"{BASE}/reports/{again['id']}").json()["eventID"] == str(event.pk)
