"""Bytes of the LP fan-out's block results on the wire, with and without the ``cum`` columns (issue 22).

    .venv/bin/python benchmarks/flexibility/result_bytes.py [--sites 1000]

Solves the blocks of the synthetic portfolio in this process and prints the JSON size of every
``BlockResult.to_json()`` (``cum`` left out, as the ``lp`` workers send them) against the same results with all
columns. Pure library, no Django.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flexibility import Problem, plan_blocks
from flexibility.blocks import solve_specs
from flexibility.synthetic import synthetic_problem


def main(argv: list[str] | None = None) -> None:
    """Print the result bytes for ``--sites`` synthetic sites (module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1000)
    args = ap.parse_args(argv)
    results = solve_specs(plan_blocks(Problem.from_json(synthetic_problem(args.sites))))
    wire = sum(len(json.dumps(r.to_json())) for r in results)
    every = sum(
        len(json.dumps({**r.to_json(), "x": base64.b64encode(r.x.tobytes()).decode(), "cum_cols": [0, 0]}))
        for r in results
    )
    print(
        f"{args.sites} sites, {len(results)} blocks: results {wire / 1e6:.2f} MB on the wire, "
        f"{every / 1e6:.2f} MB with the cum columns ({1 - wire / every:.1%} less)"
    )


if __name__ == "__main__":
    main()
