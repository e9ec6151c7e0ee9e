"""Monthly partitions of the raw data points on PostgreSQL (issue 22): created ahead by the beat task, rows that
arrived early moved out of the DEFAULT partition, whole months dropped past retention (rollups kept), and the
migration that partitions a populated table keeps every row."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from apps.telemetry import partitions, tasks
from apps.telemetry.models import DataPoint, DataPointRollup
from apps.telemetry.selectors import datapoints_series
from apps.telemetry.services import datapoints_ingest
from tests.factories import TimeSeriesFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL only"),
]
FAR = pd.Timestamp("2091-05-17T08:00Z")  # months that no other test writes to


def _where(series_id: int) -> dict[str, int]:
    """Rows of a series per partition table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM telemetry_datapoint WHERE series_id = %s GROUP BY 1",
            [series_id],
        )
        return dict(cursor.fetchall())


def test_month_arithmetic() -> None:
    assert partitions.month_of(pd.Timestamp("2024-03-01T00:30+01:00")) == date(2024, 2, 1)  # UTC month
    assert partitions.next_month(date(2024, 12, 1)) == date(2025, 1, 1)
    assert partitions.partition_name(date(2024, 2, 1)) == "telemetry_datapoint_p202402"
    with pytest.raises(ValueError, match="time zone"):
        partitions.month_of(pd.Timestamp("2024-03-01").to_pydatetime())


def test_table_is_partitioned_with_a_default_partition() -> None:
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor)
        cursor.execute("SELECT to_regclass(%s)", [partitions.DEFAULT_PARTITION])
        assert cursor.fetchone()[0] is not None


def test_ensure_creates_the_months_ahead_once() -> None:
    created = partitions.partitions_ensure(now=FAR, months_ahead=2)
    assert created == [
        "telemetry_datapoint_p209105",
        "telemetry_datapoint_p209106",
        "telemetry_datapoint_p209107",
    ]
    assert partitions.partitions_ensure(now=FAR, months_ahead=2) == []
    series = TimeSeriesFactory(resolution="PT1H", resolution_s=3600)
    index = pd.date_range("2091-05-31T22:00Z", periods=4, freq="1h")  # two months
    datapoints_ingest(series=series, rows=pd.Series([1.0, 2.0, 3.0, 4.0], index=index))
    assert _where(series.pk) == {"telemetry_datapoint_p209105": 2, "telemetry_datapoint_p209106": 2}


def test_early_rows_move_out_of_the_default_partition() -> None:
    series = TimeSeriesFactory(resolution="PT1H", resolution_s=3600)
    index = pd.date_range("2093-02-27T00:00Z", periods=72, freq="1h")  # no partition yet: DEFAULT
    values = np.arange(72.0)
    datapoints_ingest(series=series, rows=pd.Series(values, index=index))
    assert _where(series.pk) == {partitions.DEFAULT_PARTITION: 72}
    ids_before = sorted(DataPoint.objects.filter(series=series).values_list("id", flat=True))
    created = partitions.partitions_ensure(now=pd.Timestamp("2093-02-10T00:00Z"), months_ahead=1)
    assert created == ["telemetry_datapoint_p209302", "telemetry_datapoint_p209303"]
    assert _where(series.pk) == {"telemetry_datapoint_p209302": 48, "telemetry_datapoint_p209303": 24}
    assert sorted(DataPoint.objects.filter(series=series).values_list("id", flat=True)) == ids_before
    read = datapoints_series(series=series, start=index[0], end=index[-1] + pd.Timedelta("1h"))
    assert read.to_numpy().tolist() == values.tolist()
    again = datapoints_ingest(
        series=series, rows=pd.Series(values + 1, index=index)
    )  # upserts still conflict
    assert (again.created, again.updated) == (0, 72)


