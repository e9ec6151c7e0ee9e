"""Side-by-side comparison with FlexMeasures' ``device_scheduler`` (issue 5 benchmark).

FlexMeasures is NOT a dependency of this project: it runs in its own virtual environment, called as a
subprocess (this same file with ``--worker``), e.g.::

    python3.11 -m venv /tmp/fm-venv && /tmp/fm-venv/bin/pip install flexmeasures
    .venv/bin/python benchmarks/flexibility/flexmeasures_compare.py --flexmeasures-python /tmp/fm-venv/bin/python

Cases: (1) one battery, 1 MWh / 0.5 MW, 90 % round trip split sqrt(0.9) each way, SoC start 0.5 MWh, no final
SoC target, export at the import price, 96 quarter-hours of real CAISO NP15 day-ahead prices (each hourly
price repeated per quarter-hour); (2) 50 such batteries under a shared 10 MW site limit.

FlexMeasures minimises sum_j price_j * P_j with P in MW per step (no step length), so its objective times
dt (0.25 h) is our objective in USD. Both objectives must agree within 1e-6 relative.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DT_HOURS = 0.25
DEFAULT_DATA = Path(
    os.environ.get("VPP_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)


def load_prices(
    data_dir: Path, date: str, zone_file: str = "caiso_np15_dam_hourly_2021_2023.csv"
) -> list[float]:
    """96 quarter-hour prices (USD/MWh) for the local day starting ``date`` 07:00 UTC (00:00 PDT)."""
    import pandas as pd

    df = pd.read_csv(data_dir / "wholesale_prices_hourly" / zone_file, parse_dates=["timestamp_utc"])
    start = pd.Timestamp(f"{date}T07:00:00Z")
    sel = df[(df.timestamp_utc >= start) & (df.timestamp_utc < start + pd.Timedelta(hours=24))]
    hourly = sel["price_usd_per_mwh"].to_numpy()
    if hourly.size != 24:
        raise SystemExit(f"expected 24 hourly prices on {date}, found {hourly.size}")
    return [float(p) for p in hourly.repeat(4)]


def battery_problem(prices: list[float], n_batteries: int, site_limit_kw: float | None) -> dict:
    """Our problem dict for the benchmark (one site, ``n_batteries`` identical batteries, no IT load)."""
    eff = 0.9**0.5
    battery = {
        "energy_kwh": 1000.0,
        "power_kw": 500.0,
        "charge_efficiency": eff,
        "discharge_efficiency": eff,
        "soc_initial_kwh": 500.0,
        "soc_min_kwh": 0.0,
        "soc_max_kwh": 1000.0,
    }
    return {
        "start": "2022-09-06T07:00:00Z",
        "resolution": "PT15M",
        "steps": len(prices),
        "currency": "USD",
        "zones": {"CAISO_NP15": {"price_per_mwh": prices}},
        "sites": [
            {
                "id": "site",
                "zone": "CAISO_NP15",
                "grid_import_limit_kw": site_limit_kw,
                "grid_export_limit_kw": site_limit_kw,
                "pue": 1.0,
                "workloads": [],
                "batteries": [battery] * n_batteries,
            }
        ],
    }


def run_ours(
    prices: list[float], n_batteries: int, site_limit_kw: float | None, repeat: int, *, merge: bool = True
) -> dict:
    """Time ``flexibility.solve`` in-process (dict in, Result out; median of ``repeat`` after one warm-up).

    ``merge=False`` disables the exact merging of identical batteries, to show the plain LP time.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import flexibility

    problem = battery_problem(prices, n_batteries, site_limit_kw)
    result = flexibility.solve(problem, merge_batteries=merge)
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = flexibility.solve(problem, merge_batteries=merge)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {
        "objective_usd": result.objective,
        "seconds": statistics.median(times),
        "cpu_seconds": statistics.median(cpu),
        "build_seconds": result.timings["build_seconds"],
        "solve_seconds": result.timings["solve_seconds"],
        "grid_kw": result.sites["site"].grid_kw.tolist(),
    }


