"""Rollups of the raw data points on PostgreSQL: 15-minute and 1-hour buckets (mean, min, max, count per series
and bucket) in ``telemetry_datapointrollup`` (:class:`~apps.telemetry.models.DataPointRollup`), issue 22.

Written in the ingestion transaction (:func:`rollups_refresh`): every bucket a batch touches is recomputed,
set-based, from the stored raw points (so a changed value is never counted twice), the 1-hour buckets from the
15-minute ones when the series has both (a quarter of the rows to read). Read packed into one binary value, as
the raw points (:mod:`apps.telemetry.pg`). Buckets align to the Unix epoch (``date_bin`` origin 1970-01-01 UTC),
like :func:`apps.telemetry.selectors.datapoints_bucketed`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .pg import PG_EPOCH_OFFSET_US

#: Bucket widths kept as rollups (s): 15 minutes and 1 hour.
ROLLUP_BUCKETS_S = (900, 3600)
BUCKET_ORIGIN = "1970-01-01 00:00:00+00"
US_PER_S = 1_000_000
COLUMNS = ["mean", "min", "max", "count"]

_UPSERT_TAIL = """
GROUP BY 3
ON CONFLICT (series_id, bucket_s, start) DO UPDATE SET mean_value = EXCLUDED.mean_value,
    min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value, count = EXCLUDED.count
