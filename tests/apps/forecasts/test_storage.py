"""Forecast runs: atomic, idempotent storage and belief-time reads ("what was known at gate closure")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from apps.forecasts.models import ForecastRun, ForecastValue
from apps.forecasts.selectors import forecast_known_at, forecast_latest_run
from apps.forecasts.services import RunSpec, forecast_run_store
from tests.factories import TimeSeriesFactory

D = datetime(2022, 9, 6, tzinfo=UTC)


def quantiles(start: datetime, n: int, level: float) -> pd.DataFrame:
    index = pd.date_range(start, periods=n, freq="15min", tz="UTC")
    return pd.DataFrame({"p10": level - 10.0, "p50": level, "p90": level + 10.0}, index=index)


@pytest.mark.django_db
def test_belief_time_picks_latest_run_issued_before() -> None:
    series = TimeSeriesFactory()
    day_ahead = forecast_run_store(
        series=series, spec=RunSpec("gbm", "1", D - timedelta(hours=14)), values=quantiles(D, 96, 100.0)
    )
    forecast_run_store(
        series=series,
        spec=RunSpec("gbm", "1", D + timedelta(hours=6), kind="intraday"),
        values=quantiles(D + timedelta(hours=8), 16, 200.0),
    )
    gate_closure = D + timedelta(hours=5)  # before the intraday run was issued
    known = forecast_known_at(series=series, start=D, end=D + timedelta(days=1), belief_time=gate_closure)
    assert len(known) == 96
    assert (known["issued_at"] == day_ahead.issued_at).all() and (known["p50"] == 100.0).all()

    later = forecast_known_at(
        series=series, start=D, end=D + timedelta(days=1), belief_time=D + timedelta(hours=6)
    )
    window = later.loc[D + timedelta(hours=8) : D + timedelta(hours=11, minutes=45)]
    assert len(window) == 16 and (window["p50"] == 200.0).all()
    assert (later.drop(window.index)["p50"] == 100.0).all()

    before_any = forecast_known_at(
        series=series, start=D, end=D + timedelta(days=1), belief_time=D - timedelta(days=1)
    )
    assert before_any.empty


@pytest.mark.django_db
def test_store_is_idempotent_and_sorts_crossing_quantiles() -> None:
    series = TimeSeriesFactory()
    values = quantiles(D, 4, 50.0)
    values.iloc[0] = [60.0, 50.0, 40.0]  # crossed
    spec = RunSpec("gbm", "1", D - timedelta(hours=14))
    forecast_run_store(series=series, spec=spec, values=values)
    run = forecast_run_store(series=series, spec=spec, values=values)
    assert ForecastRun.objects.count() == 1 and ForecastValue.objects.count() == 4
    first = run.values.order_by("start").first()
    assert (first.p10, first.p50, first.p90) == (40.0, 50.0, 60.0)
    assert run.horizon_end == D + timedelta(hours=1)
    assert forecast_latest_run(series=series) == run


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["naive", "nan", "empty", "column"])
def test_bad_values_refused_and_nothing_written(bad: str) -> None:
    series = TimeSeriesFactory()
    values = quantiles(D, 4, 50.0)
    if bad == "naive":
        values.index = values.index.tz_localize(None)
    elif bad == "nan":
        values.iloc[2, 1] = np.nan
    elif bad == "empty":
        values = values.iloc[:0]
    else:
        values = values.drop(columns="p90")
    with pytest.raises(ValueError):
        forecast_run_store(series=series, spec=RunSpec("gbm", "1", D), values=values)
    assert not ForecastRun.objects.exists()
