"""Known jobs in a site's state (issue #21): stored with the report and read back; every bad field a 400 naming
it with nothing of the report stored; another organisation's site is 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.telemetry.models import KnownJob, QueuedWork, SiteState
from tests.apps.telemetry.test_permission_matrix import _state_site, state_body
from tests.apps.telemetry.test_site_state import _set
from tests.conftest import World
from tests.factories import SiteFactory, WorkloadClassFactory


def _body(site: Any) -> dict[str, Any]:
    body = state_body(site)
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    body["known_jobs"] = [
        {
            "job_id": "philly-1",
            "workload_class": "training",
            "power_kw": 320.0,
            "duration_h": 2.5,
            "submitted_at": (at - timedelta(hours=1)).isoformat(),
            "deadline": (at + timedelta(hours=9)).isoformat(),
        },
        {
            "job_id": "philly-2",
            "workload_class": "training",
            "energy_kwh": 150.0,
            "submitted_at": (at - timedelta(minutes=5)).isoformat(),
            "earliest_start": (at + timedelta(hours=2)).isoformat(),
        },
    ]
    return body


def _counts() -> tuple[int, int, int]:
    return SiteState.objects.count(), QueuedWork.objects.count(), KnownJob.objects.count()


def test_known_jobs_are_stored_and_read_back(world: World, api_as: Any) -> None:
    site = _state_site(world)
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", _body(site), format="json")
    assert response.status_code == 201, response.content[:400]
    jobs = response.json()["known_jobs"]
    assert [(j["job_id"], j["energy_kwh"], j["power_kw"], j["duration_h"]) for j in jobs] == [
        ("philly-1", 800.0, 320.0, 2.5),
        ("philly-2", 150.0, None, None),
    ]
    assert jobs[0]["earliest_start"] == jobs[0]["submitted_at"]  # default: the submission
    assert jobs[1]["deadline"] is None
    read = api_as("staff").get(f"/api/v1/sites/{site.pk}/state/")
    assert read.status_code == 200 and read.json()["known_jobs"] == jobs


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("known_jobs[0].power_kw", -1.0, "must not be negative"),
        ("known_jobs[0].duration_h", 0.0, "must be positive"),
        ("known_jobs[1].energy_kwh", -3.0, "must not be negative"),
        ("known_jobs[0].workload_class", "nope", "is not a workload class of this site"),
        ("known_jobs[1].job_id", "philly-1", "reported twice"),
        ("known_jobs[0].job_id", "", "may not be blank"),
        ("known_jobs[0].deadline", "2020-01-01T00:00:00Z", "before the job can finish"),
        ("known_jobs[1].earliest_start", "2020-01-01T00:00:00Z", "before the job's submission"),
        ("known_jobs[1].submitted_at", "2022-09-01T00:00:00", "time zone"),
    ],
)
def test_each_bad_known_job_field_is_a_400_naming_it_and_nothing_is_stored(
    world: World, api_as: Any, path: str, value: Any, reason: str
) -> None:
    site = _state_site(world)
    body = _body(site)
    _set(path, value)(body)
    before = _counts()
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", body, format="json")
    assert response.status_code == 400, response.content[:400]
    errors = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert path in errors, errors
    assert reason in errors[path], errors[path]
    assert _counts() == before


@pytest.mark.parametrize(
    "mutate",
    [
        lambda job: job.update(energy_kwh=10.0),  # both sizes
        lambda job: (job.pop("power_kw"), job.pop("duration_h")),  # no size
    ],
)
def test_a_job_needs_exactly_one_size(world: World, api_as: Any, mutate: Any) -> None:
    site = _state_site(world)
    body = _body(site)
    mutate(body["known_jobs"][0])
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", body, format="json")
    assert response.status_code == 400
    assert "known_jobs[0].energy_kwh" in {e["field"] for e in response.json()["errors"]}
    assert KnownJob.objects.count() == 0


def test_another_organisations_site_is_404_and_its_class_is_not_ours(world: World, api_as: Any) -> None:
    site = _state_site(world)
    other = SiteFactory(owner=world.owner_b, enrolment_status="active")
    WorkloadClassFactory(site=other, name="theirs", max_delay_h=4.0)
    response = api_as("owner_b").post(f"/api/v1/sites/{site.pk}/state/", _body(site), format="json")
    assert response.status_code == 404
    body = _body(site)
    body["known_jobs"][0]["workload_class"] = other.workload_classes.get().pk
    response = api_as("owner_a").post(f"/api/v1/sites/{site.pk}/state/", body, format="json")
    assert response.status_code == 400
    assert "known_jobs[0].workload_class" in {e["field"] for e in response.json()["errors"]}
    assert KnownJob.objects.count() == 0
