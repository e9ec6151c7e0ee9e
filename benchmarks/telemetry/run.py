"""Time-series store benchmarks (issue 3): a thin wrapper around ``manage.py bench_telemetry``.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/telemetry/run.py
    .venv/bin/python benchmarks/telemetry/run.py --small            # CI size (20 000 rows)
    .venv/bin/python benchmarks/telemetry/run.py --rows 1000000 --rest-rows 1000000

Prints rows/s of bulk ingestion through the service and the REST endpoint, and the time to read one
series-year of 15-minute data (35 040 points) into pandas. Needs a migrated database; creates and removes its
own throwaway organisation, site and series. See README.md for the figures and how they were obtained.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "bench_telemetry", *sys.argv[1:]])


if __name__ == "__main__":
    main()
