"""Build + solve time of the portfolio LP with and without the issue-17 workload constraints.

    .venv/bin/python benchmarks/flexibility/constraints.py [--small]

Problems: a 4-site portfolio like the demo (``flexibility.synthetic``, 4 zones, migration) and 1,000 synthetic
sites (``--small``: 100), each 96 × 15 min. "with" sets on every deferrable workload ``min_power_fraction`` 0.3,
``ramp_kw_per_min`` (10 % of its max_kw per minute), a queue of two entries (one already due, one due in 2 h),
and the problem's ``lateness_penalty_per_mwh`` 3000. Prints wall and CPU seconds of ``flexibility.solve``, its
build/solve split, the LP size, the objective and the kWh·h late. Issue 17 target: one re-plan of 1,000 sites
within 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flexibility import sla_shortfalls, solve
from flexibility.synthetic import synthetic_problem


def with_constraints(d: dict) -> dict:
    """The problem dict with the issue-17 fields set (module docstring), in place."""
    d["lateness_penalty_per_mwh"] = 3000.0
    for s in d["sites"]:
        for w in s["workloads"]:
            if w.get("max_delay_steps") is None:
                continue
            mean_kw = sum(w["baseline_kw"]) / len(w["baseline_kw"])
            w["min_power_fraction"] = 0.3
            w["ramp_kw_per_min"] = round(0.1 * w["max_kw"], 3)
            w["initial_kw"] = round(mean_kw, 3)
            w["queue"] = [
                {"energy_kwh": round(0.25 * mean_kw, 3), "due_step": 0},
                {"energy_kwh": round(mean_kw, 3), "due_step": 8},
            ]
    return d


def _run(label: str, d: dict) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    r = solve(d)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    short = sla_shortfalls(d)
    sla_s = time.perf_counter() - t1
    print(
        f"  {label:<34} {wall:7.3f} s wall ({cpu:7.3f} s CPU) = build {r.timings['build_seconds']:.3f} s + "
        f"solve {r.timings['solve_seconds']:.3f} s; LP {r.lp['rows']} x {r.lp['cols']}, {r.lp['nonzeros']} nnz; "
        f"objective {r.objective:.3f}; late {r.late_kwh_hours:.3f} kWh·h; "
        f"sla_shortfalls {len(short)} in {sla_s:.3f} s"
    )


def main(argv: list[str] | None = None) -> None:
    """Print the figures (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100 sites instead of 1,000 (seconds)")
    args = parser.parse_args(argv)
    for n in (4, 100 if args.small else 1000):
        print(f"== {n} sites x 96 steps")
        _run("without the new fields", synthetic_problem(n))
        _run("with min power, ramp, queue, lateness", with_constraints(synthetic_problem(n)))


if __name__ == "__main__":
    main()
