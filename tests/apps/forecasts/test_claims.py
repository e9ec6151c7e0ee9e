"""Forecast claims (issue #22): a series is forecast once per belief time, however many messages or workers."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from apps.forecasts import tasks
from apps.forecasts.choices import RunStatus
from apps.forecasts.models import ForecastRun
from apps.forecasts.selectors import intraday_series_due, load_series_due
from apps.forecasts.services import (
    RECIPES,
    forecast_day_ahead,
    forecast_run_claim,
)
from apps.telemetry.services import datapoints_ingest
from tests.apps.forecasts.test_day_ahead import ISSUE, daily_load
from tests.factories import TimeSeriesFactory

RECIPE = RECIPES["gbm_load"]


@pytest.mark.django_db
def test_only_the_first_claim_wins() -> None:
    series = TimeSeriesFactory()
    first = forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE)
    assert first is not None and first.status == RunStatus.RUNNING
    assert forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE) is None
    other_time = forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE + timedelta(hours=1))
    assert other_time is not None and other_time.pk != first.pk
    assert ForecastRun.objects.filter(series=series).count() == 2


@pytest.mark.django_db
def test_a_failed_or_stale_claim_is_taken_over_once() -> None:
    series = TimeSeriesFactory()
    run = forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE)
    assert run is not None
    ForecastRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="boom")
    assert forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE) is not None
    assert forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE) is None  # running again, live
    ForecastRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert forecast_run_claim(series=series, recipe=RECIPE, issue_time=ISSUE) is not None  # its worker died
    assert ForecastRun.objects.get(pk=run.pk).error == ""


@pytest.mark.django_db
def test_once_forecasts_a_series_once_and_records_a_failure() -> None:
    series = TimeSeriesFactory(site__enrolment_status="active")
    with pytest.raises(ValueError, match="not enough history"):
        forecast_day_ahead(series_id=series.pk, issue_time=ISSUE, once=True)
    failed = ForecastRun.objects.get(series=series)
    assert failed.status == RunStatus.FAILED and "not enough history" in failed.error
    assert load_series_due(issue_time=ISSUE) == []  # a failed run is not enqueued again by the cycle

    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-08", tz="UTC")))
    run = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE, once=True)  # takes the failed run over
    assert run.status == RunStatus.SUCCEEDED and run.values.count() == 96
    again = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE, once=True)
    assert again.pk == run.pk and again.updated_at == run.updated_at  # not computed a second time
    replaced = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)  # without once: replaced, as before
    assert replaced.pk != run.pk and ForecastRun.objects.filter(series=series).count() == 1


@pytest.mark.django_db
def test_due_series_are_listed_in_one_query(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    series = [TimeSeriesFactory(site__enrolment_status="active") for _ in range(5)]
    forecast_run_claim(series=series[0], recipe=RECIPES["gbm_load_intraday"], issue_time=ISSUE)
    with django_assert_num_queries(1):
        due = intraday_series_due(issue_time=ISSUE)
    assert due == [s.pk for s in series[1:]]


@pytest.mark.django_db
def test_retrain_cycle_sends_one_task_per_stale_model(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-25", tz="UTC"), days=60))
    from apps.forecasts.services import trained_model_fit

    trained_model_fit(series=series, recipe=RECIPE, at=ISSUE)
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.group, "apply_async", lambda self: sent.extend(s.args for s in self.tasks))
    now = ISSUE + timedelta(days=8)
    monkeypatch.setattr(tasks.clock, "now", lambda: now)
    assert tasks.retrain_cycle() == 1
    assert sent == [(series.pk, "gbm_load", now.isoformat())]
    assert tasks.retrain_series(series.pk, "gbm_load", now.isoformat()) is not None
    assert tasks.retrain_series(series.pk, "gbm_load", now.isoformat()) is None  # fresh now: not fitted again
