"""Cut ``google2019_cluster_mean_cpu_5min.csv`` from ../shared/data (see SOURCE.md next to this script).

Run from the project directory: ``.venv/bin/python data/greenpower/make_slice.py [--shared ../shared/data]``.
Keeps two columns of the source unchanged (``t_seconds_from_first_window``, ``avg_cpu``); deterministic.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SOURCE = "datacenter_power_and_utilization/google2019_cluster_mean_instance_usage_5min.csv"
OUT = "google2019_cluster_mean_cpu_5min.csv"


def cpu_slice(shared: Path) -> pd.DataFrame:
    """The two kept columns of the Google 2019 usage trace, every row, values as published."""
    return pd.read_csv(shared / SOURCE, usecols=["t_seconds_from_first_window", "avg_cpu"], dtype=str)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=HERE / OUT)
    args = parser.parse_args()
    cpu_slice(args.shared).to_csv(args.out, index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
