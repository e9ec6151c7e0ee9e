"""Command line: ``python -m flexibility solve|envelope|bench``.

Exit codes: 0 ok, 1 invalid input (JSON body ``{"status": "invalid", "field", "reason"}``),
2 infeasible (``{"status": "infeasible", "family", "message", ...}``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flexibility.errors import FlexibilityInfeasible, FlexibilityInputError


def _read(path: str) -> Any:
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _write(data: Any, path: str | None) -> None:
    text = json.dumps(data, indent=None, separators=(",", ":"), allow_nan=False)
    if path:
        Path(path).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


def _cmd_solve(args: argparse.Namespace) -> int:
    from flexibility.schedule import solve

    result = solve(_read(args.problem), decompose=not args.no_decompose, workers=args.workers)
    _write(result.to_json(), args.output)
    if args.output:
        c = result.cost
        print(
            f"{result.status}: objective {result.objective:.2f} {result.currency} "
            f"(baseline {sum(result.baseline_cost.values()):.2f}, savings {result.savings_pct or 0:.2f} %), "
            f"energy {c['energy']:.2f}, carbon {c['carbon']:.2f}, emissions {result.emissions_kg:.1f} kg; "
            f"build {result.timings['build_seconds']:.3f} s, solve {result.timings['solve_seconds']:.3f} s "
            f"-> {args.output}"
        )
    return 0


def _cmd_envelope(args: argparse.Namespace) -> int:
    from flexibility.envelope import envelope

    env = envelope(_read(args.problem), durations=args.durations, method=args.method)
    if args.csv:
        env.to_frame().to_csv(args.output or sys.stdout)
    else:
        _write(env.to_json(), args.output)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from flexibility.bench import run_bench

    run_bench(small=args.small, economics_days=args.economics_days, data_dir=args.data_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    ap = argparse.ArgumentParser(
        prog="python -m flexibility", description="Datacenter flexibility scheduling"
    )
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="cost-optimal schedule of a problem JSON")
    s.add_argument("problem", help="problem JSON file ('-' for stdin)")
    s.add_argument("-o", "--output", help="write the result JSON here (default: stdout)")
    s.add_argument("--no-decompose", action="store_true", help="solve the whole LP in one HiGHS run")
    s.add_argument("--workers", type=int, default=1, help="threads solving independent site groups")
    s.set_defaults(func=_cmd_solve)
    e = sub.add_parser("envelope", help="down/up flexibility per start step and duration")
    e.add_argument("problem")
    e.add_argument("-d", "--durations", type=float, nargs="+", default=[1.0, 2.0, 4.0], help="hours")
    e.add_argument("--method", choices=["fast", "exact"], default="fast")
    e.add_argument("--csv", action="store_true", help="CSV table instead of JSON")
    e.add_argument("-o", "--output")
    e.set_defaults(func=_cmd_envelope)
    b = sub.add_parser("bench", help="print the benchmark figures")
    b.add_argument("--small", action="store_true", help="CI size (well under a minute)")
    b.add_argument("--economics-days", type=int, default=0, help="also run N days of the real-data economics")
    b.add_argument("--data-dir", default=None, help="the shared data directory (wholesale prices etc.)")
    b.set_defaults(func=_cmd_bench)
    args = ap.parse_args(argv)
    try:
        return int(args.func(args))
    except FlexibilityInputError as exc:
        _write(exc.to_json(), None)
        return 1
    except FlexibilityInfeasible as exc:
        _write(exc.to_json(), None)
        return 2