def worker(spec: dict) -> dict:  # pragma: no cover - runs inside the FlexMeasures venv
    """Run FlexMeasures' device_scheduler on pandas inputs (inside the FlexMeasures virtual environment)."""
    import contextlib
    import io
    from datetime import timedelta

    import numpy as np
    import pandas as pd
    from flask import Flask
    from flexmeasures.data.models.planning import FlowCommitment
    from flexmeasures.data.models.planning.linear_optimization import device_scheduler
    from flexmeasures.data.models.planning.utils import initialize_df

    columns = [
        "equals", "max", "min", "efficiency", "derivative equals", "derivative max", "derivative min",
        "derivative down efficiency", "derivative up efficiency", "stock delta",
    ]  # fmt: skip
    app = Flask("flexmeasures-compare")
    app.config.update(FLEXMEASURES_LP_SOLVER=spec["solver"], LOGGING_LEVEL="WARNING")
    start = pd.Timestamp("2022-09-06T07:00:00")
    res = timedelta(minutes=15)
    end = start + res * len(spec["prices"])
    n, limit_mw = spec["n_batteries"], spec["site_limit_mw"]
    steps_per_hour = timedelta(hours=1) / res

    def inputs():
        index = initialize_df(columns, start, end, res).index
        prices = pd.Series(spec["prices"], index=index)
        devices = []
        for _ in range(n):
            dc = initialize_df(columns, start, end, res)
            # device_scheduler counts stock in flow x steps (MW x 15 min), as FlexMeasures' StorageScheduler
            # does after dividing MWh by the resolution: 1 MWh = 4 units. Bounds are relative to the start.
            dc["max"] = (1.0 - 0.5) * steps_per_hour
            dc["min"] = (0.0 - 0.5) * steps_per_hour
            dc["derivative max"] = 0.5
            dc["derivative min"] = -0.5
            dc["derivative up efficiency"] = np.sqrt(0.9)  # stock gain = flow in x eff
            dc["derivative down efficiency"] = np.sqrt(0.9)  # stock loss = flow out / eff
            devices.append(dc)
        ems = initialize_df(columns, start, end, res)
        if limit_mw is not None:
            ems["derivative max"] = limit_mw
            ems["derivative min"] = -limit_mw
        commitment = FlowCommitment(
            name="energy",
            quantity=0,
            upwards_deviation_price=prices,
            downwards_deviation_price=prices,
            index=index,
        )
        return devices, ems, [commitment]

    times, cpu, out = [], [], None
    with app.app_context():
        for _ in range(spec["repeat"] + 1):
            devices, ems, commitments = inputs()
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink):
                t0, c0 = time.perf_counter(), time.process_time()
                out = device_scheduler(
                    devices, ems, commitments=commitments, initial_stock=0.5 * steps_per_hour
                )
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
    planned, cost, results, _ = out
    total_mw = sum(np.asarray(p.values, dtype=float) for p in planned)
    return {
        "objective_fm": float(cost),
        "seconds": statistics.median(times[1:]),
        "cpu_seconds": statistics.median(cpu[1:]),
        "termination": str(getattr(getattr(results, "solver", None), "termination_condition", results)),
        "power_mw": [float(v) for v in total_mw],
    }


def run_flexmeasures(
    python: str, prices: list[float], n: int, limit_mw: float | None, repeat: int, solver: str
):
    spec = {"prices": prices, "n_batteries": n, "site_limit_mw": limit_mw, "repeat": repeat, "solver": solver}
    proc = subprocess.run(
        [python, __file__, "--worker"], input=json.dumps(spec), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"FlexMeasures worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--flexmeasures-python", help="python of a virtual environment with flexmeasures installed"
    )
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--date", default="2022-09-06")
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--fm-repeat", type=int, default=5)
    ap.add_argument(
        "--fm-solver",
        default="highspy",
        help="FlexMeasures LP backend: highspy (its direct HiGHS backend) or appsi_highs (Pyomo); 'both' runs each",
    )
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:  # pragma: no cover
        print(json.dumps(worker(json.load(sys.stdin))))
        return 0
    prices = load_prices(args.data_dir, args.date)
    cases = [("1 battery", 1, None), ("50 batteries, 10 MW site limit", 50, 10.0)]
    solvers = ["highspy", "appsi_highs"] if args.fm_solver == "both" else [args.fm_solver]
    print(f"prices: CAISO NP15 DAM {args.date} (local day), 96 x 15 min, mean {sum(prices) / 96:.2f} USD/MWh")
    worst = 0.0
    for label, n, limit_mw in cases:
        ours = run_ours(prices, n, None if limit_mw is None else limit_mw * 1000, args.repeat)
        print(f"\n{label}")
        print(
            f"  ours          objective {ours['objective_usd']:14.6f} USD   time {ours['seconds'] * 1000:9.2f} ms"
            f" wall, {ours['cpu_seconds'] * 1000:8.2f} ms CPU  (build {ours['build_seconds'] * 1000:.2f} ms, HiGHS {ours['solve_seconds'] * 1000:.2f} ms)"
        )
        if n > 1:
            plain = run_ours(prices, n, limit_mw * 1000 if limit_mw else None, 3, merge=False)
            print(
                f"  ours, no merging of identical batteries: objective {plain['objective_usd']:.6f} USD"
                f"   time {plain['seconds'] * 1000:9.2f} ms"
            )
        if not args.flexmeasures_python:
            print("  FlexMeasures  skipped (pass --flexmeasures-python /path/to/venv/bin/python)")
            continue
        for solver in solvers:
            fm = run_flexmeasures(args.flexmeasures_python, prices, n, limit_mw, args.fm_repeat, solver)
            fm_usd = fm["objective_fm"] * DT_HOURS
            rel = abs(fm_usd - ours["objective_usd"]) / max(abs(fm_usd), 1e-12)
            worst = max(worst, rel)
            print(
                f"  FlexMeasures  objective {fm_usd:14.6f} USD   time {fm['seconds'] * 1000:9.2f} ms"
                f" wall, {fm['cpu_seconds'] * 1000:8.2f} ms CPU  (device_scheduler, backend {solver}, {fm['termination']})"
            )
            print(
                f"  relative objective difference {rel:.2e}; speed-up {fm['seconds'] / ours['seconds']:.1f}x wall, "
                f"{fm['cpu_seconds'] / ours['cpu_seconds']:.1f}x CPU"
            )
    if args.flexmeasures_python:
        print(
            f"\nworst relative objective difference: {worst:.2e} ({'OK' if worst <= 1e-6 else 'ABOVE 1e-6'})"
        )
        return 0 if worst <= 1e-6 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