def test_retention_drops_whole_old_months_and_keeps_rollups() -> None:
    partitions.partitions_ensure(now=pd.Timestamp("2095-01-05T00:00Z"), months_ahead=2)
    series = TimeSeriesFactory(resolution="PT15M", resolution_s=900)
    index = pd.date_range("2095-01-31T12:00Z", periods=96 * 2, freq="15min")  # Jan 31 noon … Feb 2 noon
    datapoints_ingest(series=series, rows=pd.Series(np.ones(len(index)), index=index))
    hourly = DataPointRollup.objects.filter(series=series, bucket_s=3600).count()
    assert hourly == 48
    with override_settings(VPP_RAW_RETENTION_DAYS=None):
        assert tasks.telemetry_raw_retention() == []  # unset: keep everything
    # 2095-02-10 minus 9 days is Feb 1: January has ended that long ago, February has not.
    dropped = partitions.raw_partitions_drop(now=pd.Timestamp("2095-02-10T00:00Z"), retention_days=9)
    assert "telemetry_datapoint_p209501" in dropped and "telemetry_datapoint_p209502" not in dropped
    assert _where(series.pk) == {"telemetry_datapoint_p209502": 96 + 48}
    assert DataPointRollup.objects.filter(series=series, bucket_s=3600).count() == hourly
    with pytest.raises(ValueError, match="retention_days"):
        partitions.raw_partitions_drop(now=pd.Timestamp("2095-02-10T00:00Z"), retention_days=-1)


def test_beat_tasks_follow_the_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from apps.core import clock

    monkeypatch.setattr(clock, "now", lambda: pd.Timestamp("2097-07-07T07:00Z").to_pydatetime())
    with override_settings(VPP_TELEMETRY_PARTITIONS_AHEAD=1):
        assert tasks.telemetry_partitions_ensure() == [
            "telemetry_datapoint_p209707",
            "telemetry_datapoint_p209708",
        ]
    with override_settings(VPP_RAW_RETENTION_DAYS=30):
        assert "telemetry_datapoint_p209707" not in tasks.telemetry_raw_retention()  # July has not ended
    with override_settings(VPP_RAW_RETENTION_DAYS=0):
        assert "telemetry_datapoint_p209706" not in tasks.telemetry_raw_retention()  # never created


@pytest.mark.django_db(transaction=True)
def test_migration_partitions_a_populated_table() -> None:
    """Back to the plain table (0002), rows written there, forward again: every row, id and value is kept, the
    rollups are computed from them, and the ORM and the sequence still work."""
    series = TimeSeriesFactory(resolution="PT5M", resolution_s=300)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("telemetry", "0002_datapoint_series_without_db_constraint")])
        with connection.cursor() as cursor:
            assert not partitions.is_partitioned(cursor)
            cursor.execute(
                "INSERT INTO telemetry_datapoint (series_id, start, value) SELECT %s, t, extract(epoch FROM t) "
                "FROM generate_series('2023-12-31 20:00+00'::timestamptz, '2024-01-01 03:55+00', '5 minutes') t",
                [series.pk],
            )
            cursor.execute(
                "SELECT id, start, value FROM telemetry_datapoint WHERE series_id = %s ORDER BY id",
                [series.pk],
            )
            before = cursor.fetchall()
        assert len(before) == 96
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor)
        cursor.execute(
            "SELECT id, start, value FROM telemetry_datapoint WHERE series_id = %s ORDER BY id", [series.pk]
        )
        assert cursor.fetchall() == before
    assert set(_where(series.pk)) == {"telemetry_datapoint_p202312", "telemetry_datapoint_p202401"}
    hourly = DataPointRollup.objects.filter(series=series, bucket_s=3600).order_by("start")
    assert hourly.count() == 8 and all(r.count == 12 for r in hourly)
    first = pd.Timestamp("2023-12-31T20:00Z").timestamp()
    assert hourly[0].mean_value == pytest.approx(first + 27.5 * 60)  # mean of the epoch seconds in the hour
    new = DataPoint.objects.create(series=series, start=pd.Timestamp("2024-01-01T04:00Z"), value=1.0)
    assert new.pk > max(row[0] for row in before)  # the sequence continues after the copied ids
