"""Monthly partitions of the raw data points on PostgreSQL (issue 22), managed by our own small service.

``telemetry_datapoint`` is a declaratively partitioned table (PostgreSQL documentation, "Table Partitioning"),
``PARTITION BY RANGE (start)``, one partition per calendar month in UTC named ``telemetry_datapoint_pYYYYMM``,
plus a DEFAULT partition ``telemetry_datapoint_default`` so that an insert outside every monthly range never
fails. The primary key is ``(series_id, start)`` (a partitioned table's unique keys must include the partition
key): it is the ``ON CONFLICT`` target of the upserts and serves every per-series time-range read. ``id`` keeps
its sequence default so that the ORM still addresses rows by ``id``; it is not enforced unique by the database.

No BRIN index on ``start``: measured with 100 million points (``benchmarks/telemetry/partitioned.py``), a
site-year read from the raw points took 4.1 s with the btree and 23 s with BRIN alone, and BRIN beside the
btree cost 17 % of ingestion (146 000 → 121 000 rows/s) for no read that needs it (retention drops partitions).

Why not pg_partman: it needs ``CREATE EXTENSION`` (a superuser, and the Debian package on every database host,
also in CI), and we use two of its operations — create the next months, drop months past retention — which are
three SQL statements each here, tested in ``tests/apps/telemetry/test_partitions.py``.

SQLite (the demo) keeps the single plain table: every function here does nothing on other databases.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

PARENT = "telemetry_datapoint"
DEFAULT_PARTITION = f"{PARENT}_default"
SEQUENCE = f"{PARENT}_id_seq"
PRIMARY_KEY = "datapoint_unique_series_start"
#: The BRIN index the benchmark compares with (not created by the migration, see the module docstring).
BRIN_INDEX = "telemetry_datapoint_start_brin"
_MONTHLY = re.compile(rf"^{PARENT}_p(\d{{4}})(\d{{2}})$")

_CREATE_PARENT = f"""
CREATE TABLE {PARENT} (
    id bigint NOT NULL DEFAULT nextval('{SEQUENCE}'),
    series_id bigint NOT NULL,
    start timestamptz NOT NULL,
    value double precision NOT NULL,
    CONSTRAINT {PRIMARY_KEY} PRIMARY KEY (series_id, start)
) PARTITION BY RANGE (start)
"""
_LIST_PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = %s::regclass ORDER BY c.relname
"""


