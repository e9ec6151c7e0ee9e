"""The portfolio LP across 1, 2 and 4 real Celery ``lp`` workers against the one-process solve (issue 22).

    REDIS_URL=redis://127.0.0.1:6379/5 DATABASE_URL=postgres://... .venv/bin/python benchmarks/flexibility/fanout.py \
        [--sites 1000] [--workers 1 2 4] [--chunks 16] [--small]

Prints, per run: sites, workers, wall seconds, CPU seconds (summed over this process and every worker process,
pool children included, from /proc; "(here)" is this process's share: plan, build, combine, extract), the peak RSS of each worker process (VmHWM, MiB; the pool child that
solves), the objective and its relative difference to the one-process solve. The one-process reference runs in
its own subprocess so that its peak RSS is its own. Each worker is ``celery -A vpp worker -Q lp -c 1`` (started
with :func:`apps.core.workers.celery_worker`). ``--small`` is 200 sites (CI). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.local")

_TICK = os.sysconf("SC_CLK_TCK")

_REFERENCE = """
import json, resource, sys, time
from flexibility import Problem, solve
from flexibility.synthetic import synthetic_problem
p = Problem.from_json(synthetic_problem(int(sys.argv[1])))
t0, c0 = time.perf_counter(), time.process_time()
r = solve(p)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "objective": r.objective,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _wait_for_pool(pid: int, timeout_s: float = 120.0) -> None:
    """Wait until a worker's pool child is up (it forks after the worker already answers pings), so that the
    CPU time of the process that solves is counted from before the run."""
    deadline = time.monotonic() + timeout_s
    while len(_tree(pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)


def _reference(n_sites: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _REFERENCE, str(n_sites)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one line per configuration (module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--chunks", type=int, default=16)
    ap.add_argument("--small", action="store_true", help="200 sites (CI)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the workers on the way out
    n_sites = 200 if args.small else args.sites
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL (the workers need a real broker; use your own Redis database number)")

    import django

    django.setup()
    from apps.core.workers import celery_worker
    from apps.markets import fanout
    from flexibility import Problem
    from flexibility.synthetic import synthetic_problem

    ref = _reference(n_sites)
    print(f"machine: {os.cpu_count()} CPUs, 1-min load average {os.getloadavg()[0]:.2f} (shared: wall > CPU/cores "
          "means other jobs took the cores)")  # fmt: skip
    print(f"{'sites':>6} {'workers':>7} {'wall s':>8} {'CPU s':>8} {'(here)':>7} {'peak RSS MiB per worker':>28} "
          f"{'objective':>18} {'rel. diff':>10}")  # fmt: skip
    print(f"{n_sites:>6} {'1 proc':>7} {ref['wall']:>8.2f} {ref['cpu']:>8.2f} {ref['cpu']:>7.2f} {ref['rss_mib']:>28.0f} "
          f"{ref['objective']:>18.6f} {0.0:>10.1e}")  # fmt: skip
    problem = Problem.from_json(synthetic_problem(n_sites))
    for n_workers in args.workers:
        with ExitStack() as stack:
            procs = [
                stack.enter_context(celery_worker(queues=fanout.LP_QUEUE, concurrency=1, purge=(i == 0)))
                for i in range(n_workers)
            ]
            for proc in procs:
                _wait_for_pool(proc.pid)
            fanout._worker_seen.clear()
            pids = [p for proc in procs for p in _tree(proc.pid)]
            cpu0 = sum(_cpu_s(p) for p in pids)
            t0, c0 = time.perf_counter(), time.process_time()
            result = fanout.portfolio_solve(problem, min_sites=0, chunks=args.chunks)
            wall, cpu_here = time.perf_counter() - t0, time.process_time() - c0
            cpu = cpu_here + sum(_cpu_s(p) for p in pids) - cpu0
            peaks = [max(_peak_rss_mib(p) for p in _tree(proc.pid)) for proc in procs]
            if result.timings.get("fanout_tasks", 0) == 0:
                print(f"{n_sites:>6} {n_workers:>7}  did not fan out (no lp worker answered)")
                continue
        rel = abs(result.objective - ref["objective"]) / abs(ref["objective"])
        peak_txt = " ".join(f"{x:.0f}" for x in peaks)
        print(f"{n_sites:>6} {n_workers:>7} {wall:>8.2f} {cpu:>8.2f} {cpu_here:>7.2f} {peak_txt:>28} {result.objective:>18.6f} "
              f"{rel:>10.1e}")  # fmt: skip
        sys.stdout.flush()


if __name__ == "__main__":
    main()
