"""The portfolio LP across Celery workers: the blocks of ``flexibility.plan_blocks`` go to the ``lp`` queue as a
group (each chunk sent as soon as it is encoded), the whole LP is built here meanwhile (only its column layout,
``flexibility.model.build_layout``, when there are no commitments to repair), each chunk's results are decoded
as it finishes, and
``flexibility.combine`` puts the optima together and repairs the commitment rows exactly: the same optimum as
``flexibility.solve`` (objective within rounding, 1e-9 relative).

When it fans out: the problem has at least ``settings.LP_FANOUT_MIN_SITES`` sites (default 2,000: below that
the messages and duplicated builds cost more than a second core saves, as measured in
benchmarks/flexibility/README.md), more than one block, and a worker answers on the ``lp`` queue (asked once
per ``_WORKER_CHECK_S``). Otherwise (the zero-config demo with its filesystem broker, tests without
workers, a small portfolio) it solves in this process with ``flexibility.solve``, which runs the very same block
API, so the two paths cannot drift apart. It also falls back in-process when the workers fail or do not answer
within ``settings.LP_FANOUT_TIMEOUT_S`` (default 600 s): the solve is a pure computation, safe to repeat.

Blocks travel by value in an explicit binary codec (``flexibility.codec.encode_specs``: the sub-problems' JSON
skeleton plus their series as raw float64, base64 in the JSON message, about 8 kB per site: larger than
JSON of 3-decimal series but far cheaper to write and read; no pickle);
results carry the primal values as base64 float64 (13 MB per 1,000 sites), in ``settings.LP_FANOUT_CHUNKS`` contiguous
chunks (default 16), so identical neighbouring blocks warm-start each other inside a worker. The ``lp`` queue
needs its own workers (``celery -A vpp worker -Q lp``): the caller waits for the group, which must not wait on
a worker slot the caller itself holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from celery import current_app, uuid
from celery.result import GroupResult
from django.conf import settings

import flexibility
from flexibility.checks import precheck
from flexibility.codec import encode_specs
from flexibility.decompose import block_columns
from flexibility.model import Layout, build_layout, build_model

logger = logging.getLogger(__name__)

LP_QUEUE = "lp"
_WORKER_CHECK_S = 30.0
_worker_seen: dict[str, float] = {}


def lp_workers_available(*, timeout_s: float = 1.0) -> bool:
    """True if a Celery worker consumes the ``lp`` queue (cached for ``_WORKER_CHECK_S`` when it does).

    Any broker error (no broker, a transport without broadcast such as the demo's filesystem one) counts as
    no worker."""
    now = time.monotonic()
    if now - _worker_seen.get(LP_QUEUE, -1e9) < _WORKER_CHECK_S:
        return True
    found = False
    try:
        # the first reply usually settles it (``limit=1`` returns on it, not at the timeout); only when it
        # came from a worker of other queues are all the workers asked
        for limit in (1, None):
            replies = current_app.control.inspect(timeout=timeout_s, limit=limit).active_queues() or {}
            found = any(q.get("name") == LP_QUEUE for queues in replies.values() for q in queues)
            if found or not replies:
                break
    except Exception:  # every failure here means "solve in process"
        return False
    if found:
        _worker_seen[LP_QUEUE] = now
    return found


def _dispatch(specs: Sequence[flexibility.BlockSpec], n: int) -> GroupResult:
    """Send ``specs`` to the ``lp`` queue in ``n`` contiguous chunks, each as soon as it is encoded (the first
    workers start while the later chunks are still being encoded), as one saved-less :class:`GroupResult`."""
    from apps.markets.lp_tasks import solve_lp_blocks

    size = -(-len(specs) // max(1, n))
    sent = [
        solve_lp_blocks.apply_async((encode_specs(specs[i : i + size]),), queue=LP_QUEUE)
        for i in range(0, len(specs), size)
    ]
    return GroupResult(uuid(), sent, app=current_app)


def portfolio_solve(
    problem: flexibility.Problem,
    *,
    min_sites: int | None = None,
    chunks: int | None = None,
    timeout_s: float | None = None,
) -> flexibility.Result:
    """Cost-optimal schedule of ``problem`` (as :func:`flexibility.solve`), fanned out to the ``lp`` workers
    when that pays (module docstring). ``Result.timings`` gains ``fanout_tasks`` (0 when solved in process).

    Args:
        problem: a validated :class:`flexibility.Problem`.
        min_sites: fan out from this many sites (default ``settings.LP_FANOUT_MIN_SITES``, 2,000).
        chunks: Celery tasks per solve (default ``settings.LP_FANOUT_CHUNKS``, 16).
        timeout_s: seconds to wait for the workers (default ``settings.LP_FANOUT_TIMEOUT_S``, 600).

    Raises:
        flexibility.FlexibilityInputError, flexibility.FlexibilityInfeasible: as :func:`flexibility.solve`.
    """
    floor = getattr(settings, "LP_FANOUT_MIN_SITES", 2000) if min_sites is None else min_sites
    if len(problem.sites) < floor:
        return _in_process(problem)
    specs = flexibility.plan_blocks(problem)
    if len(specs) < 2 or not lp_workers_available():
        return _in_process(problem)
    n_chunks: int = chunks if chunks is not None else int(getattr(settings, "LP_FANOUT_CHUNKS", 16))
    wait_s: float = (
        timeout_s if timeout_s is not None else float(getattr(settings, "LP_FANOUT_TIMEOUT_S", 600.0))
    )
    t0 = time.perf_counter()
    job = _dispatch(specs, n_chunks)
    # while the workers solve: the whole LP only when the commitment repair needs it, else its layout
    model: Layout = build_model(problem) if problem.commitments else build_layout(problem)
    precheck(model)
    block_columns(model)  # the combine's column index, computed now rather than after the last chunk
    build_s = time.perf_counter() - t0
    results: list[flexibility.BlockResult] = []
    decode_s = 0.0

    def decode(_task_id: str, part: list[dict]) -> None:  # as each chunk finishes, while the others run
        nonlocal decode_s
        t = time.perf_counter()
        results.extend(flexibility.BlockResult.from_json(r) for r in part)
        decode_s += time.perf_counter() - t

    join = job.join_native if job.supports_native_join else job.join
    try:
        join(timeout=wait_s, callback=decode, disable_sync_subtasks=False)
    except Exception:  # a lost or late worker: the pure solve is safe to repeat here
        logger.exception("lp fan-out of %d blocks failed; solving in process", len(specs))
        job.revoke()
        return _in_process(problem)
    finally:
        job.forget()
    wait = time.perf_counter() - t0 - build_s
    timings = {
        "fanout_tasks": float(len(job.results)),
        "fanout_wait_seconds": wait,
        "decode_seconds": decode_s,
    }
    return flexibility.combine(problem, results, model=model, timings={"build_seconds": build_s, **timings})


def _in_process(problem: flexibility.Problem) -> flexibility.Result:
    result = flexibility.solve(problem)
    result.timings["fanout_tasks"] = 0.0
    return result
