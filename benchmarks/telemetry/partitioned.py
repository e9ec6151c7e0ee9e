"""Partitioned telemetry at fleet scale (issue 22): ingestion into the partitioned table through the service, and
reading one site-year at 15 minutes with ``--rows`` raw points stored.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/telemetry/partitioned.py --small
    DATABASE_URL=… .venv/bin/python benchmarks/telemetry/partitioned.py --rows 100000000      # full size

Creates a scratch database ``vpp_bench_partitioned_<hex>`` on the server of ``DATABASE_URL`` (its database name is
only used to connect), migrates it (so ``telemetry_datapoint`` is partitioned by month), measures, and drops it
at the end, also after a failure. Steps:

1. ingestion through :func:`~apps.telemetry.services.datapoints_ingest`: ``--ingest-rows`` new 1-minute readings
   in batches of ``--batch`` as shipped (primary key (series_id, start), rollups refreshed in the transaction);
   the same without the rollup refresh; the same with a BRIN index on ``start`` beside the primary key;
2. ``--rows`` raw points generated set-based (``generate_series``) as 1-minute series of 4 quantities per site
   over 2025, one site-year (4 × 525 600 points) per site, and their rollups computed with the same SQL the
   migration uses; then ``ANALYZE``;
3. reads of one site-year at 15 minutes (4 series × 35 040 buckets) through
   :func:`~apps.telemetry.selectors.timeseries_rollup` (stored rollups), and for comparison from the raw points
   with ``date_bin`` — with the ``(series_id, start)`` btree, and with only a BRIN index on ``start`` (created
   and the primary key dropped inside a transaction that is rolled back).

Prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
YEAR = ("2025-01-01T00:00Z", "2026-01-01T00:00Z")
QUANTITIES = ("site_power_kw", "it_power_kw", "pv_power_kw", "battery_power_kw")
POINTS_PER_SITE_YEAR = 4 * 525_600


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _rate(label: str, rows: int, seconds: float, note: str = "") -> None:
    print(
        f"{label:<62} {rows:>11,} rows {seconds:8.2f} s {rows / seconds:>11,.0f} rows/s  {note}", flush=True
    )


def _latency(label: str, timings: list[float], note: str = "") -> None:
    ms = sorted(t * 1000 for t in timings)
    print(
        f"{label:<62} median {statistics.median(ms):7.1f} ms  min {ms[0]:6.1f}  max {ms[-1]:6.1f} "
        f"({len(ms)} runs) {note}",
        flush=True,
    )


def _site(tag: str, number: int) -> Any:
    from apps.accounts.choices import OrganisationKind
    from apps.accounts.models import Organisation
    from apps.assets.models import Site
    from apps.core.models import MarketZone

    org, _ = Organisation.objects.get_or_create(
        slug=tag, defaults={"name": tag, "kind": OrganisationKind.SITE_OWNER}
    )
    return Site.objects.create(
        owner=org,
        name=f"{tag}-{number}",
        latitude=37.4,
        longitude=-121.9,
        timezone="UTC",
        market_zone=MarketZone.objects.get(code="CAISO_NP15"),
        grid_import_limit_kw=50_000,
        it_capacity_kw=40_000,
    )


def _series(site: Any, name: str = "", quantity: str = "it_power_kw") -> Any:
    from apps.telemetry.services import timeseries_create

    return timeseries_create(principal=None, owner=site, quantity=quantity, resolution="PT1M", name=name)


def ingestion(tag: str, rows: int, batch: int) -> None:
    """Step 1: rows/s through the service, as shipped, without the rollups, with a BRIN index too."""
    import numpy as np
    import pandas as pd
    from django.db import connection

    from apps.telemetry import partitions, upsert
    from apps.telemetry.services import datapoints_ingest

    partitions.partitions_ensure(now=pd.Timestamp("2024-01-01T00:00Z"), months_ahead=11)
    site = _site(tag, 0)
    index = pd.date_range("2024-01-01T00:00Z", periods=rows, freq="1min")
    values = np.random.default_rng(1).uniform(5_000, 30_000, rows).round(3)
    parts = [pd.Series(values[i : i + batch], index=index[i : i + batch]) for i in range(0, rows, batch)]

    def run(name: str) -> int:
        series = _series(site, name)
        return sum(datapoints_ingest(series=series, rows=part).created for part in parts)

    seconds, created = _timed(lambda: run("shipped"))
    _rate("ingest: partitioned, PK, rollups refreshed (shipped)", rows, seconds, f"created={created}")
    real = upsert.rollups_after_upsert
    upsert.rollups_after_upsert = lambda series, clean, stored: None  # type: ignore[assignment]
    try:
        seconds, created = _timed(lambda: run("no-rollups"))
    finally:
        upsert.rollups_after_upsert = real  # type: ignore[assignment]
    _rate("ingest: partitioned, PK, no rollups", rows, seconds, f"created={created}")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {partitions.BRIN_INDEX} ON {partitions.PARENT} USING brin (start)")
    try:
        seconds, created = _timed(lambda: run("brin"))
        _rate(
            "ingest: partitioned, PK + BRIN (start), rollups refreshed", rows, seconds, f"created={created}"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {partitions.BRIN_INDEX}")


def generate(tag: str, rows: int) -> list[Any]:
    """Step 2: ``rows`` raw points as 1-minute site-years (4 series per site), then their rollups; returns the
    series of the first site."""
    import pandas as pd
    from django.db import connection, transaction

    from apps.telemetry import partitions, rollups

    partitions.partitions_ensure(now=pd.Timestamp(YEAR[0]), months_ahead=12)
    sites = max(1, -(-rows // POINTS_PER_SITE_YEAR))
    left, first = rows, []
    started = time.perf_counter()
    for number in range(sites):
        site = _site(tag, number + 1)
        for quantity in QUANTITIES:
            series = _series(site, quantity=quantity)
            if number == 0:
                first.append(series)
            count = min(left, 525_600)
            if count <= 0:
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.execute(
                    "INSERT INTO telemetry_datapoint (series_id, start, value) "
                    "SELECT %s, %s::timestamptz + make_interval(mins => g), 5000 + 1000 * sin(g / 720.0) "
                    "+ 100 * random() FROM generate_series(0, %s - 1) g",
                    [series.pk, YEAR[0], count],
                )
            left -= count
    seconds = time.perf_counter() - started
    _rate(f"generate: raw points, {sites} site-years of 4 x 1-min series", rows, seconds)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        rollups.rollups_backfill(cursor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE telemetry_datapoint")
        cursor.execute("ANALYZE telemetry_datapointrollup")
        cursor.execute("SELECT count(*) FROM telemetry_datapointrollup")
        rollup_rows = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    _rate(
        "generate: rollups (15 min + 1 h) from the raw points",
        rows,
        time.perf_counter() - started,
        f"{rollup_rows:,} rollup rows; database {size}",
    )
    return first


def reads(site_series: list[Any], repeat: int) -> None:
    """Step 3: one site-year at 15 minutes, from the rollups and from the raw points (btree, then BRIN only)."""
    import pandas as pd
    from django.db import connection, transaction

    from apps.telemetry import partitions, rollups
    from apps.telemetry.selectors import timeseries_rollup

    start, end = pd.Timestamp(YEAR[0]), pd.Timestamp(YEAR[1])
    start_us, end_us = start.value // 1000, end.value // 1000

    def site_year() -> int:
        return sum(
            len(timeseries_rollup(series=s, start=start, end=end, resolution_s=900)) for s in site_series
        )

    site_year()  # warm-up
    timings = [_timed(site_year)[0] for _ in range(repeat)]
    buckets = site_year()
    _latency("read: site-year at 15 min, stored rollups (4 series)", timings, f"{buckets:,} buckets")

    def raw_year() -> int:
        with connection.cursor() as cursor:
            return sum(
                len(
                    rollups.read_raw_bucketed(
                        cursor, series_id=s.pk, bucket_s=900, start_us=start_us, end_us=end_us
                    )
                )
                for s in site_series
            )

    raw_repeat = max(2, repeat // 5)
    raw_year()
    _latency(
        "read: site-year at 15 min from raw points, btree (series_id, start)",
        [_timed(raw_year)[0] for _ in range(raw_repeat)],
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX {partitions.BRIN_INDEX} ON {partitions.PARENT} USING brin (start)")
            cursor.execute(f"ALTER TABLE {partitions.PARENT} DROP CONSTRAINT {partitions.PRIMARY_KEY}")
        raw_year()
        _latency(
            "read: site-year at 15 min from raw points, BRIN (start) only",
            [_timed(raw_year)[0] for _ in range(raw_repeat)],
        )
        transaction.set_rollback(True)  # the primary key comes back as it was, the BRIN index goes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="raw points stored for the read benchmark (0: skip)"
    )
    parser.add_argument(
        "--ingest-rows", type=int, default=1_000_000, help="readings through the service (0: skip)"
    )
    parser.add_argument("--batch", type=int, default=100_000, help="rows per service call")
    parser.add_argument("--repeat", type=int, default=20, help="repetitions of the rollup read")
    parser.add_argument("--small", action="store_true", help="CI size: 100 000 readings, 2 200 000 points")
    args = parser.parse_args()
    if args.small:
        args.rows, args.ingest_rows, args.repeat = 2_200_000, 100_000, 5
    server = os.environ.get("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/postgres")
    if not server.startswith("postgres"):
        raise SystemExit("needs PostgreSQL: DATABASE_URL=postgres://…")
    parts = urlsplit(server)
    scratch = f"vpp_bench_partitioned_{secrets.token_hex(4)}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    _admin(admin_url, f'CREATE DATABASE "{scratch}"')
    try:
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{scratch}"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.local")
        sys.path.insert(0, str(ROOT))
        os.chdir(ROOT)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"scratch database {scratch}; {os.cpu_count()} CPUs, load average {load}; rows={args.rows:,} "
            f"ingest_rows={args.ingest_rows:,} batch={args.batch:,}",
            flush=True,
        )
        seconds, _ = _timed(lambda: call_command("migrate", verbosity=0))
        print(f"migrated in {seconds:.1f} s; vendor {connection.vendor}", flush=True)
        tag = f"bench-partitioned-{secrets.token_hex(3)}"
        if args.ingest_rows:
            ingestion(tag, args.ingest_rows, min(args.batch, args.ingest_rows))
        if args.rows:
            reads(generate(tag, args.rows), args.repeat)
        connections.close_all()
    finally:
        _admin(admin_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        print(f"dropped {scratch}", flush=True)


if __name__ == "__main__":
    main()
