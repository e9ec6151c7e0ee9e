"""Never worse than a baseline: the stored model selection of a series, its progress, and the day-ahead forecast
that uses its winner (the baseline when the model lost to it)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from apps.forecasts import tasks
from apps.forecasts.choices import RunStatus
from apps.forecasts.models import ModelSelection
from apps.forecasts.selection import model_selection_run, recipe_selected
from apps.forecasts.selectors import model_selection_current, model_selections_due
from apps.forecasts.services import RECIPES, forecast_day_ahead
from apps.telemetry.services import datapoints_ingest
from tests.factories import TimeSeriesFactory

AT = datetime(2022, 9, 5, 17, 0, tzinfo=UTC)  # 10:00 PDT


def weekly(end: pd.Timestamp, days: int = 36) -> pd.Series:
    """A load that repeats exactly every week (a different shape each weekday): seasonal naive is perfect."""
    index = pd.date_range(end=end, periods=days * 96, freq="15min", inclusive="left")
    local = index.tz_convert("America/Los_Angeles")
    hours = local.hour + local.minute / 60
    return pd.Series(
        5000 + 300 * local.day_of_week + 800 * np.sin(2 * np.pi * (hours - 9 + local.day_of_week) / 24),
        index=index,
    )


@pytest.mark.django_db
def test_a_model_that_loses_to_seasonal_naive_is_switched_to_it_and_forecasts_with_it() -> None:
    series = TimeSeriesFactory()
    load = weekly(pd.Timestamp(AT) + pd.Timedelta(days=2))
    datapoints_ingest(series=series, rows=load)
    chosen = model_selection_run(series_id=series.pk, at=AT)
    assert chosen.status == RunStatus.SUCCEEDED and chosen.progress_pct == 100.0
    assert chosen.winner == "seasonal_naive" and chosen.switched
    assert chosen.scores["mae"]["seasonal_naive"] == pytest.approx(0.0, abs=1e-6)
    assert chosen.scores["mae"]["gbm_load"] > 0 and chosen.scores["mae"]["ensemble_load"] > 0
    assert "switched to the baseline seasonal_naive" in chosen.reason
    assert chosen.train_days is not None and chosen.train_days >= 14
    assert model_selection_current(series=series, at=AT) == chosen
    run = forecast_day_ahead(series_id=series.pk, issue_time=AT)
    assert run.model_name == "seasonal_naive" and "switched" in run.metrics["selection"]
    values = pd.Series({v.start: v.p50 for v in run.values.all()})
    expected = load.reindex(pd.DatetimeIndex(values.index) - pd.Timedelta(days=7)).to_numpy()
    np.testing.assert_allclose(values.to_numpy(), expected)
    assert model_selection_run(series_id=series.pk, at=AT).pk == chosen.pk  # idempotent


@pytest.mark.django_db
def test_without_a_selection_the_gbm_forecasts_and_too_little_history_fails_the_selection() -> None:
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=weekly(pd.Timestamp(AT), days=4))
    assert recipe_selected(series=series, at=AT, default=RECIPES["gbm_load"]).model_name == "gbm_load"
    failed = model_selection_run(series_id=series.pk, at=AT)
    assert failed.status == RunStatus.FAILED and "not enough history" in failed.error
    assert model_selection_current(series=series, at=AT) is None


@pytest.mark.django_db
def test_the_cycle_sends_one_task_per_series_forecast_without_a_current_selection(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from apps.forecasts.models import ForecastRun

    due, fresh = TimeSeriesFactory(), TimeSeriesFactory()
    for s in (due, fresh):
        ForecastRun.objects.create(
            series=s,
            model_name="gbm_load",
            model_version="1",
            issued_at=AT,
            horizon_start=AT,
            horizon_end=AT + pd.Timedelta(days=1),
            resolution_s=900,
            status=RunStatus.SUCCEEDED,
        )
    ModelSelection.objects.create(series=fresh, selected_at=AT, status=RunStatus.SUCCEEDED, winner="gbm_load")
    later = AT + pd.Timedelta(days=1)
    assert model_selections_due(now=later) == [due.pk]
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        tasks, "fan_out", lambda task, ids, at: sent.extend((i, task.name) for i in ids) or len(ids)
    )
    monkeypatch.setattr(tasks.clock, "now", lambda: later)
    assert tasks.model_selection_cycle() == 1
    assert sent == [(due.pk, "apps.forecasts.tasks.select_model_series")]
