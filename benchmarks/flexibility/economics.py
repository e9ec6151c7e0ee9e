"""Economics on real 2022 data (issue 5): ``python benchmarks/flexibility/economics.py [--days N] [--data-dir DIR]``.

The model and the documented flexibility mix live in :mod:`flexibility.economics`; this script only picks the
data directory and the number of days (CI runs a few days).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flexibility.economics import print_economics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[3] / "shared" / "data"))
    ap.add_argument("--carbon-prices", type=float, nargs="+", default=[0.0, 100.0], help="USD per tonne CO2")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print_economics(days=args.days, data_dir=args.data_dir, carbon_prices=args.carbon_prices)
    print(f"(wall time {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
