"""Bounded load test on loopback: gunicorn serving the project, a small asyncio client (httpx) driving
telemetry ingestion and OpenADR ``GET /events``; prints sustained requests/s, p50/p99 latency and errors.

A fresh PostgreSQL database is created (and dropped afterwards) on the server of ``DATABASE_URL``, migrated and
seeded (``seed.py``). Each ingestion client posts one day of 15-minute readings (96 rows, JSON) per request to its
own site's series, day after day (a site's meter gateway catching up); each VTN client polls the events of its
VEN. Errors (a non-2xx answer or a failed connection) must be zero: the exit status is 1 otherwise.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres python benchmarks/load/run.py [--small]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


def day_rows(day: int) -> list[dict]:
    start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return [
        {"start": (start + timedelta(minutes=15 * i)).isoformat(), "value": 800.0 + (i * 7 + day) % 300}
        for i in range(96)
    ]


async def drive(name: str, make_request, concurrency: int, duration_s: float) -> dict:  # type: ignore[no-untyped-def]
    """Run ``concurrency`` clients, each calling ``make_request(client, worker, n)`` back to back for
    ``duration_s``; returns counts and latency quantiles (ms)."""
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + duration_s

    async def worker(index: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
            n = 0
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await make_request(client, index, n)
                    if not 200 <= response.status_code < 300:
                        errors.append(f"{response.status_code} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - t0)
                n += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "scenario": name,
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(elapsed, 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
        "concurrency": concurrency,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="CI size: 5 s per scenario, 8 clients")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients per scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.small:
        args.duration, args.concurrency = 5.0, 8

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        print("DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    parsed = urlparse(base)
    db_name = f"vpp_load_{os.getpid()}"
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    env = {
        **os.environ,
        "DATABASE_URL": urlunparse(parsed._replace(path=f"/{db_name}")),
        "DJANGO_SETTINGS_MODULE": "vpp.settings.local",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "LOAD_SITES": str(args.concurrency),
        "VPP_RATE_LIMIT_TOKEN": "100000/min",
    }
    psql(admin_url, f'CREATE DATABASE "{db_name}"')
    server = None
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [*manage, "shell", "-c", (Path(__file__).parent / "seed.py").read_text()],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "vpp.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "--access-logfile",
                "-" if os.environ.get("LOAD_ACCESS_LOG") else "/dev/null",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")

        ingest_headers = {"Authorization": f"Bearer {seed['ingest_token']}"}
        ven_headers = {"Authorization": f"Bearer {seed['ven_token']}"}

        async def ingest(client: httpx.AsyncClient, worker: int, n: int) -> httpx.Response:
            series = seed["series"][worker % len(seed["series"])]
            return await client.post(
                f"{url}/api/v1/timeseries/{series}/data/", json=day_rows(n), headers=ingest_headers
            )

        async def events(client: httpx.AsyncClient, worker: int, n: int) -> httpx.Response:
            return await client.get(f"{url}/openadr3/3.1.0/events", headers=ven_headers)

        results = [
            asyncio.run(drive("telemetry ingestion (POST 96 rows)", ingest, args.concurrency, args.duration)),
            asyncio.run(drive("OpenADR GET /events (VEN)", events, args.concurrency, args.duration)),
        ]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        psql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    print(
        f"gunicorn {args.workers} workers on loopback, {os.cpu_count()} CPUs; {args.concurrency} clients, "
        f"{args.duration:.0f} s per scenario"
    )
    for r in results:
        print(
            f"{r['scenario']:38s} {r['requests_per_s']:8.1f} req/s  p50 {r['p50_ms']:7.1f} ms  "
            f"p99 {r['p99_ms']:7.1f} ms  requests {r['requests']}  errors {r['errors']}"
        )
        for error in r["first_errors"]:
            print(f"    error: {error}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
