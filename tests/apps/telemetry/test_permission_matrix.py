"""Permission matrix of the time-series API: every endpoint × method × persona, with the expected status.

``MATRIX`` (route name, method) rows use a series of a site of owner A; ``ZONE_MATRIX`` repeats the
endpoints that behave differently for a market-zone series (readable by every member, writable by the
aggregator only). ``tests/test_permission_coverage.py`` checks that ``MATRIX`` covers every telemetry route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.telemetry.models import DataPoint, SiteState, TimeSeries
from apps.telemetry.services import site_state_report
from tests.conftest import PERSONAS, World
from tests.factories import (
    BatteryFactory,
    SiteFactory,
    TimeSeriesFactory,
    WorkloadClassFactory,
    ZoneSeriesFactory,
)

Setup = Callable[[World], tuple[str, Any]]

ROWS = [
    {"start": "2022-09-01T00:00:00Z", "value": 1200.0},
    {"start": "2022-09-01T00:15:00Z", "value": 1250.0},
]
PRICE_ROWS = [{"start": "2022-09-01T00:00:00Z", "value": 85.2}]


def _site_series(world: World) -> TimeSeries:
    return TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))


def site_series(suffix: str = "", body: Any = None) -> Setup:
    def setup(world: World) -> tuple[str, Any]:
        return f"/api/v1/timeseries/{_site_series(world).pk}/{suffix}", body

    return setup


def zone_series(suffix: str = "", body: Any = None) -> Setup:
    def setup(world: World) -> tuple[str, Any]:
        return f"/api/v1/timeseries/{ZoneSeriesFactory().pk}/{suffix}", body

    return setup


def create_site_series(world: World) -> tuple[str, Any]:
    site = SiteFactory(owner=world.owner_a)
    return "/api/v1/timeseries/", {"site": site.pk, "quantity": "it_power_kw", "resolution": "PT5M"}


def create_zone_series(world: World) -> tuple[str, Any]:
    return "/api/v1/timeseries/", {"market_zone": "PJM_DOM", "quantity": "price", "resolution": "PT1H"}


def _state_site(world: World) -> Any:
    site = SiteFactory(owner=world.owner_a, enrolment_status="active")
    BatteryFactory(site=site, name="ups")
    WorkloadClassFactory(site=site, name="training", max_delay_h=8.0)
    return site


def state_body(site: Any) -> dict[str, Any]:
    """A valid state report of ``site`` (made by :func:`_state_site`), ten minutes old."""
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    return {
        "reported_at": at.isoformat(),
        "it_load_kw": 4200.0,
        "batteries": [{"battery": site.batteries.get().pk, "soc_kwh": 640.0}],
        "queue": [
            {
                "workload_class": "training",
                "energy_kwh": 350.0,
                "arrived_at": (at - timedelta(hours=1)).isoformat(),
                "deadline": (at + timedelta(hours=7)).isoformat(),
                "job_id": "job-1",
            }
        ],
    }


def report_state(world: World) -> tuple[str, Any]:
    site = _state_site(world)
    return f"/api/v1/sites/{site.pk}/state/", state_body(site)


def read_state(world: World) -> tuple[str, Any]:
    site = _state_site(world)
    body = state_body(site)
    body["reported_at"] = timezone.now() - timedelta(minutes=10)
    for row in body["queue"]:
        row["arrived_at"] = datetime.fromisoformat(row["arrived_at"])
        row["deadline"] = datetime.fromisoformat(row["deadline"])
    site_state_report(principal=None, site=site, data=body)
    return f"/api/v1/sites/{site.pk}/state/", None


def listing(world: World) -> tuple[str, Any]:
    _site_series(world)
    return "/api/v1/timeseries/", None


# Expected statuses in the order of PERSONAS: staff, owner_a, owner_b, operator, anonymous.
MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("timeseries-list", "get"): (listing, (200, 200, 200, 200, 401)),
    # staff see site A but only its owner registers its sensors; B cannot see the site (400: no such site)
    ("timeseries-list", "post"): (create_site_series, (403, 201, 400, 403, 401)),
    ("timeseries-detail", "get"): (site_series(), (200, 200, 404, 404, 401)),
    ("timeseries-data", "get"): (site_series("data/"), (200, 200, 404, 404, 401)),
    ("timeseries-data", "post"): (site_series("data/", ROWS), (403, 200, 404, 403, 401)),
    # aggregator staff read every site's state but only the site's owner (or its own VEN) reports it
    ("site-state", "get"): (read_state, (200, 200, 404, 404, 401)),
    ("site-state", "post"): (report_state, (403, 201, 404, 404, 401)),
}

ZONE_MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("timeseries-list", "post"): (create_zone_series, (201, 403, 403, 403, 401)),
    ("timeseries-detail", "get"): (zone_series(), (200, 200, 200, 200, 401)),
    ("timeseries-data", "get"): (zone_series("data/"), (200, 200, 200, 200, 401)),
    ("timeseries-data", "post"): (zone_series("data/", PRICE_ROWS), (200, 403, 403, 403, 401)),
}


def _cases(matrix: dict, label: str) -> list[tuple[str, str, str, str, int]]:
    return [
        (label, name, method, persona, i) for (name, method) in matrix for i, persona in enumerate(PERSONAS)
    ]


CASES = _cases(MATRIX, "site") + _cases(ZONE_MATRIX, "zone")


@pytest.mark.parametrize(
    ("label", "name", "method", "persona", "index"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}" for c in CASES],
)
def test_permission_matrix(
    world: World, api_as, label: str, name: str, method: str, persona: str, index: int
) -> None:  # type: ignore[no-untyped-def]
    setup, expected = (MATRIX if label == "site" else ZONE_MATRIX)[(name, method)]
    url, body = setup(world)
    points_before = DataPoint.objects.count()
    states_before = SiteState.objects.count()
    response = getattr(api_as(persona), method)(url, body, format="json")
    assert response.status_code == expected[index], (url, persona, response.content[:300])
    if response.status_code >= 400:
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["errors"], "every refusal names at least one reason"
        assert DataPoint.objects.count() == points_before, "a refused request writes nothing"
        assert SiteState.objects.count() == states_before, "a refused request writes nothing"
    elif method == "post" and name == "timeseries-data":
        assert DataPoint.objects.count() == points_before + len(body)
    elif method == "post" and name == "site-state":
        assert SiteState.objects.count() == states_before + 1


def test_owner_b_sees_zone_series_and_own_only(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    mine = TimeSeriesFactory(site=SiteFactory(owner=world.owner_b))
    theirs = _site_series(world)
    zone = ZoneSeriesFactory()
    ids_b = {s["id"] for s in api_as("owner_b").get("/api/v1/timeseries/").json()["results"]}
    ids_operator = {s["id"] for s in api_as("operator").get("/api/v1/timeseries/").json()["results"]}
    ids_staff = {s["id"] for s in api_as("staff").get("/api/v1/timeseries/").json()["results"]}
    assert ids_b == {mine.pk, zone.pk}
    assert theirs.pk not in ids_b
    assert ids_operator == {zone.pk}
    assert {mine.pk, theirs.pk, zone.pk} <= ids_staff


# Expected status of the site VEN persona (an OpenADR VEN API client of owner A, bound to one site of A; bearer
# token) for each MATRIX row: series of owner A's other sites are invisible (404; 400 when registering one for them). tests/reliability/test_access_matrix.py runs these and fails for a
# MATRIX row without one.
SITE_VEN: dict[tuple[str, str], int] = {
    ("timeseries-list", "get"): 200,
    ("timeseries-list", "post"): 400,
    ("timeseries-detail", "get"): 404,
    ("timeseries-data", "get"): 404,
    ("timeseries-data", "post"): 404,
    # the VEN is bound to another site of owner A: this one is invisible to it
    ("site-state", "get"): 404,
    ("site-state", "post"): 404,
}
