"""Intraday updates on stored telemetry: their window, belief time, model reuse and what selectors return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from apps.forecasts.choices import RunKind
from apps.forecasts.models import ForecastRun, TrainedModel
from apps.forecasts.selectors import forecast_known_at, intraday_series_due, series_expected
from apps.forecasts.services import INTRADAY_MAX_LEAD, forecast_day_ahead, forecast_intraday
from apps.telemetry.services import datapoints_ingest
from tests.apps.forecasts.test_day_ahead import ISSUE, daily_load
from tests.factories import TimeSeriesFactory

UPDATE = datetime(2022, 9, 6, 13, 0, tzinfo=UTC)  # 06:00 PDT on 6 September, the day-ahead run's delivery day


@pytest.fixture
def series():
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-09", tz="UTC"), days=36))
    return series


@pytest.mark.django_db
def test_update_covers_the_next_24_hours(series) -> None:
    run = forecast_intraday(series_id=series.pk, issue_time=UPDATE)
    assert run.kind == RunKind.INTRADAY and run.issued_at == UPDATE
    assert run.horizon_start == UPDATE and run.horizon_end == UPDATE + INTRADAY_MAX_LEAD
    assert run.values.count() == INTRADAY_MAX_LEAD // timedelta(minutes=15)


@pytest.mark.django_db
def test_update_ignores_values_after_its_issue_time(series) -> None:
    other = TimeSeriesFactory()
    tampered = daily_load(pd.Timestamp("2022-09-09", tz="UTC"), days=36)
    tampered[tampered.index >= UPDATE] *= 3
    datapoints_ingest(series=other, rows=tampered)
    a = [v.p50 for v in forecast_intraday(series_id=series.pk, issue_time=UPDATE).values.order_by("start")]
    b = [v.p50 for v in forecast_intraday(series_id=other.pk, issue_time=UPDATE).values.order_by("start")]
    assert a == pytest.approx(b)


@pytest.mark.django_db
def test_updates_reuse_their_trained_model(series) -> None:
    forecast_intraday(series_id=series.pk, issue_time=UPDATE)
    later = forecast_intraday(series_id=series.pk, issue_time=UPDATE + timedelta(hours=1))
    assert "reused_model_trained_at" in later.metrics
    assert TrainedModel.objects.filter(series=series, model_name="gbm_load_intraday").count() == 1


@pytest.mark.django_db
def test_latest_belief_wins_and_nothing_issued_later_leaks(series) -> None:
    day_ahead = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)
    update = forecast_intraday(series_id=series.pk, issue_time=UPDATE)
    start, end = day_ahead.horizon_start, day_ahead.horizon_end
    before = forecast_known_at(series=series, start=start, end=end, belief_time=UPDATE - timedelta(minutes=1))
    assert (before["issued_at"] == ISSUE).all() and len(before) == 96
    after = forecast_known_at(series=series, start=start, end=end, belief_time=UPDATE)
    assert (after.loc[after.index < UPDATE, "issued_at"] == ISSUE).all()
    assert (after.loc[after.index >= UPDATE, "issued_at"] == UPDATE).all()
    update_p50 = dict(update.values.values_list("start", "p50"))
    assert after.loc[pd.Timestamp(UPDATE), "p50"] == pytest.approx(update_p50[UPDATE])
    expected = series_expected(series=series, start=UPDATE, steps=4, resolution_s=900, belief_time=UPDATE)
    assert expected.source == f"forecast@{pd.Timestamp(UPDATE).isoformat()}"
    expected_before = series_expected(
        series=series, start=UPDATE, steps=4, resolution_s=900, belief_time=UPDATE - timedelta(hours=1)
    )
    assert expected_before.source == f"forecast@{pd.Timestamp(ISSUE).isoformat()}"


@pytest.mark.django_db
def test_intraday_due_once_per_issue_time(series) -> None:
    series.site.enrolment_status = "active"
    series.site.save(update_fields=["enrolment_status"])
    assert intraday_series_due(issue_time=UPDATE) == [series.pk]
    forecast_intraday(series_id=series.pk, issue_time=UPDATE)
    assert intraday_series_due(issue_time=UPDATE) == []
    assert ForecastRun.objects.filter(series=series, kind=RunKind.INTRADAY).count() == 1


@pytest.mark.django_db
def test_naive_issue_time_refused(series) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        forecast_intraday(series_id=series.pk, issue_time=datetime(2022, 9, 6, 13, 0))


@pytest.mark.django_db
def test_same_belief_time_prefers_the_day_ahead_run_whatever_the_storage_order() -> None:
    from apps.forecasts.services import RunSpec, forecast_run_store

    series = TimeSeriesFactory()
    index = pd.date_range(UPDATE, periods=8, freq="15min")

    def values(level: float) -> pd.DataFrame:
        return pd.DataFrame({"p10": level - 1, "p50": level, "p90": level + 1}, index=index)

    forecast_run_store(
        series=series, spec=RunSpec("da", "1", ISSUE, kind=RunKind.DAY_AHEAD), values=values(1.0)
    )
    forecast_run_store(
        series=series, spec=RunSpec("id", "1", ISSUE, kind=RunKind.INTRADAY), values=values(2.0)
    )
    known = forecast_known_at(series=series, start=index[0], end=index[-1], belief_time=ISSUE)
    assert (known["p50"] == 1.0).all()
