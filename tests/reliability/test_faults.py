"""Faults against real services: Redis restarted during bidding, the database connection dropped during
ingestion. (The worker SIGKILLed mid-dispatch is in tests/apps/dispatch.)

Both run in CI (PostgreSQL and Redis there); they fail rather than skip there (``require_service``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection

from apps.core import clock
from apps.core.workers import celery_worker, worker_env
from apps.markets.choices import BidStatus
from apps.markets.models import Bid
from apps.telemetry import pg
from apps.telemetry import services as telemetry_services
from apps.telemetry.models import DataPoint
from tests.apps.markets.test_bidding import event_for, portfolio
from tests.conftest import World, require_service
from tests.factories import SiteFactory, TimeSeriesFactory

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(
    predicate: Callable[[], bool], timeout: float = 90.0, every: Callable[[], Any] | None = None
) -> bool:
    """Poll ``predicate`` until true (``every`` runs between polls, e.g. a beat tick); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if every is not None:
            every()
        time.sleep(0.5)
    return False


# --- Redis restarted during bidding ------------------------------------------------------------------------


class RedisServer:
    """A private ``redis-server`` on a free loopback port, with an append-only file fsynced on every write (as a
    production broker should run), so it can be SIGKILLed and restarted with its queue intact."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="vpp-redis-")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    require_service("REDIS_URL")  # CI: this test must run, not skip
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (bin/services installs it)")
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def worker_on(broker_url: str) -> Iterator[subprocess.Popen]:
    """A Celery worker (queues default, dispatch; solo pool) on ``broker_url`` and the test database; its
    readiness is read from its log (this process's Celery app pings the usual broker, not this one)."""
    with celery_worker(
        settings_module="vpp.settings.test",
        extra_env={"REDIS_URL": broker_url},
        pool="solo",
        purge=False,
        log_level="info",
        wait_ready=False,
    ) as proc:
        yield proc


def beat_tick(broker_url: str) -> None:
    """What Celery beat does each bidding period: publish ``bidding_cycle`` (here with ``celery call``, a
    separate process, as beat is)."""
    env = worker_env("vpp.settings.test") | {"REDIS_URL": broker_url}
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "vpp", "call", "apps.markets.tasks.bidding_cycle"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_redis_restarted_during_bidding_submits_the_bid_once(world: World, redis_server: RedisServer) -> None:
    portfolio(world, np.random.default_rng(3), n_sites=2)
    event = event_for(world, requested_kw=1000)
    bids = Bid.objects.filter(event=event, bidder=world.aggregator)
    try:
        clock.replay_start(sim_start=event.gate_closure_at - timedelta(minutes=20), speed=1.0)  # draft window
        with worker_on(redis_server.url) as worker:
            assert wait_for(lambda: "ready." in Path(worker.log_path).read_text(), timeout=60)
            # 1. The broker dies while a bidding cycle is queued; it comes back with its append-only file.
            beat_tick(redis_server.url)
            redis_server.kill()
            time.sleep(1.0)
            redis_server.start()
            # the worker reconnects by itself; beat keeps ticking until the draft exists
            drafted = wait_for(bids.exists, every=lambda: beat_tick(redis_server.url))
            assert drafted, Path(worker.log_path).read_text()[-4000:]
            draft = bids.get()
            assert draft.status == BidStatus.DRAFT and draft.intervals.count() == 8

            # 2. In the submit window the broker dies again right after the cycle that submits is queued.
            clock.replay_start(sim_start=event.gate_closure_at - timedelta(minutes=5), speed=1.0)
            time.sleep(clock.CACHE_SECONDS + 0.2)
            beat_tick(redis_server.url)
            redis_server.kill()
            redis_server.start()
            submitted = wait_for(
                lambda: bids.filter(status=BidStatus.SUBMITTED).exists(),
                every=lambda: beat_tick(redis_server.url),
            )
            assert submitted, Path(worker.log_path).read_text()[-4000:]
            first = bids.get()
            # more ticks after reconnection (and any redelivered message) change nothing
            for _ in range(3):
                beat_tick(redis_server.url)
            time.sleep(3)
            log = Path(worker.log_path).read_text()
    finally:
        clock.replay_stop()
    assert log.count("Connection to broker lost") >= 2, log[-4000:]  # the worker really lost Redis twice
    assert bids.count() == 1
    bid = bids.get()
    assert bid.pk == draft.pk and bid.status == BidStatus.SUBMITTED
    assert bid.submitted_at == first.submitted_at  # submitted exactly once
    assert bid.intervals.count() == 8


# --- database connection dropped during ingestion ---------------------------------------------------------


def _terminate(pid: int) -> None:
    """``pg_terminate_backend(pid)`` from a second connection (what a failover or an admin kill does)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _stored(series_id: int) -> dict[pd.Timestamp, float]:
    return {
        pd.Timestamp(start): value
        for start, value in DataPoint.objects.filter(series_id=series_id).values_list("start", "value")
    }


@pytest.mark.parametrize("kill_at_copy", [1, 2], ids=["during-insert-copy", "after-inserts-during-update"])
def test_connection_dropped_mid_batch_writes_nothing_and_the_retry_succeeds(
    world: World, monkeypatch: pytest.MonkeyPatch, kill_at_copy: int
) -> None:
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL")
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    series = TimeSeriesFactory(
        site=SiteFactory(owner=world.owner_a), quantity="site_power_kw", resolution="PT15M"
    )
    index = pd.date_range("2022-09-01", periods=20_000, freq="15min", tz="UTC")
    batch = pd.Series(np.linspace(500.0, 900.0, len(index)), index=index)
    stored_half = (
        batch.iloc[: len(batch) // 2] - 50.0
    )  # already stored, with other values: the batch updates them
    telemetry_services.datapoints_ingest(series=series, rows=stored_half)
    before = _stored(series.pk)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    real_copy_in, calls = pg.copy_in, []

    def copy_in_then_die(cursor: Any, statement: str, payload: bytes) -> None:
        calls.append(statement)
        if len(calls) == kill_at_copy:
            _terminate(pid)  # the connection is killed while this batch's transaction is open
        real_copy_in(cursor, statement, payload)

    monkeypatch.setattr(pg, "copy_in", copy_in_then_die)
    with pytest.raises((OperationalError, psycopg.OperationalError)):  # COPY runs on psycopg's own cursor
        telemetry_services.datapoints_ingest(series=series, rows=batch)
    assert len(calls) == kill_at_copy
    if kill_at_copy == 2:
        assert "telemetry_datapoint" in calls[0]  # the new points had been copied before the kill
    monkeypatch.setattr(pg, "copy_in", real_copy_in)

    connection.close()  # what Django does at the end of a failed request: the next query reconnects
    assert _stored(series.pk) == before, "nothing of the failed batch is stored"

    retry = telemetry_services.datapoints_ingest(series=series, rows=batch)
    assert (retry.created, retry.updated) == (len(batch) - len(stored_half), len(stored_half))
    stored = _stored(series.pk)
    assert len(stored) == len(batch) == DataPoint.objects.filter(series=series).count()  # no duplicates
    assert all(stored[t] == v for t, v in batch.items())
    again = telemetry_services.datapoints_ingest(series=series, rows=batch)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(batch))
