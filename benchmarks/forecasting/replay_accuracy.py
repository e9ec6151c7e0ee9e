"""Accuracy of the stored forecasts on a replay's data (issue #21): per forecast series, the stored forecast's
MAE against persistence and seasonal naive (the forecast-accuracy page's figures,
:func:`apps.dashboard.accuracy.forecast_accuracy`, as aggregator staff sees them: uncontrolled quantities only),
and the IT demand's MAE skill over seasonal naive pooled over the sites (1 − Σ MAE forecast / Σ MAE seasonal
naive; target ≥ 0.35).

Reads the database of ``DATABASE_URL`` after a replay (``manage.py replay``); it writes nothing.

    python benchmarks/forecasting/replay_accuracy.py            # the last 7 days scored
    python benchmarks/forecasting/replay_accuracy.py --small    # the last day (CI, after the one-day replay)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_SKILL = 0.35


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="score the last day only (CI)")
    parser.add_argument("--days", type=int, default=None, help="days scored (default 7, 1 with --small)")
    args = parser.parse_args()
    days = args.days or (1 if args.small else 7)
    if days < 1:
        parser.error("--days must be at least 1")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.local")
    import django

    django.setup()
    from apps.accounts.models import User
    from apps.accounts.principal import principal_for
    from apps.dashboard.accuracy import forecast_accuracy
    from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity

    staff = User.objects.filter(username="staff").first()  # the demo's aggregator staff (seed_demo)
    if staff is None:
        print("no user 'staff': run a replay first (manage.py replay)")
        return 1
    summary = forecast_accuracy(principal=principal_for(staff), days=days)
    if not summary.series:
        print("no scored forecast: run a replay first (manage.py replay)")
        return 1
    print(f"Stored forecasts vs baselines, last {days} day(s) with forecasts and actuals (MAE, series unit)")
    print(f"{'series':<52} {'model':<40} {'forecast':>10} {'persist.':>10} {'seas.naive':>10} {'skill':>7}")
    demand_mine = demand_naive = 0.0
    for r in summary.series:
        mine, naive = r.scores["forecast"].mae, r.scores["seasonal_naive"].mae
        persist = r.scores["persistence"].mae
        skill = f"{r.skill_pct / 100:.3f}" if r.skill_pct is not None else "-"
        print(f"{r.label[:52]:<52} {r.models[:40]:<40} {_f(mine)} {_f(persist)} {_f(naive)} {skill:>7}")
        if r.series.quantity == Quantity.IT_POWER_KW and r.series.name == IT_DEMAND_SERIES and mine and naive:
            demand_mine += mine
            demand_naive += naive
    if demand_naive > 0:
        skill = 1.0 - demand_mine / demand_naive
        verdict = "meets" if skill >= TARGET_SKILL else "below"
        print(
            f"IT demand MAE skill over seasonal naive (pooled over sites): {skill:.3f} ({verdict} {TARGET_SKILL})"
        )
    else:
        print("IT demand MAE skill over seasonal naive: no IT demand series scored")
    return 0


def _f(value: float | None) -> str:
    return f"{value:>10.1f}" if value is not None else f"{'-':>10}"


if __name__ == "__main__":
    raise SystemExit(main())