"""
_FROM_RAW = (
    "INSERT INTO telemetry_datapointrollup (series_id, bucket_s, start, mean_value, min_value, max_value, count) "
    "SELECT %s, %s, date_bin(make_interval(secs => %s), start, %s::timestamptz), avg(value), min(value), "
    "max(value), count(*) FROM telemetry_datapoint WHERE series_id = %s AND start >= %s AND start < %s"
    + _UPSERT_TAIL
)
_FROM_ROLLUP = (
    "INSERT INTO telemetry_datapointrollup (series_id, bucket_s, start, mean_value, min_value, max_value, count) "
    "SELECT %s, %s, date_bin(make_interval(secs => %s), start, %s::timestamptz), "
    "sum(mean_value * count) / sum(count), min(min_value), max(max_value), sum(count) "
    "FROM telemetry_datapointrollup WHERE series_id = %s AND bucket_s = %s AND start >= %s AND start < %s"
    + _UPSERT_TAIL
)
_BACKFILL = (
    "INSERT INTO telemetry_datapointrollup (series_id, bucket_s, start, mean_value, min_value, max_value, count) "
    "SELECT d.series_id, %s, date_bin(make_interval(secs => %s), d.start, %s::timestamptz), avg(d.value), "
    "min(d.value), max(d.value), count(*) FROM telemetry_datapoint d "
    "JOIN telemetry_timeseries s ON s.id = d.series_id WHERE s.resolution_s < %s AND %s %% s.resolution_s = 0 "
    "GROUP BY 1, 3 ON CONFLICT (series_id, bucket_s, start) DO NOTHING"
)
_PACKED_ROLLUP_READ = (
    "SELECT string_agg(timestamptz_send(start) || float8send(mean_value) || float8send(min_value) "
    "|| float8send(max_value) || int8send(count::bigint), ''::bytea ORDER BY start) "
    "FROM telemetry_datapointrollup WHERE series_id = %s AND bucket_s = %s AND start >= %s AND start < %s"
)
_PACKED_RAW_BUCKETED_READ = (
    "SELECT string_agg(timestamptz_send(bucket) || float8send(mean) || float8send(lo) || float8send(hi) "
    "|| int8send(n), ''::bytea ORDER BY bucket) FROM ("
    "SELECT date_bin(make_interval(secs => %s), start, %s::timestamptz) AS bucket, avg(value) AS mean, "
    "min(value) AS lo, max(value) AS hi, count(*) AS n "
    "FROM telemetry_datapoint WHERE series_id = %s AND start >= %s AND start < %s GROUP BY 1) b"
)
_PACKED_BUCKET = np.dtype(
    [("start", ">i8"), ("mean", ">f8"), ("min", ">f8"), ("max", ">f8"), ("count", ">i8")]
)


def rollup_applies(*, resolution_s: int, bucket_s: int) -> bool:
    """Whether a rollup of ``bucket_s`` seconds is kept for a series of ``resolution_s``: a kept width, coarser
    than the series and a whole multiple of it (a 15-minute rollup of a 15-minute series would be the series)."""
    return bucket_s in ROLLUP_BUCKETS_S and resolution_s < bucket_s and bucket_s % resolution_s == 0


def _stamp(us: int) -> Any:
    return pd.Timestamp(int(us), unit="us", tz="UTC").to_pydatetime()


def rollups_refresh(cursor: Any, *, series_id: int, resolution_s: int, first_us: int, last_us: int) -> int:
    """Recompute every rollup bucket of ``series_id`` that the points ``first_us ≤ start ≤ last_us`` (µs since
    the Unix epoch, UTC) fall into, from the stored points; returns the number of bucket rows written. Run in
    the ingestion transaction, after the points were written."""
    written = 0
    source_s = 0  # the finest rollup refreshed so far, a source for the coarser ones
    for bucket_s in ROLLUP_BUCKETS_S:
        if not rollup_applies(resolution_s=resolution_s, bucket_s=bucket_s):
            continue
        step = bucket_s * US_PER_S
        lower = (first_us // step) * step
        upper = (last_us // step + 1) * step
        if source_s and bucket_s % source_s == 0:
            params = [series_id, bucket_s, bucket_s, BUCKET_ORIGIN, series_id, source_s]
            cursor.execute(_FROM_ROLLUP, [*params, _stamp(lower), _stamp(upper)])
        else:
            params = [series_id, bucket_s, bucket_s, BUCKET_ORIGIN, series_id]
            cursor.execute(_FROM_RAW, [*params, _stamp(lower), _stamp(upper)])
        written += max(cursor.rowcount, 0)
        source_s = bucket_s
    return written


def rollups_backfill(cursor: Any) -> None:
    """Compute every rollup from the stored raw points (the migration that adds rollups to a populated
    database); buckets already present are kept."""
    for bucket_s in ROLLUP_BUCKETS_S:
        cursor.execute(_BACKFILL, [bucket_s, bucket_s, BUCKET_ORIGIN, bucket_s, bucket_s])


def _frame(payload: bytes | None) -> pd.DataFrame:
    packed = np.frombuffer(payload or b"", dtype=_PACKED_BUCKET)
    starts = (packed["start"].astype(np.int64) + PG_EPOCH_OFFSET_US).astype("datetime64[us]")
    index = pd.DatetimeIndex(starts, name="start").tz_localize("UTC")
    return pd.DataFrame(
        {
            "mean": packed["mean"].astype(np.float64),
            "min": packed["min"].astype(np.float64),
            "max": packed["max"].astype(np.float64),
            "count": packed["count"].astype(np.int64),
        },
        index=index,
    )


def read_rollup(cursor: Any, *, series_id: int, bucket_s: int, start_us: int, end_us: int) -> pd.DataFrame:
    """Stored rollup buckets of ``bucket_s`` with ``start_us ≤ bucket start < end_us``: a DataFrame indexed by
    bucket start (UTC, sorted) with float64 ``mean``, ``min``, ``max`` and int64 ``count``; one round trip."""
    cursor.execute(_PACKED_ROLLUP_READ, [series_id, bucket_s, _stamp(start_us), _stamp(end_us)])
    return _frame(cursor.fetchone()[0])


def read_raw_bucketed(
    cursor: Any, *, series_id: int, bucket_s: int, start_us: int, end_us: int
) -> pd.DataFrame:
    """The raw points with ``start_us ≤ start < end_us`` aggregated by the database into buckets of
    ``bucket_s`` (``date_bin … GROUP BY``); same frame as :func:`read_rollup`."""
    params = [bucket_s, BUCKET_ORIGIN, series_id, _stamp(start_us), _stamp(end_us)]
    cursor.execute(_PACKED_RAW_BUCKETED_READ, params)
    return _frame(cursor.fetchone()[0])
