"""A real Celery worker process for tests: started against the configured broker and the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def worker_env() -> dict[str, str]:
    """Environment of a worker subprocess: same settings, but the *test* database pytest-django created."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "vpp.settings.test"
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        user = db.get("USER") or ""
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return env


@contextmanager
def celery_worker(queues: str = "default,dispatch", concurrency: int = 1) -> Iterator[subprocess.Popen]:
    """Run ``celery -A vpp worker`` until the block ends; waits until it answers a ping."""
    from vpp.celery import app

    app.control.purge()  # messages left by earlier tests must not reach this worker
    proc = subprocess.Popen(
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
            "prefork",
            "--concurrency",
            str(concurrency),
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{proc.stdout.read() if proc.stdout else ''}")
            if app.control.ping(timeout=0.5):
                break
        else:
            raise RuntimeError("worker did not answer a ping within 60 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
