"""The upserts behind :func:`apps.telemetry.services.datapoints_ingest` (a validated batch of one series, inside
its transaction): on PostgreSQL binary ``COPY`` and set-based merges into the partitioned table, then the rollups
of the touched buckets; elsewhere ``bulk_create`` with ``update_conflicts``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.db import connection

from apps.core.errors import ConflictError

from . import pg, rollups
from .models import DataPoint, TimeSeries
from .validation import CleanBatch

#: Above this many stored points per batch row in the batch's span, merge on the server (ON CONFLICT) rather
#: than reading the span to compare in numpy.
_COMPARE_SPAN_FACTOR = 4
_LOCK_SQL = "SELECT id FROM telemetry_timeseries WHERE id = %s FOR UPDATE"
_BUFFER_DDL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS telemetry_ingest_buffer "
    "(start timestamptz NOT NULL, value double precision NOT NULL) ON COMMIT DELETE ROWS"
)
_COPY_POINTS = "COPY telemetry_datapoint (series_id, start, value) FROM STDIN (FORMAT BINARY)"
_COPY_BUFFER = "COPY telemetry_ingest_buffer (start, value) FROM STDIN (FORMAT BINARY)"
_UPDATE_FROM_BUFFER = """
UPDATE telemetry_datapoint d SET value = b.value FROM telemetry_ingest_buffer b
WHERE d.series_id = %s AND d.start = b.start
"""
# Partitioned tables cannot return the system column xmax (inserted or updated): the batch is compared with the
# stored points first, under the series lock that serialises its writers, then merged.
_COUNT_FROM_BUFFER = """
SELECT count(*) FILTER (WHERE d.start IS NULL), count(*) FILTER (WHERE d.value <> b.value)
FROM telemetry_ingest_buffer b LEFT JOIN telemetry_datapoint d ON d.series_id = %s AND d.start = b.start
"""
_UPSERT_FROM_BUFFER = """
INSERT INTO telemetry_datapoint (series_id, start, value)
SELECT %s, b.start, b.value FROM telemetry_ingest_buffer b
ON CONFLICT (series_id, start) DO UPDATE SET value = EXCLUDED.value
WHERE telemetry_datapoint.value IS DISTINCT FROM EXCLUDED.value
"""


def _fill_buffer(cursor: Any, starts_us: np.ndarray, values: np.ndarray) -> None:
    cursor.execute(_BUFFER_DDL)
    cursor.execute("TRUNCATE telemetry_ingest_buffer")
    pg.copy_in(cursor, _COPY_BUFFER, pg.copy_payload(starts_us, values))


Stored = tuple[np.ndarray, np.ndarray] | None


def upsert_postgresql(series: TimeSeries, batch: CleanBatch) -> tuple[int, int, Stored]:
    """Upsert on PostgreSQL; returns ``(created, updated, stored)`` where ``stored`` is the points that were
    stored before in the whole rollup buckets around the batch (``None`` when merged on the server). Must run
    inside a transaction.

    Writers of one series are serialised by a row lock on the series, which also proves that it exists (data
    points carry no database-level foreign key, see :class:`~apps.telemetry.models.DataPoint`). Under that
    lock the stored points of the batch's span are read (one packed value) and compared in numpy: new points
    are copied straight into the table (binary COPY), changed ones updated from a temporary table, and equal
    ones not touched. When the span holds far more stored points than the batch (a sparse batch over a long
    history), the batch is merged on the server with ``INSERT … ON CONFLICT DO UPDATE`` instead.
    """
    starts, values = batch.starts_us, batch.values
    first, last = int(starts[0]), int(starts[-1])
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [series.pk])
        if cursor.fetchone() is None:
            raise ConflictError(f"series {series.pk} no longer exists; nothing was written.")
        span_points = (last - first) // (series.resolution_s * 1_000_000) + 1
        if span_points > _COMPARE_SPAN_FACTOR * len(batch):
            _fill_buffer(cursor, starts, values)
            cursor.execute(_COUNT_FROM_BUFFER, [series.pk])
            created, updated = cursor.fetchone()
            cursor.execute(_UPSERT_FROM_BUFFER, [series.pk])
            return int(created), int(updated), None
        lower, upper = rollups.rollup_span(resolution_s=series.resolution_s, first_us=first, last_us=last)
        stored_starts, stored_values = pg.read_packed(cursor, series.pk, lower, upper)
        if len(stored_starts) == 0:
            pg.copy_in(cursor, _COPY_POINTS, pg.copy_payload(starts, values, series_id=series.pk))
            return len(batch), 0, (stored_starts, stored_values)
        position = np.searchsorted(stored_starts, starts)
        clipped = np.minimum(position, len(stored_starts) - 1)
        exists = stored_starts[clipped] == starts
        new = ~exists
        changed = exists & (stored_values[clipped] != values)
        if new.any():
            pg.copy_in(cursor, _COPY_POINTS, pg.copy_payload(starts[new], values[new], series_id=series.pk))
        if changed.any():
            _fill_buffer(cursor, starts[changed], values[changed])
            cursor.execute(_UPDATE_FROM_BUFFER, [series.pk])
    return int(new.sum()), int(changed.sum()), (stored_starts, stored_values)


def rollups_after_upsert(series: TimeSeries, batch: CleanBatch, stored: Stored) -> None:
    """Recompute the 15-minute and 1-hour rollup buckets the batch touched (same transaction): in numpy from the
    points read before the write when there are (``stored``), else set-based from the table."""
    with connection.cursor() as cursor:
        if stored is not None:
            rollups.rollups_store_merged(
                cursor,
                series_id=series.pk,
                resolution_s=series.resolution_s,
                stored=stored,
                batch=(batch.starts_us, batch.values),
            )
            return
        rollups.rollups_refresh(
            cursor,
            series_id=series.pk,
            resolution_s=series.resolution_s,
            first_us=int(batch.starts_us[0]),
            last_us=int(batch.starts_us[-1]),
        )


def upsert_portable(series_id: int, batch: CleanBatch) -> tuple[int, int]:
    """Any database (SQLite in the demo): compare with the stored values, then ``bulk_create`` with
    ``update_conflicts`` for the new and changed points."""
    if not TimeSeries.objects.select_for_update().filter(pk=series_id).exists():
        raise ConflictError(f"series {series_id} no longer exists; nothing was written.")
    starts = pd.to_datetime(batch.starts_us, unit="us", utc=True)
    existing = dict(
        DataPoint.objects.filter(
            series_id=series_id, start__gte=starts[0], start__lte=starts[-1]
        ).values_list("start", "value")
    )
    objects = []
    created = updated = 0
    for start, value in zip(starts.to_pydatetime(), batch.values.tolist(), strict=True):
        old = existing.get(start)
        if old is None:
            created += 1
        elif old == value:
            continue
        else:
            updated += 1
        objects.append(DataPoint(series_id=series_id, start=start, value=value))
    DataPoint.objects.bulk_create(
        objects,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["series", "start"],
        update_fields=["value"],
    )
    return created, updated
