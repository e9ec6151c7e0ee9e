"""Zone price/carbon day-ahead runs, the cycles that start them, and scheduled retraining of persisted models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from apps.forecasts import tasks
from apps.forecasts.models import TrainedModel
from apps.forecasts.selectors import load_series_due, zone_series_due
from apps.forecasts.services import (
    KEEP_TRAINED,
    RECIPES,
    forecast_day_ahead,
    forecast_intraday,
    forecast_zone_day_ahead,
    trained_model_fit,
    trained_models_retrain_stale,
)
from apps.telemetry.services import datapoints_ingest
from tests.apps.forecasts.test_day_ahead import ISSUE, daily_load
from tests.factories import TimeSeriesFactory, ZoneSeriesFactory


def hourly_price(end: pd.Timestamp, days: int = 35) -> pd.Series:
    index = pd.date_range(end=end, periods=days * 24, freq="1h", inclusive="left")
    hour = index.tz_convert("America/Los_Angeles").hour
    rng = np.random.default_rng(5)
    return pd.Series(60 + 40 * np.exp(-((hour - 19) ** 2) / 4) + rng.normal(0, 3, len(index)), index=index)


@pytest.mark.django_db
def test_zone_price_run_for_the_next_local_day() -> None:
    series = ZoneSeriesFactory()
    datapoints_ingest(series=series, rows=hourly_price(pd.Timestamp("2022-09-08", tz="UTC")))
    run = forecast_zone_day_ahead(series_id=series.pk, issue_time=ISSUE)
    values = run.values.order_by("start")
    assert run.model_name == "gbm_price" and run.issued_at == ISSUE and values.count() == 24
    assert values.first().start == datetime(2022, 9, 6, 7, 0, tzinfo=UTC)  # local midnight in the zone
    peak = max(values, key=lambda v: v.p50).start.astimezone(pd.Timestamp(0, tz="America/Los_Angeles").tz)
    assert peak.hour in (18, 19, 20)


@pytest.mark.django_db
def test_zone_carbon_uses_its_own_model() -> None:
    series = ZoneSeriesFactory(quantity="carbon_intensity_g_per_kwh", unit="gCO2eq/kWh")
    datapoints_ingest(series=series, rows=hourly_price(pd.Timestamp("2022-09-08", tz="UTC")) * 4)
    assert forecast_zone_day_ahead(series_id=series.pk, issue_time=ISSUE).model_name == "gbm_carbon"


@pytest.mark.django_db
def test_zone_forecast_refuses_a_site_series() -> None:
    series = TimeSeriesFactory()
    with pytest.raises(ValueError, match="not a market zone's price or carbon"):
        forecast_zone_day_ahead(series_id=series.pk, issue_time=ISSUE)


@pytest.mark.django_db
def test_zone_series_due_at_ten_zone_time_once() -> None:
    series = ZoneSeriesFactory()
    assert zone_series_due(issue_time=ISSUE) == [series.pk]  # 10:00 in Los Angeles
    assert zone_series_due(issue_time=ISSUE + timedelta(hours=1)) == []
    datapoints_ingest(series=series, rows=hourly_price(pd.Timestamp("2022-09-08", tz="UTC")))
    forecast_zone_day_ahead(series_id=series.pk, issue_time=ISSUE)
    assert zone_series_due(issue_time=ISSUE) == []


@pytest.mark.django_db
def test_an_intraday_update_at_ten_does_not_hide_the_day_ahead_run() -> None:
    series = TimeSeriesFactory(site__enrolment_status="active")
    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-08", tz="UTC")))
    forecast_intraday(series_id=series.pk, issue_time=ISSUE)
    assert load_series_due(issue_time=ISSUE) == [series.pk]
    forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)
    assert load_series_due(issue_time=ISSUE) == []


@pytest.mark.django_db
def test_cycles_enqueue_the_due_series(monkeypatch) -> None:
    site_series = TimeSeriesFactory(site__enrolment_status="active")
    zone_series = ZoneSeriesFactory()
    sent: list[tuple[str, int, str]] = []

    def apply_async(self):  # type: ignore[no-untyped-def]  # the group the cycle sends, one task per series
        sent.extend((sig.task.rsplit(".", 1)[-1], *sig.args) for sig in self.tasks)

    monkeypatch.setattr(tasks.group, "apply_async", apply_async)
    monkeypatch.setattr(tasks.clock, "now", lambda: ISSUE + timedelta(minutes=20))
    monkeypatch.setattr(tasks.clock, "replay_running", lambda: False)
    assert tasks.zone_day_ahead_cycle() == 1
    assert tasks.intraday_cycle() == 1
    assert sent == [
        ("forecast_zone_series", zone_series.pk, ISSUE.isoformat()),
        ("forecast_intraday_series", site_series.pk, ISSUE.isoformat()),  # on the hour
    ]
    monkeypatch.setattr(tasks.clock, "replay_running", lambda: True)
    sent.clear()
    tasks.intraday_cycle()
    assert sent == [("forecast_intraday_series", site_series.pk, (ISSUE + timedelta(minutes=15)).isoformat())]


@pytest.mark.django_db
def test_stale_models_are_retrained_and_old_ones_pruned() -> None:
    stale, fresh = TimeSeriesFactory(), TimeSeriesFactory()
    for series in (stale, fresh):
        datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-25", tz="UTC"), days=60))
    recipe = RECIPES["gbm_load"]
    for days_ago in (20, 13, 8):
        trained_model_fit(series=stale, recipe=recipe, at=ISSUE + timedelta(days=10 - days_ago))
    trained_model_fit(series=fresh, recipe=recipe, at=ISSUE + timedelta(days=8))
    assert TrainedModel.objects.filter(series=stale).count() == KEEP_TRAINED
    now = ISSUE + timedelta(days=10)
    new = trained_models_retrain_stale(now=now)
    assert [(m.series_id, m.trained_at) for m in new] == [(stale.pk, now)]
    assert TrainedModel.objects.filter(series=stale).count() == KEEP_TRAINED
    assert TrainedModel.objects.filter(series=fresh).count() == 1
    run = forecast_day_ahead(series_id=stale.pk, issue_time=now)
    assert run.metrics["reused_model_trained_at"] == now.isoformat()
    assert trained_models_retrain_stale(now=now) == []  # nothing stale any more


@pytest.mark.django_db
def test_retraining_never_uses_a_model_from_the_future() -> None:
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=daily_load(pd.Timestamp("2022-09-25", tz="UTC"), days=60))
    trained_model_fit(series=series, recipe=RECIPES["gbm_load"], at=ISSUE + timedelta(days=10))
    assert trained_models_retrain_stale(now=ISSUE) == []  # a rewound clock: the newer model is not stale
    run = forecast_day_ahead(series_id=series.pk, issue_time=ISSUE)
    assert "reused_model_trained_at" not in run.metrics  # trained afresh at the issue time


@pytest.mark.django_db
def test_a_sites_demand_series_is_forecast_beside_its_metered_it_power() -> None:
    from apps.telemetry.choices import IT_DEMAND_SERIES

    metered = TimeSeriesFactory(site__enrolment_status="active")
    demand = TimeSeriesFactory(site=metered.site, name=IT_DEMAND_SERIES)
    TimeSeriesFactory(
        site=metered.site, name="run_as_it_arrives"
    )  # another named series: not a load to forecast
    assert sorted(load_series_due(issue_time=ISSUE)) == sorted([metered.pk, demand.pk])
