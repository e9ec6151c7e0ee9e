"""The compute-power beat cycles: they enqueue the due sites with the product clock's time, the per-site tasks call
their service, and the beat schedule names registered tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.forecasts.models import ComputePowerModel, ForecastRun
from apps.greenpower import tasks
from tests.apps.forecasts.test_compute_power import ISSUE, metered_site, utilisation_only_site
from vpp.celery import app

pytestmark = pytest.mark.django_db


def test_beat_entries_name_registered_tasks_and_expire() -> None:
    app.loader.import_default_modules()
    entries = {k: v for k, v in app.conf.beat_schedule.items() if k.startswith("greenpower-")}
    assert {v["task"] for v in entries.values()} == {
        "apps.greenpower.tasks.compute_model_refit_cycle",
        "apps.greenpower.tasks.derived_it_forecast_cycle",
    }
    for entry in entries.values():
        assert entry["task"] in app.tasks and entry["options"]["expires"] > 0
    weekly = entries["greenpower-compute-model-refit-cycle"]["schedule"]
    assert weekly.day_of_week == {1}


def test_cycles_enqueue_due_sites(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    refit = metered_site(slope=0.5)
    derived = utilisation_only_site()
    sent: list[tuple[str, int, str]] = []
    for name in ("compute_model_refit_site", "derived_it_forecast_site"):
        monkeypatch.setattr(
            getattr(tasks, name), "delay", lambda pk, iso, name=name: sent.append((name, pk, iso))
        )
    monkeypatch.setattr(tasks.clock, "now", lambda: ISSUE + timedelta(minutes=20))
    assert tasks.derived_it_forecast_cycle() == 1
    assert tasks.compute_model_refit_cycle() == 1
    assert sent == [
        ("derived_it_forecast_site", derived.pk, ISSUE.isoformat()),  # on the hour, 10:00 site time
        ("compute_model_refit_site", refit.pk, (ISSUE + timedelta(minutes=20)).isoformat()),
    ]


def test_site_tasks_run_their_service() -> None:
    refit = metered_site(slope=0.5)
    model_id = tasks.compute_model_refit_site(refit.pk, "2022-09-04T06:00:00+00:00")
    assert model_id == ComputePowerModel.objects.get(site=refit).pk
    derived = utilisation_only_site()
    run_id = tasks.derived_it_forecast_site(derived.pk, ISSUE.isoformat())
    assert ForecastRun.objects.get(pk=run_id).series.site_id == derived.pk
