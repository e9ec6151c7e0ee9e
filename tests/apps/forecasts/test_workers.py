"""Two real Celery workers split the day-ahead forecasts of a cycle, and each series is forecast exactly once even
when the cycle's group is sent twice (CI runs these: Redis and PostgreSQL)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest

from apps.core.workers import celery_worker
from apps.forecasts import tasks
from apps.forecasts.choices import RunStatus
from apps.forecasts.models import ForecastRun, TrainedModel
from apps.telemetry.services import datapoints_ingest
from tests.apps.forecasts.test_day_ahead import ISSUE, daily_load
from tests.conftest import require_service
from tests.factories import TimeSeriesFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SERIES = 6
SUCCEEDED = re.compile(r"Task apps\.forecasts\.tasks\.forecast_series\[[0-9a-f-]+\] succeeded")


def _wait_for(predicate, timeout: float = 240.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_two_workers_split_the_series_and_forecast_each_once() -> None:
    require_service("REDIS_URL")
    series = [TimeSeriesFactory(site__enrolment_status="active") for _ in range(SERIES)]
    for s in series:
        datapoints_ingest(series=s, rows=daily_load(pd.Timestamp("2022-09-08", tz="UTC")))
    ids = [s.pk for s in series]
    options = {"settings_module": "vpp.settings.test", "log_level": "info", "queues": "forecasts"}
    with celery_worker(**options) as first, celery_worker(**options, purge=False) as second:
        assert tasks.fan_out(tasks.forecast_series, ids, ISSUE) == SERIES
        assert tasks.fan_out(tasks.forecast_series, ids, ISSUE) == SERIES  # a duplicate group: no second run
        messages = 2 * SERIES
        logs = (Path(first.log_path), Path(second.log_path))
        done = lambda: sum(len(SUCCEEDED.findall(p.read_text())) for p in logs)  # noqa: E731
        assert _wait_for(lambda: done() == messages), [p.read_text()[-3000:] for p in logs]
        per_worker = [len(SUCCEEDED.findall(p.read_text())) for p in logs]
    assert all(n > 0 for n in per_worker), per_worker  # both workers took part
    runs = ForecastRun.objects.filter(series_id__in=ids, issued_at=ISSUE)
    assert runs.count() == SERIES
    assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert all(run.values.count() == 96 for run in runs)
    # each series was fitted once (a second computation would have found and reused the model, leaving its mark)
    assert TrainedModel.objects.filter(series_id__in=ids).count() == SERIES
    assert not any("reused_model_trained_at" in run.metrics for run in runs)
