"""``series_expected`` on a finer grid than the stored series: values hold over their interval and come back as a
writable array (planning fills gaps in place)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from apps.forecasts.selectors import series_expected
from apps.telemetry.services import datapoints_ingest
from tests.factories import TimeSeriesFactory

START = datetime(2022, 9, 8, 20, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_coarse_actuals_hold_over_a_five_minute_grid_and_are_writable() -> None:
    series = TimeSeriesFactory()  # 15-minute site power
    index = pd.date_range(START - timedelta(hours=1), periods=8, freq="15min")
    datapoints_ingest(series=series, rows=pd.Series(np.arange(8, dtype=float) * 10, index=index))
    expected = series_expected(
        series=series, start=START, steps=6, resolution_s=300, belief_time=START, use_actuals=True
    )
    assert expected.values.tolist() == [40.0, 40.0, 40.0, 50.0, 50.0, 50.0]
    expected.values[0] = -1.0  # a read-only view would raise here
    assert expected.values[0] == -1.0
