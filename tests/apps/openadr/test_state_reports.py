"""A VEN reports its site's state in a report: battery charge level (STORAGE_CHARGE_LEVEL, fraction of full),
IT load (X_VPP_IT_LOAD_KW) and queued work (X_VPP_QUEUE, one interval per entry); stored through the same
validation as REST, read back by the selectors and over REST; a bad entry is a 400 naming its report path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.openadr import services
from apps.openadr.models import Event, Program, Report
from apps.openadr.selectors import site_target
from apps.telemetry.models import SiteState
from apps.telemetry.selectors import site_state_latest
from tests.apps.openadr.conftest import BASE, Vtn, event_body
from tests.factories import BatteryFactory, WorkloadClassFactory

AT = datetime(2022, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def event(vtn: Vtn, program: Program) -> Event:
    vtn.register("ven_a")
    BatteryFactory(site=vtn.site_a, name="ups-1", energy_capacity_kwh=1000.0)
    WorkloadClassFactory(site=vtn.site_a, name="training", max_delay_h=8.0)
    return services.event_create(caller=None, data=event_body(program, targets=[site_target(vtn.site_a)]))


def _entry(**overrides: Any) -> str:
    entry = {
        "workload_class": "training",
        "energy_kwh": 120.0,
        "arrived_at": (AT - timedelta(hours=1)).isoformat(),
        "deadline": (AT + timedelta(hours=7)).isoformat(),
        "job_id": "job-7",
        **overrides,
    }
    return json.dumps(entry)


def state_report(event: Event, entries: list[str], level: float = 0.64) -> dict[str, Any]:
    period = {"start": AT.isoformat().replace("+00:00", "Z"), "duration": "PT0S"}
    return {
        "eventID": str(event.pk),
        "clientName": "ven_a",
        "reportName": "site state",
        "resources": [
            {
                "resourceName": "ups-1",
                "intervalPeriod": period,
                "intervals": [{"id": 0, "payloads": [{"type": "STORAGE_CHARGE_LEVEL", "values": [level]}]}],
            },
            {
                "resourceName": "site",
                "intervalPeriod": period,
                "intervals": [{"id": 0, "payloads": [{"type": "X_VPP_IT_LOAD_KW", "values": [4100.0]}]}]
                + [
                    {"id": k + 1, "payloads": [{"type": "X_VPP_QUEUE", "values": [raw]}]}
                    for k, raw in enumerate(entries)
                ],
            },
        ],
    }


def test_state_report_round_trip(vtn: Vtn, event: Event) -> None:
    response = vtn.client("ven_a").post(
        f"{BASE}/reports",
        state_report(event, [_entry(), _entry(job_id="job-8", energy_kwh=30.0)]),
        format="json",
    )
    assert response.status_code == 201, response.content[:500]
    state = site_state_latest(site=vtn.site_a, at=AT)
    assert state is not None and state.source == "openadr" and state.reported_at == AT
    assert state.it_load_kw == 4100.0
    assert state.battery_soc_kwh == {vtn.site_a.batteries.get().pk: pytest.approx(640.0)}
    assert [(q.job_id, q.energy_kwh) for q in state.queue] == [("job-7", 120.0), ("job-8", 30.0)]
    assert state.queue[0].deadline == AT + timedelta(hours=7)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (_entry(deadline=(AT - timedelta(hours=2)).isoformat()), "deadline"),
        (_entry(energy_kwh=-3.0), "energy_kwh"),
        (_entry(workload_class="inference-x"), "workload_class"),
        (_entry(arrived_at="2022-09-01T10:00:00"), "arrived_at"),
        (_entry(priority=1), "priority"),
    ],
)
def test_a_bad_queue_entry_names_its_report_path_and_nothing_is_stored(
    vtn: Vtn, event: Event, entry: str, field: str
) -> None:
    response = vtn.client("ven_a").post(
        f"{BASE}/reports", state_report(event, [_entry(), entry]), format="json"
    )
    assert response.status_code == 400, response.content[:500]
    paths = {e["field"] for e in response.json()["errors"]}
    assert f"resources[1].intervals[2].payloads[0].values[0].{field}" in paths, paths
    assert SiteState.objects.count() == 0 and Report.objects.count() == 0


def test_a_charge_level_beyond_full_and_an_unknown_battery_are_refused(vtn: Vtn, event: Event) -> None:
    over = vtn.client("ven_a").post(f"{BASE}/reports", state_report(event, [], level=1.5), format="json")
    assert over.status_code == 400
    body = state_report(event, [])
    body["resources"][0]["resourceName"] = "no-such-battery"
    unknown = vtn.client("ven_a").post(f"{BASE}/reports", body, format="json")
    assert unknown.status_code == 400
    assert "resources[0].resourceName" in {e["field"] for e in unknown.json()["errors"]}
    assert SiteState.objects.count() == 0


def test_a_report_without_state_payloads_stores_no_state(vtn: Vtn, event: Event) -> None:
    body = state_report(event, [])
    body["resources"] = [
        {
            "resourceName": "AGGREGATED_REPORT",
            "intervals": [{"id": 0, "payloads": [{"type": "DEMAND", "values": [800.0]}]}],
        }
    ]
    response = vtn.client("ven_a").post(f"{BASE}/reports", body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert SiteState.objects.count() == 0
