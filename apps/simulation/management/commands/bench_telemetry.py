"""``manage.py bench_telemetry [--rows N] [--rest-rows N] [--batch N] [--read-points N] [--small]``

Benchmarks of the time-series store (issue 3), printed as a table of figures:

1. bulk ingestion through the service (:func:`~apps.telemetry.services.datapoints_ingest`): ``--rows`` new
   readings in batches of ``--batch`` (target ≥ 100 000 rows/s on PostgreSQL), then the same rows again
   unchanged and changed (the upsert paths), and one batch of JSON-like records into a fresh series (the cost
   of parsing ISO 8601 strings);
2. ingestion through the REST endpoint (``POST /api/v1/timeseries/{id}/data/``, JSON, bearer token, full
   Django stack in-process, no network): ``--rest-rows`` readings;
3. reading one series-year of 15-minute data (35 040 points) into pandas (target ≤ 100 ms), raw and resampled.

It creates a throwaway organisation, site and API client named ``bench-telemetry-…`` and deletes them (and all
their data) afterwards. Meant for PostgreSQL (``DATABASE_URL=postgres://…``); runs on SQLite too, slowly.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client

from apps.accounts.choices import ApiClientRole, OrganisationKind
from apps.accounts.models import AccessToken, ApiClient, Organisation
from apps.accounts.services import access_token_issue, api_client_create, organisation_create
from apps.assets.models import Site
from apps.core.models import MarketZone
from apps.telemetry.models import DataPoint, TimeSeries
from apps.telemetry.selectors import datapoints_series, timeseries_resampled
from apps.telemetry.services import datapoints_ingest, timeseries_create
from apps.telemetry.validation import parse_records

EPOCH = pd.Timestamp("2020-01-01T00:00:00Z")


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


class Command(BaseCommand):
    help = "Benchmark bulk ingestion (service and REST) and reads of the time-series store; prints figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000, help="readings through the service")
        parser.add_argument("--batch", type=int, default=100_000, help="rows per service call / REST request")
        parser.add_argument(
            "--rest-rows", type=int, default=None, help="readings through REST (default: --rows)"
        )
        parser.add_argument("--rest-batch", type=int, default=50_000, help="rows per REST request")
        parser.add_argument("--read-points", type=int, default=35_040, help="points of the read benchmark")
        parser.add_argument("--repeat", type=int, default=20, help="repetitions of the read benchmark")
        parser.add_argument("--small", action="store_true", help="CI size: 20 000 rows, 5 000 via REST")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = 20_000 if options["small"] else options["rows"]
        rest_rows = 5_000 if options["small"] else (options["rest_rows"] or rows)
        batch = min(options["batch"], rows)
        rest_batch = min(options["rest_batch"], rest_rows) if rest_rows else 0
        tag = f"bench-telemetry-{secrets.token_hex(4)}"
        org = organisation_create(name=tag, kind=OrganisationKind.SITE_OWNER, slug=tag)
        site = Site.objects.create(
            owner=org,
            name=tag,
            latitude=37.4,
            longitude=-121.9,
            timezone="America/Los_Angeles",
            market_zone=MarketZone.objects.get(code="CAISO_NP15"),
            grid_import_limit_kw=50_000,
            it_capacity_kw=40_000,
        )
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        self.stdout.write(
            f"database: {connection.vendor} {connection.settings_dict.get('NAME')}; {os.cpu_count()} CPUs, load average "
            f"{load}; rows={rows} batch={batch} "
            f"rest_rows={rest_rows} rest_batch={rest_batch} read_points={options['read_points']}"
        )
        try:
            self._service(site, rows, batch)
            if rest_rows:
                self._rest(org, site, rest_rows, rest_batch)
            self._read(site, options["read_points"], options["repeat"])
        finally:
            self._cleanup(org, site)

    # --- 1. service ------------------------------------------------------------------------------------------

    def _series(self, site: Site, name: str, resolution: str = "PT1M") -> TimeSeries:
        return timeseries_create(
            principal=None,
            owner=site,
            quantity="it_power_kw",
            resolution=resolution,
            name=name,
            source="bench",
        )

    def _service(self, site: Site, rows: int, batch: int) -> None:
        series = self._series(site, "service")
        rng = np.random.default_rng(1)
        index = pd.date_range(EPOCH, periods=rows, freq="1min")
        values = rng.uniform(5_000, 30_000, rows).round(3)
        frames = [pd.Series(values[i : i + batch], index=index[i : i + batch]) for i in range(0, rows, batch)]

        def ingest_all(parts: list[pd.Series]) -> tuple[int, int]:
            created = updated = 0
            for part in parts:
                result = datapoints_ingest(series=series, rows=part)
                created += result.created
                updated += result.updated
            return created, updated

        seconds, (created, _) = _timed(lambda: ingest_all(frames))
        self._figure("service: new rows (append, binary COPY)", rows, seconds, f"created={created}")
        seconds, (created, updated) = _timed(lambda: ingest_all(frames))
        self._figure("service: same rows again (compared, unchanged)", rows, seconds, f"updated={updated}")
        changed = [part + 1.0 for part in frames]
        seconds, (created, updated) = _timed(lambda: ingest_all(changed))
        self._figure("service: same starts, new values (COPY + UPDATE)", rows, seconds, f"updated={updated}")
        strings = self._series(site, "strings")
        records = [
            {"start": s, "value": v}
            for s, v in zip(
                index[:batch].strftime("%Y-%m-%dT%H:%M:%SZ"), values[:batch].tolist(), strict=True
            )
        ]
        seconds, result = _timed(lambda: datapoints_ingest(series=strings, rows=parse_records(records)))
        self._figure(
            "service: ISO 8601 string records (append)",
            batch,
            seconds,
            f"created={result.created}",
        )

    # --- 2. REST ---------------------------------------------------------------------------------------------

    def _rest(self, org: Organisation, site: Site, rows: int, batch: int) -> None:
        series = self._series(site, "rest")
        issued = api_client_create(organisation=org, role=ApiClientRole.STAFF, name="bench")
        token = access_token_issue(client_id=issued.api_client.client_id, client_secret=issued.client_secret)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token.access_token}")
        index = pd.date_range(EPOCH, periods=rows, freq="1min").strftime("%Y-%m-%dT%H:%M:%SZ")
        values = np.random.default_rng(2).uniform(5_000, 30_000, rows).round(3).tolist()
        bodies = [
            json.dumps(
                [
                    {"start": s, "value": v}
                    for s, v in zip(index[i : i + batch], values[i : i + batch], strict=True)
                ]
            )
            for i in range(0, rows, batch)
        ]
        url = f"/api/v1/timeseries/{series.pk}/data/"

        def post_all() -> int:
            created = 0
            for body in bodies:
                response = client.post(url, body, content_type="application/json")
                if response.status_code != 200:
                    raise RuntimeError(
                        f"REST ingestion failed: {response.status_code} {response.content[:300]!r}"
                    )
                created += response.json()["created"]
            return created

        seconds, created = _timed(post_all)
        megabytes = sum(len(b) for b in bodies) / 1e6
        self._figure(
            "REST: JSON batches, new rows", rows, seconds, f"created={created}, {megabytes:.1f} MB JSON"
        )
        csv_body = "start,value\n" + "\n".join(
            f"{s},{v}" for s, v in zip(index[:batch], values[:batch], strict=True)
        )
        seconds, response = _timed(lambda: client.post(url, csv_body, content_type="text/csv"))
        self._figure("REST: one CSV batch (unchanged rows)", batch, seconds, f"status={response.status_code}")

    # --- 3. read ---------------------------------------------------------------------------------------------

    def _read(self, site: Site, points: int, repeat: int) -> None:
        series = self._series(site, "read", resolution="PT15M")
        index = pd.date_range("2022-01-01T00:00:00Z", periods=points, freq="15min")
        datapoints_ingest(
            series=series, rows=pd.Series(np.random.default_rng(3).uniform(0, 1e4, points), index=index)
        )
        start, end = index[0], index[-1] + pd.Timedelta(minutes=15)
        timings = []
        for _ in range(repeat):
            seconds, frame = _timed(lambda: datapoints_series(series=series, start=start, end=end))
            timings.append(seconds)
        assert len(frame) == points
        self._latency(f"read: {points} points into pandas (raw)", timings)
        timings = []
        for _ in range(max(repeat // 2, 1)):
            seconds, _ = _timed(
                lambda: timeseries_resampled(series=series, start=start, end=end, resolution_s=3600)
            )
            timings.append(seconds)
        self._latency(f"read: {points} points resampled to PT1H (mean, gaps)", timings)

    # --- output and cleanup ----------------------------------------------------------------------------------

    def _figure(self, label: str, rows: int, seconds: float, note: str = "") -> None:
        rate = rows / seconds if seconds else float("inf")
        self.stdout.write(f"{label:<52} {rows:>9} rows {seconds:8.2f} s {rate:>11,.0f} rows/s  {note}")

    def _latency(self, label: str, timings: list[float]) -> None:
        ms = sorted(t * 1000 for t in timings)
        self.stdout.write(
            f"{label:<52} median {statistics.median(ms):7.1f} ms  min {ms[0]:6.1f} ms  max {ms[-1]:6.1f} ms "
            f"({len(ms)} runs)"
        )

    def _cleanup(self, org: Organisation, site: Site) -> None:
        series_ids = list(TimeSeries.objects.filter(site=site).values_list("pk", flat=True))
        DataPoint.objects.filter(series_id__in=series_ids).delete()
        TimeSeries.objects.filter(pk__in=series_ids).delete()
        site.delete()
        AccessToken.objects.filter(api_client__organisation=org).delete()
        ApiClient.objects.filter(organisation=org).delete()
        org.delete()
        self.stdout.write("cleaned up the benchmark organisation, site, series and data.")
