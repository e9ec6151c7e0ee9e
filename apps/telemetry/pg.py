"""PostgreSQL fast paths of the time-series store: binary ``COPY`` payloads built with numpy, and reads of a
range of points packed by the server into one binary value.

Formats: PostgreSQL documentation, "COPY — Binary Format" (file header, per tuple an int16 field count then
for each field an int32 length and the big-endian value, an int16 −1 trailer) and the binary send functions
``timestamptz_send`` (int64 µs since 2000-01-01 00:00 UTC) and ``float8send`` (IEEE 754 big-endian).
"""

from __future__ import annotations

import struct
import time
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from django.db import connection

#: Microseconds between 1970-01-01 (Unix epoch) and 2000-01-01 (PostgreSQL epoch), both UTC.
PG_EPOCH_OFFSET_US = 946_684_800 * 1_000_000
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)
#: One COPY tuple (start timestamptz, value float8).
ROW2_DTYPE = np.dtype([("n", ">i2"), ("l1", ">i4"), ("start", ">i8"), ("l2", ">i4"), ("value", ">f8")])
#: One COPY tuple (series_id int8, start timestamptz, value float8).
ROW3_DTYPE = np.dtype(
    [
        ("n", ">i2"),
        ("l0", ">i4"),
        ("series", ">i8"),
        ("l1", ">i4"),
        ("start", ">i8"),
        ("l2", ">i4"),
        ("value", ">f8"),
    ]
)
#: One point packed by :data:`PACKED_READ_SQL`: binary timestamptz and float8.
PACKED_POINT = np.dtype([("start", ">i8"), ("value", ">f8")])
PACKED_READ_SQL = (
    "SELECT string_agg(timestamptz_send(start) || float8send(value), ''::bytea ORDER BY start) "
    "FROM telemetry_datapoint WHERE series_id = %s AND start >= %s AND start < %s"
)


def copy_payload(starts_us: np.ndarray, values: np.ndarray, series_id: int | None = None) -> bytes:
    """Binary COPY payload of ``(start, value)`` rows, or ``(series_id, start, value)`` when ``series_id`` is
    given. ``starts_us``: int64 µs since the Unix epoch (UTC); ``values``: float64."""
    if series_id is None:
        rows = np.empty(len(values), dtype=ROW2_DTYPE)
        rows["n"] = 2
    else:
        rows = np.empty(len(values), dtype=ROW3_DTYPE)
        rows["n"], rows["l0"], rows["series"] = 3, 8, series_id
    rows["l1"], rows["l2"] = 8, 8
    rows["start"] = starts_us - PG_EPOCH_OFFSET_US
    rows["value"] = values
    return COPY_HEADER + rows.tobytes() + COPY_TRAILER


def copy_in(cursor: Any, statement: str, payload: bytes) -> None:
    """Send ``payload`` with ``COPY … FROM STDIN`` on the psycopg 3 cursor under Django's cursor wrapper."""
    with cursor.cursor.copy(statement) as copy:
        block = 8 << 20
        for offset in range(0, len(payload), block):
            copy.write(payload[offset : offset + block])


def fetch_bytea(cursor: Any, statement: str, params: list[Any]) -> bytes | None:
    """The single ``bytea`` value that ``statement`` returns, fetched in PostgreSQL's binary result format: the
    text format sends it as hex (twice the bytes) for psycopg to decode, which took half the time of reading a
    series-year. Django's cursors bind on the client, which cannot ask for binary results, so this runs on a
    psycopg 3 server-binding cursor of the same connection (same transaction) and logs the query as Django
    does (``connection.queries``, ``CaptureQueriesContext``)."""
    started = time.monotonic()
    with psycopg.Cursor(cursor.cursor.connection) as raw:
        row = raw.execute(statement, params, binary=True).fetchone()
    database = cursor.db
    if database.queries_logged:
        database.queries_log.append(
            {"sql": f"{statement} -- {params!r}", "time": f"{time.monotonic() - started:.3f}"}
        )
    return None if row is None or row[0] is None else bytes(row[0])


def _aware(us: int) -> datetime:
    return pd.Timestamp(int(us), unit="us", tz="UTC").to_pydatetime()


def read_packed(cursor: Any, series_id: int, start_us: int, end_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Points of a series with ``start_us ≤ start < end_us``, sorted: ``(starts_us int64, values float64)``.

    One round trip and one ``bytea`` for the whole range, decoded without a Python object per row.
    """
    payload = fetch_bytea(cursor, PACKED_READ_SQL, [series_id, _aware(start_us), _aware(end_us)])
    if not payload:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    packed = np.frombuffer(payload, dtype=PACKED_POINT)
    return packed["start"].astype(np.int64) + PG_EPOCH_OFFSET_US, packed["value"].astype(np.float64)


def read_points(series_id: int, start_us: int, end_us: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`read_packed` on a new cursor of the default connection."""
    with connection.cursor() as cursor:
        return read_packed(cursor, series_id, start_us, end_us)
