"""The day-ahead load forecast service on stored telemetry: a stored run with belief time, no look-ahead."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from apps.forecasts.services import forecast_day_ahead
from apps.telemetry.services import datapoints_ingest
from tests.factories import TimeSeriesFactory

ISSUE = datetime(2022, 9, 5, 17, 0, tzinfo=UTC)  # 10:00 PDT on 5 September


def daily_load(end: datetime, days: int = 35) -> pd.Series:
    index = pd.date_range(end=end, periods=days * 96, freq="15min", inclusive="left")
    hours = index.tz_convert("America/Los_Angeles").hour + index.minute / 60
    rng = np.random.default_rng(3)
    return pd.Series(
        5000 + 800 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0, 30, len(index)), index=index
    )


@pytest.mark.django_db
def test_day_ahead_run_for_the_next_local_day() -> None:
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-08", tz="UTC")))
    run = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)
    values = run.values.order_by("start")
    assert run.issued_at == ISSUE and values.count() == 96
    assert values.first().start == datetime(2022, 9, 6, 7, 0, tzinfo=UTC)  # local midnight of the next day
    p50 = np.array([v.p50 for v in values])
    assert all(v.p10 <= v.p50 <= v.p90 for v in values)
    assert abs(p50.mean() - 5000) < 200 and p50.max() - p50.min() > 800  # learned the daily swing


@pytest.mark.django_db
def test_data_after_the_issue_time_changes_nothing() -> None:
    first, second = TimeSeriesFactory(), TimeSeriesFactory()
    load = daily_load(pd.Timestamp("2022-09-08", tz="UTC"))
    datapoints_ingest(series=first, rows=load)
    tampered = load.copy()
    tampered[tampered.index >= ISSUE] *= 3  # the future differs
    datapoints_ingest(series=second, rows=tampered)
    a = [v.p50 for v in forecast_day_ahead(series_id=first.pk, issue_time=ISSUE).values.order_by("start")]
    b = [v.p50 for v in forecast_day_ahead(series_id=second.pk, issue_time=ISSUE).values.order_by("start")]
    assert a == pytest.approx(b)


@pytest.mark.django_db
def test_not_enough_history() -> None:
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=daily_load(ISSUE, days=5))
    with pytest.raises(ValueError, match="not enough history"):
        forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)


@pytest.mark.django_db
def test_trained_model_is_reused_then_retrained() -> None:
    from datetime import timedelta

    from apps.forecasts.models import TrainedModel

    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-20", tz="UTC"), days=45))
    forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)
    reused = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE + timedelta(days=1))
    assert TrainedModel.objects.count() == 1 and "reused_model_trained_at" in reused.metrics
    assert reused.values.count() == 96
    forecast_day_ahead(
        series_id=series.pk, issue_time=ISSUE + timedelta(days=8)
    )  # older than a week: retrain
    assert TrainedModel.objects.count() == 2
