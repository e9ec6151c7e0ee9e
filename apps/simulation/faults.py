"""Fault injection for tests: hold a worker at a named checkpoint of the dispatch so a test can kill it there.

Off unless ``VPP_FAULT_PAUSE_AT`` names a checkpoint and ``VPP_FAULT_MARKER`` a file path. The first process to
reach that checkpoint creates the marker file (exclusively, so exactly one process ever pauses) and sleeps
``VPP_FAULT_PAUSE_SECONDS`` (default 120 s); a later arrival — the task redelivered to a fresh worker process —
finds the marker and carries on. The test waits for the marker, kills the worker (SIGKILL) and watches the
redelivered task finish. In production the variables are unset and a checkpoint costs one dictionary lookup.

Registered as a dispatch checkpoint hook by :class:`apps.simulation.apps.SimulationConfig`. Checkpoints (see
:mod:`apps.dispatch.checkpoints`):

- ``plan_stored_uncommitted``: the plan, its setpoints and deliveries are written but not committed;
- ``delivery_batch_sent``: one batch of webhooks was sent and its delivered statuses committed; the next
  batch is not sent yet.
"""

from __future__ import annotations

import os
import time

PAUSE_AT = "VPP_FAULT_PAUSE_AT"
MARKER = "VPP_FAULT_MARKER"
PAUSE_SECONDS = "VPP_FAULT_PAUSE_SECONDS"


def checkpoint(name: str) -> None:
    """Pause here once if fault injection targets ``name`` (see the module docstring); else return at once."""
    if os.environ.get(PAUSE_AT) != name:
        return
    marker = os.environ.get(MARKER)
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return  # already paused once (the killed worker): the redelivered task carries on
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get(PAUSE_SECONDS, "120")))
