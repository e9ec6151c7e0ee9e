"""Start a real Celery worker process (tests and benchmarks): same settings, optionally another database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

if TYPE_CHECKING:
    from celery import Celery


def worker_env(settings_module: str | None = None) -> dict[str, str]:
    """Environment of a worker subprocess: this process's environment, pointed at the database this process is
    connected to now (e.g. the test database pytest-django created)."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings_module or os.environ.get(
        "DJANGO_SETTINGS_MODULE", "vpp.settings.local"
    )
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        user, password = db.get("USER") or "", db.get("PASSWORD") or ""
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
        )
    return env


class WorkerProcess(subprocess.Popen[bytes]):
    """A worker subprocess and the file its output goes to (``log_path``)."""

    log_path: str


@contextmanager
def celery_worker(
    queues: str = "default,dispatch,forecasts",
    concurrency: int = 1,
    settings_module: str | None = None,
    purge: bool = True,
    log_level: str = "warning",
    pool: str = "prefork",
    extra_env: dict[str, str] | None = None,
    wait_ready: bool = True,
) -> Iterator[WorkerProcess]:
    """Run ``celery -A vpp worker`` until the block ends; waits until it (by its node name) answers a ping (60 s at most; skipped
    with ``wait_ready=False``, e.g. for a worker on another broker than this process's, set in ``extra_env``).
    Its output goes to a temporary log file (``proc.log_path``), never to an unread pipe that could fill up and
    stall it.

    Raises:
        RuntimeError: the worker exits early or does not answer.
    """
    from celery import current_app as app

    if purge:
        app.control.purge()  # messages left by earlier runs must not reach this worker
    node = f"w{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"  # its ping is awaited by name
    with tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False) as log:
        log_path = log.name
    with open(log_path, "w") as log_file:
        proc = WorkerProcess(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "vpp",
                "worker",
                "-Q",
                queues,
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "-l",
                log_level,
                "--without-gossip",
                "--without-mingle",
                "-n",
                node,
            ],
            cwd=settings.BASE_DIR,
            env=worker_env(settings_module) | (extra_env or {}),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    proc.log_path = log_path
    try:
        if wait_ready:
            _wait_for_ping(proc, log_path, app, node)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for_ping(proc: subprocess.Popen, log_path: str, app: Celery, node: str) -> None:
    """Until this worker (``node``), not merely any worker, answers a ping."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log_path) as handle:
                raise RuntimeError(f"worker exited early:\n{handle.read()[-5000:]}")
        if app.control.ping(destination=[node], timeout=0.5):
            return
    raise RuntimeError("worker did not answer a ping within 60 s")
