"""Benchmarks printed by ``python -m flexibility bench [--small]`` (synthetic inputs; no data files needed).

Figures: single-battery and 50-battery arbitrage (the FlexMeasures comparison cases, ours only — the
side-by-side script is ``benchmarks/flexibility/flexmeasures_compare.py``), portfolio scale (100 and 1,000
sites × 96 steps, 3 workload classes, battery and PV each, migration among 4 zones) with build/solve seconds
and peak memory, and the flexibility envelope (fast method timing and its gap to the exact LPs).
Optionally N days of the real-data economics (:mod:`flexibility.economics`).
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc

import numpy as np

from flexibility.envelope import envelope
from flexibility.schedule import solve
from flexibility.synthetic import synthetic_problem


def _battery_problem(n: int, limit_kw: float | None) -> dict:
    t = np.arange(96) / 4
    prices = (80 + 60 * np.sin(2 * np.pi * (t - 9) / 24)).round(2).tolist()
    eff = 0.9**0.5
    batt = {"energy_kwh": 1000, "power_kw": 500, "charge_efficiency": eff, "discharge_efficiency": eff,
            "soc_initial_kwh": 500}  # fmt: skip
    return {
        "start": "2022-09-06T07:00:00Z", "resolution": "PT15M", "steps": 96,
        "zones": {"z": {"price_per_mwh": prices}},
        "sites": [{"id": "s", "zone": "z", "grid_import_limit_kw": limit_kw, "grid_export_limit_kw": limit_kw,
                   "workloads": [], "batteries": [batt] * n}],
    }  # fmt: skip


def solve_free_baseline_kw(problem: dict) -> float:
    """Mean portfolio baseline grid power (kW) of a problem dict."""
    from flexibility.arrays import site_arrays
    from flexibility.baseline import baseline
    from flexibility.problem import Problem

    p = Problem.from_json(problem)
    return float(baseline(p, site_arrays(p)).grid_kw.sum(axis=0).mean())


def _median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run_bench(*, small: bool = False, economics_days: int = 0, data_dir: str | None = None) -> None:
    """Print every benchmark figure (see module docstring)."""
    print("== battery arbitrage, 96 x 15 min (FlexMeasures cases; ours only)")
    for n, limit in ((1, None), (50, 10000.0)):
        p = _battery_problem(n, limit)
        sec = _median_time(lambda p=p: solve(p), 5)
        plain = _median_time(lambda p=p: solve(p, merge_batteries=False), 1 if n > 1 else 5)
        print(f"  {n:3d} batteries: {sec * 1000:8.2f} ms (identical batteries merged, exact); "
              f"without merging {plain * 1000:8.2f} ms")  # fmt: skip

    print("== scale: sites x 96 steps, 3 workload classes, battery + PV each, migration among 4 zones")
    for n in (100,) if small else (100, 1000):
        p = synthetic_problem(n)
        t0, c0 = time.perf_counter(), time.process_time()
        r = solve(p)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        mono = ""
        if n <= 100:
            t1 = time.perf_counter()
            r2 = solve(p, decompose=False)
            mono = (f"; one HiGHS run on the whole LP: {time.perf_counter() - t1:.3f} s "
                    f"(objective diff {abs(r2.objective - r.objective):.2e})")  # fmt: skip
        if n >= 1000:
            t1, c1 = time.perf_counter(), time.process_time()
            solve(p, workers=2)
            mono += (f"; with workers=2 threads: {time.perf_counter() - t1:.3f} s wall "
                     f"({time.process_time() - c1:.3f} s CPU)")  # fmt: skip
        peak = _peak_mb(lambda p=p: solve(p))
        print(f"  {n:5d} sites: total {wall:.3f} s wall ({cpu:.3f} s CPU) = build {r.timings['build_seconds']:.3f} s + solve "
              f"{r.timings['solve_seconds']:.3f} s + extract {r.timings['extract_seconds']:.3f} s; "
              f"LP {r.lp['rows']} rows x {r.lp['cols']} cols, {r.lp['nonzeros']} nonzeros; "
              f"peak traced memory {peak:.0f} MiB; objective {r.objective:.6f}; savings {r.savings_pct:.2f} %, "
              f"{len(r.migrations)} migrations{mono}")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  process peak RSS so far: {rss:.0f} MiB; 1-min load average {load:.2f} on {os.cpu_count()} CPUs "
          "(wall > CPU time means other processes shared the cores)")  # fmt: skip

    print("== dispatch: a commitment (16 steps, reduction 10 % of the covered sites' IT) couples sites")
    for n, covered in ((100, 100),) if small else ((100, 100), (1000, 100)):
        p = synthetic_problem(n)
        p["commitments"] = [{"id": "event", "sites": [f"s{i}" for i in range(covered)], "start_step": 68,
                             "end_step": 84, "reduction_kw": 0.1 * 6000 * covered,
                             "shortfall_penalty_per_mwh": 2000}]  # fmt: skip
        t0, c0 = time.perf_counter(), time.process_time()
        r = solve(p)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"  {n:5d} sites, event over {covered}: total {wall:.3f} s wall ({cpu:.3f} s CPU); shortfall "
              f"{r.commitments['event'].shortfall_kwh:.1f} kWh; objective {r.objective:.6f}")  # fmt: skip

    print("== flexibility envelope: 96 starts x durations 1, 2, 4 h, down and up, per site and portfolio")
    for n in (100,) if small else (100, 1000):
        p = synthetic_problem(n)
        t0, c0 = time.perf_counter(), time.process_time()
        env = envelope(p)
        sec, cpu = time.perf_counter() - t0, time.process_time() - c0
        d1, u1 = env.down_kw[0, 0], env.up_kw[0, 0]
        base = solve_free_baseline_kw(p)
        print(f"  {n:5d} sites, fast method: {sec:.3f} s wall ({cpu:.3f} s CPU); portfolio 1 h: down median {np.nanmedian(d1):.0f} kW, "
              f"up median {np.nanmedian(u1):.0f} kW, baseline grid mean {base:.0f} kW")  # fmt: skip
    n_exact = 2 if small else 4
    p = synthetic_problem(n_exact, steps=48, resolution="PT30M", seed=1)
    t0 = time.perf_counter()
    ex = envelope(p, method="exact")
    sec_ex = time.perf_counter() - t0
    fa = envelope(p)
    for name in ("down_kw", "up_kw"):
        f, e = getattr(fa, name), getattr(ex, name)
        print(f"  exact vs fast on {n_exact} sites x 48 steps, {name}: fast/exact = "
              f"{np.nansum(f[:, 0]) / np.nansum(e[:, 0]):.3f} (portfolio), "
              f"{np.nansum(f[:, 1:]) / np.nansum(e[:, 1:]):.3f} (sites); max excess {np.nanmax(f - e):.2e} kW "
              f"(must be <= 0); exact took {sec_ex:.2f} s, fast {fa.seconds:.3f} s")  # fmt: skip

    if economics_days:
        from flexibility.economics import print_economics

        print_economics(days=economics_days, data_dir=data_dir)
