"""15-minute and 1-hour rollups (issue 22): kept on ingestion on PostgreSQL, computed on read elsewhere; the
same figures as grouping the raw points, also after values change and for ranges that cut a bucket."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from apps.telemetry.models import DataPointRollup
from apps.telemetry.rollups import rollup_applies
from apps.telemetry.selectors import datapoints_series, timeseries_rollup
from apps.telemetry.services import datapoints_ingest
from tests.factories import TimeSeriesFactory

pytestmark = pytest.mark.django_db
START = pd.Timestamp("2024-03-31T21:07:00Z")  # not on a bucket edge; crosses a month (and partition) boundary


def _grouped(series, start, end, bucket_s: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    points = datapoints_series(series=series, start=start, end=end)
    return points.groupby(points.index.floor(f"{bucket_s}s")).agg(["mean", "min", "max", "count"])


def _assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.index) == list(expected.index) and len(got) > 0
    for column in ("mean", "min", "max"):
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy(), rel=1e-12)
    assert list(got["count"]) == list(expected["count"])
    assert str(got.index.tz) == "UTC" and got.index.name == "start"


@pytest.fixture
def minute_series():  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(resolution="PT1M", resolution_s=60)
    index = pd.date_range(START, periods=6 * 60, freq="1min")
    values = np.random.default_rng(7).uniform(100, 900, len(index)).round(3)
    keep = np.ones(len(index), dtype=bool)
    keep[40:75] = False  # a gap across a bucket edge: partial and missing buckets
    datapoints_ingest(series=series, rows=pd.Series(values, index=index)[keep])
    return series, index


def test_which_rollups_are_kept() -> None:
    assert rollup_applies(resolution_s=60, bucket_s=900) and rollup_applies(resolution_s=900, bucket_s=3600)
    assert not rollup_applies(resolution_s=900, bucket_s=900)  # the series itself
    assert not rollup_applies(resolution_s=420, bucket_s=900)  # 7 min does not divide 15 min
    assert not rollup_applies(resolution_s=60, bucket_s=1800)  # not a kept width


@pytest.mark.parametrize("bucket_s", [900, 3600, 1800])
def test_rollup_equals_grouped_raw_points(minute_series, bucket_s: int) -> None:  # type: ignore[no-untyped-def]
    series, index = minute_series
    start, end = (
        index[0] + pd.Timedelta(minutes=3),
        index[-1] - pd.Timedelta(minutes=20),
    )  # edges inside buckets
    got = timeseries_rollup(series=series, start=start, end=end, resolution_s=bucket_s)
    _assert_same(got, _grouped(series, start, end, bucket_s))
    assert got["count"].iloc[0] < bucket_s // 60  # the first bucket counts only the points inside the range


def test_ingestion_keeps_the_stored_rollups(minute_series) -> None:  # type: ignore[no-untyped-def]
    series, index = minute_series
    if connection.vendor != "postgresql":
        assert not DataPointRollup.objects.exists()  # SQLite computes them on read
        return
    for bucket_s in (900, 3600):
        stored = pd.DataFrame.from_records(
            DataPointRollup.objects.filter(series=series, bucket_s=bucket_s)
            .order_by("start")
            .values("start", "mean_value", "min_value", "max_value", "count"),
            index="start",
        ).rename(columns={"mean_value": "mean", "min_value": "min", "max_value": "max"})
        _assert_same(stored, _grouped(series, index[0], index[-1] + pd.Timedelta(minutes=1), bucket_s))


def test_changed_values_are_not_counted_twice(minute_series) -> None:  # type: ignore[no-untyped-def]
    series, index = minute_series
    changed = pd.Series(5_000.0, index=index[100:130])  # spans two quarter-hours, inside one hour
    result = datapoints_ingest(series=series, rows=changed)
    assert result.updated == 30
    start, end = index[0], index[-1] + pd.Timedelta(minutes=1)
    for bucket_s in (900, 3600):
        got = timeseries_rollup(series=series, start=start, end=end, resolution_s=bucket_s)
        expected = _grouped(series, start, end, bucket_s)
        _assert_same(got, expected)
        assert got["max"].max() == 5_000.0
    quarter = timeseries_rollup(series=series, start=index[113], end=index[128], resolution_s=900)
    assert list(quarter["count"]) == [15] and quarter["mean"].iloc[0] == 5_000.0  # index[113] is 23:00:00


def test_sparse_batch_over_a_long_history_refreshes_its_buckets(minute_series) -> None:  # type: ignore[no-untyped-def]
    series, index = minute_series
    sparse = pd.Series([1.0, 2.0], index=[index[0], index[-1] + pd.Timedelta(days=30)])
    result = datapoints_ingest(series=series, rows=sparse)
    assert (result.created, result.updated) == (1, 1)
    start, end = index[0], index[-1] + pd.Timedelta(days=31)
    _assert_same(
        timeseries_rollup(series=series, start=start, end=end, resolution_s=3600),
        _grouped(series, start, end, 3600),
    )


def test_coarse_series_is_grouped_from_raw_points() -> None:
    series = TimeSeriesFactory()  # 15 minutes: its 15-minute "rollup" is the series itself
    index = pd.date_range("2024-01-01T00:00Z", periods=96, freq="15min")
    datapoints_ingest(series=series, rows=pd.Series(np.arange(96.0), index=index))
    got = timeseries_rollup(series=series, start=index[0], end=index[-1], resolution_s=900)
    assert len(got) == 95 and list(got["count"].unique()) == [1] and got["mean"].iloc[-1] == 94.0
    assert not DataPointRollup.objects.filter(series=series, bucket_s=900).exists()
    hourly = timeseries_rollup(
        series=series, start=index[0], end=index[-1] + pd.Timedelta("15min"), resolution_s=3600
    )
    assert list(hourly["mean"][:2]) == [1.5, 5.5] and list(hourly["count"].unique()) == [4]


def test_bad_resolution_is_refused(minute_series) -> None:  # type: ignore[no-untyped-def]
    series, index = minute_series
    with pytest.raises(ValueError, match="resolution_s"):
        timeseries_rollup(series=series, start=index[0], end=index[-1], resolution_s=0)
    with pytest.raises(ValueError, match="time zone"):
        timeseries_rollup(series=series, start=index[0].tz_localize(None), end=index[-1], resolution_s=900)


def test_batches_that_split_buckets_keep_them_whole() -> None:
    """Consecutive batches that end and start inside a bucket: each refresh counts the points stored before."""
    series = TimeSeriesFactory(resolution="PT1M", resolution_s=60)
    index = pd.date_range("2024-05-01T00:00Z", periods=300, freq="1min")
    values = pd.Series(np.random.default_rng(9).uniform(0, 50, len(index)), index=index)
    for lo, hi in ((0, 37), (37, 38), (38, 170), (170, 300)):  # 00:37 and 02:50 are inside quarter-hours
        datapoints_ingest(series=series, rows=values.iloc[lo:hi])
    datapoints_ingest(series=series, rows=values.iloc[100:110] * 2)  # a revision inside one quarter-hour
    end = index[-1] + pd.Timedelta(minutes=1)
    for bucket_s in (900, 3600):
        expected = _grouped(series, index[0], end, bucket_s)
        _assert_same(
            timeseries_rollup(series=series, start=index[0], end=end, resolution_s=bucket_s), expected
        )
        if connection.vendor == "postgresql":
            stored = DataPointRollup.objects.filter(series=series, bucket_s=bucket_s).order_by("start")
            assert [r.count for r in stored] == list(expected["count"])
            assert [r.mean_value for r in stored] == pytest.approx(list(expected["mean"]), rel=1e-12)