def month_of(moment: datetime) -> date:
    """First day of the UTC calendar month of an aware datetime.

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone; pass timezone-aware datetimes (UTC inside).")
    utc = moment - moment.utcoffset()  # type: ignore[operator]
    return date(utc.year, utc.month, 1)


def next_month(month: date) -> date:
    """First day of the month after ``month`` (a first day of month)."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    """``telemetry_datapoint_pYYYYMM`` of the month starting on ``month``."""
    return f"{PARENT}_p{month.year:04d}{month.month:02d}"


def is_partitioned(cursor: Any) -> bool:
    """Whether ``telemetry_datapoint`` is a partitioned table (PostgreSQL after migration 0004)."""
    if connection.vendor != "postgresql":
        return False
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
    row = cursor.fetchone()
    return row is not None and row[0] == "p"


def monthly_partitions(cursor: Any) -> dict[date, str]:
    """The monthly partitions that exist: first day of month → table name (the DEFAULT one left out)."""
    cursor.execute(_LIST_PARTITIONS, [PARENT])
    months = {}
    for (name,) in cursor.fetchall():
        match = _MONTHLY.match(name)
        if match:
            months[date(int(match[1]), int(match[2]), 1)] = name
    return months


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def partition_create(cursor: Any, month: date) -> str:
    """Create the partition of ``month`` (first day of a month) and move into it the rows of that month that
    were waiting in the DEFAULT partition; returns its name. Run inside a transaction.

    The new table is filled and then attached (``ALTER TABLE … ATTACH PARTITION``), so that rows already in the
    DEFAULT partition for that month never make the creation fail; the attached partition inherits the parent's
    primary key.
    """
    name, lower, upper = partition_name(month), _bound(month), _bound(next_month(month))
    cursor.execute(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE start >= %s AND start < %s "
        f"RETURNING id, series_id, start, value) INSERT INTO {name} (id, series_id, start, value) "
        "SELECT id, series_id, start, value FROM moved",
        [lower, upper],
    )
    cursor.execute(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (start >= %s AND start < %s)", [lower, upper]
    )
    cursor.execute(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [lower, upper]
    )
    cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")  # it only spared the validation scan
    return name


def partitions_ensure(*, now: datetime, months_ahead: int = 3) -> list[str]:
    """Create the missing monthly partitions from the month of ``now`` to ``months_ahead`` months after it (UTC),
    and the DEFAULT partition if missing; returns the names created (``[]`` off PostgreSQL or unpartitioned).

    Idempotent, and safe against a concurrent run: the parent is locked (``SHARE ROW EXCLUSIVE``, which lets
    reads through and waits for writes in flight) while partitions are created.
    """
    if connection.vendor != "postgresql":
        return []
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_partitioned(cursor):
            return []
        cursor.execute(f"LOCK TABLE {PARENT} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT to_regclass(%s)", [DEFAULT_PARTITION])
        if cursor.fetchone()[0] is None:
            cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {PARENT} DEFAULT")
            created.append(DEFAULT_PARTITION)
        existing = monthly_partitions(cursor)
        month = month_of(now)
        for _ in range(months_ahead + 1):
            if month not in existing:
                created.append(partition_create(cursor, month))
            month = next_month(month)
    return created


def raw_partitions_drop(*, now: datetime, retention_days: int) -> list[str]:
    """Drop the monthly partitions whose whole month ended more than ``retention_days`` before ``now``; returns
    their names (``[]`` off PostgreSQL or unpartitioned). Rollups are kept. Rows of those months that sit in the
    DEFAULT partition are left there (it only holds what arrived before its month's partition existed).

    Raises:
        ValueError: ``retention_days`` is negative.
    """
    if retention_days < 0:
        raise ValueError("retention_days must be zero or more.")
    if connection.vendor != "postgresql":
        return []
    cutoff = now - timedelta(days=retention_days)
    dropped = []
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_partitioned(cursor):
            return []
        for month, name in sorted(monthly_partitions(cursor).items()):
            upper = datetime.fromisoformat(_bound(next_month(month)).replace(" ", "T"))
            if upper <= cutoff:
                cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
                dropped.append(name)
    return dropped


# --- the migration -----------------------------------------------------------------------------------------


def _months_with_rows(cursor: Any, table: str) -> set[date]:
    cursor.execute(f"SELECT DISTINCT date_trunc('month', start AT TIME ZONE 'UTC')::date FROM {table}")
    return {row[0] for row in cursor.fetchall()}


def convert_to_partitioned(cursor: Any, *, now: datetime) -> None:
    """Rebuild the plain ``telemetry_datapoint`` as a partitioned table, keeping every row and ``id``.

    One partition per month that holds rows and for the month of ``now`` and the three after, the DEFAULT one; the rows are copied set-based and the old table dropped. Run inside the migration's
    transaction (nothing is left half-done if it fails).
    """
    cursor.execute(f"ALTER TABLE {PARENT} RENAME TO {PARENT}_plain")
    cursor.execute(f"ALTER TABLE {PARENT}_plain RENAME CONSTRAINT {PRIMARY_KEY} TO {PRIMARY_KEY}_plain")
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {PARENT}_plain")
    last_id = cursor.fetchone()[0]
    cursor.execute(f"CREATE SEQUENCE {SEQUENCE}_p AS bigint")
    cursor.execute(f"SELECT setval('{SEQUENCE}_p', %s, %s)", [max(last_id, 1), last_id > 0])
    cursor.execute(_CREATE_PARENT.replace(f"'{SEQUENCE}'", f"'{SEQUENCE}_p'"))
    cursor.execute(f"ALTER SEQUENCE {SEQUENCE}_p OWNED BY {PARENT}.id")
    cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {PARENT} DEFAULT")
    months = _months_with_rows(cursor, f"{PARENT}_plain")
    month = month_of(now)
    for _ in range(4):
        months.add(month)
        month = next_month(month)
    for month in sorted(months):
        cursor.execute(
            f"CREATE TABLE {partition_name(month)} PARTITION OF {PARENT} FOR VALUES FROM (%s) TO (%s)",
            [_bound(month), _bound(next_month(month))],
        )
    cursor.execute(
        f"INSERT INTO {PARENT} (id, series_id, start, value) "
        f"SELECT id, series_id, start, value FROM {PARENT}_plain"
    )
    cursor.execute(f"DROP TABLE {PARENT}_plain")
    cursor.execute(f"ALTER SEQUENCE {SEQUENCE}_p RENAME TO {SEQUENCE}")


def convert_to_plain(cursor: Any) -> None:
    """Undo :func:`convert_to_partitioned`: one plain table with an identity ``id`` primary key and the unique
    ``(series_id, start)`` constraint, every row kept (the reverse migration)."""
    cursor.execute(f"ALTER TABLE {PARENT} RENAME TO {PARENT}_parted")
    cursor.execute(f"ALTER TABLE {PARENT}_parted RENAME CONSTRAINT {PRIMARY_KEY} TO {PRIMARY_KEY}_parted")
    cursor.execute(
        f"CREATE TABLE {PARENT} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
        "series_id bigint NOT NULL, start timestamptz NOT NULL, value double precision NOT NULL, "
        f"CONSTRAINT {PRIMARY_KEY} UNIQUE (series_id, start))"
    )
    cursor.execute(
        f"INSERT INTO {PARENT} (id, series_id, start, value) "
        f"SELECT id, series_id, start, value FROM {PARENT}_parted"
    )
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {PARENT}")
    last_id = cursor.fetchone()[0]
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [PARENT, max(last_id, 1), last_id > 0]
    )
    cursor.execute(f"DROP TABLE {PARENT}_parted CASCADE")
