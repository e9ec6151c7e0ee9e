"""Server time of the dashboard's site page over a year of 15-minute data (issue 9: ≤ 300 ms).

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/dashboard/site_page.py
    .venv/bin/python benchmarks/dashboard/site_page.py --days 30 --runs 5      # smaller, SQLite works too

Seeds, inside one transaction that is rolled back at the end (nothing is left behind), a throwaway aggregator,
owner and active site with a battery and a PV array, and ``--days`` of 15-minute data ending 2021-12-31: IT
load, metered grid power, PV and state of charge (4 × 35 040 points for a year), one day-ahead forecast run per
day for the IT load and the meter (p10/p50/p90, 2 × 35 040 values), one day-ahead schedule plan per day with
96 setpoints and an activation plan every week. Then times ``GET /sites/<pk>/?period=1y`` (and ``30d``, ``7d``) with
Django's test client, logged in as staff: the full stack (middleware, session, selectors, resampling,
templates), no network. Prints one line per figure: median, min and max over ``--runs`` requests after one
warm-up, the number of SQL queries and the size of the page. ``--compare`` also times each period with the
database aggregation of long periods switched off (``apps.dashboard.site_charts.AGGREGATE_IN_DATABASE``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Rollback(Exception):
    """Raised to undo the seeded data."""


def _seed(days: int) -> tuple[object, object]:
    import numpy as np
    import pandas as pd

    from apps.accounts.choices import OrganisationKind, Role
    from apps.accounts.models import Membership, Organisation, User
    from apps.assets.choices import EnrolmentStatus
    from apps.assets.models import Battery, PVArray, Site
    from apps.core.models import MarketZone
    from apps.core.services import market_zones_ensure
    from apps.dispatch.models import DispatchPlan, Setpoint
    from apps.forecasts.choices import RunStatus
    from apps.forecasts.models import ForecastRun, ForecastValue
    from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create

    market_zones_ensure()
    aggregator = Organisation.objects.create(
        name="bench aggregator", slug="bench-dash-agg", kind=OrganisationKind.AGGREGATOR
    )
    owner = Organisation.objects.create(name="bench owner", slug="bench-dash-owner")
    staff = User.objects.create_user(username="bench-dash-staff", password="bench-dash-pw-1")
    Membership.objects.create(user=staff, organisation=aggregator, role=Role.ADMIN)
    site = Site.objects.create(
        owner=owner,
        name="Bench DC",
        latitude=37.37,
        longitude=-121.92,
        timezone="America/Los_Angeles",
        market_zone=MarketZone.objects.get(code="CAISO_NP15"),
        grid_import_limit_kw=20000,
        pue=1.3,
        it_capacity_kw=10000,
        enrolment_status=EnrolmentStatus.ACTIVE,
    )
    battery = Battery.objects.create(
        site=site,
        name="UPS",
        energy_capacity_kwh=4000,
        max_charge_kw=2000,
        max_discharge_kw=2000,
        soc_min_kwh=400,
        soc_max_kwh=4000,
        backup_reserve_kwh=1000,
    )
    array = PVArray.objects.create(site=site, name="Roof", dc_capacity_kwp=800, ac_limit_kw=667, tilt_deg=20)

    end = pd.Timestamp("2022-01-01", tz="UTC")
    index = pd.date_range(end - pd.Timedelta(days=days), end, freq="15min", inclusive="left")
    n = len(index)
    rng = np.random.default_rng(9)
    hour = (index.hour + index.minute / 60).to_numpy()
    it = 8000 + 1200 * np.sin((hour - 9) / 24 * 2 * np.pi) + 200 * rng.standard_normal(n)
    pv = np.clip(600 * np.sin((hour - 14) / 12 * np.pi), 0, None)
    soc = 2500 + 1000 * np.sin(np.arange(n) / 96 * 2 * np.pi)
    grid = 1.3 * it - pv
    for owner_obj, quantity, values in (
        (site, "it_power_kw", it),
        (site, "site_power_kw", grid),
        (array, "pv_power_kw", pv),
        (battery, "soc_kwh", soc),
    ):
        series, _ = timeseries_get_or_create(owner=owner_obj, quantity=quantity, resolution="PT15M")
        datapoints_ingest(series=series, rows=pd.Series(values, index=index))
        if quantity in ("it_power_kw", "site_power_kw"):
            runs = ForecastRun.objects.bulk_create(
                ForecastRun(
                    series=series,
                    model_name="bench",
                    model_version="1",
                    issued_at=day - pd.Timedelta(hours=14),
                    horizon_start=day,
                    horizon_end=day + pd.Timedelta(days=1),
                    resolution_s=900,
                    status=RunStatus.SUCCEEDED,
                )
                for day in pd.date_range(index[0], end, freq="D", inclusive="left")
            )
            p50 = values + 300 * rng.standard_normal(n)
            ForecastValue.objects.bulk_create(
                (
                    ForecastValue(run=runs[i // 96], start=t, p10=v - 500, p50=v, p90=v + 500)
                    for i, (t, v) in enumerate(zip(index.to_pydatetime(), p50, strict=True))
                ),
                batch_size=5000,
            )
    days_index = pd.date_range(index[0], end, freq="D", inclusive="left")
    plans = DispatchPlan.objects.bulk_create(
        DispatchPlan(
            kind="schedule",
            version=1,
            requested_kw=0,
            planned_kw=0,
            valid_from=day,
            valid_to=day + pd.Timedelta(days=1),
        )
        for day in days_index
    )
    Setpoint.objects.bulk_create(
        (
            Setpoint(
                plan=plans[i // 96],
                site=site,
                start=t,
                end=t + pd.Timedelta(minutes=15),
                baseline_kw=float(g),
                target_kw=float(g) - 500,
                battery_kw=200.0 if i % 96 < 24 else -200.0,
            )
            for i, (t, g) in enumerate(zip(index.to_pydatetime(), grid, strict=True))
        ),
        batch_size=5000,
    )
    for week_start in days_index[::7]:
        start = week_start + pd.Timedelta(hours=21)
        plan = DispatchPlan.objects.create(
            kind="activation", version=1, requested_kw=2000, planned_kw=2000, valid_from=start
        )
        Setpoint.objects.bulk_create(
            Setpoint(
                plan=plan,
                site=site,
                start=t,
                end=t + pd.Timedelta(minutes=15),
                baseline_kw=10000,
                target_kw=8000,
                battery_kw=-1000,
            )
            for t in pd.date_range(start, periods=8, freq="15min")
        )
    return staff, site


def _time(client, url: str, runs: int) -> tuple[list[float], int, int]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200  # warm-up: templates, URL resolver, first connection work
    samples = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return samples, len(queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365, help="days of 15-minute data to seed (default 365)")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per page (default 10)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also time each page with the database aggregation off (every interval read, resampled in Python)",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.local")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; {os.cpu_count()} CPUs, load average {load}"
    )
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            staff, site = _seed(args.days)
            print(f"seeded {args.days} days of 15-minute data in {time.perf_counter() - t0:.1f} s")
            client = Client()
            client.force_login(staff)
            from apps.dashboard import site_charts

            modes = (True, False) if args.compare else (True,)
            for period in ("1y", "30d", "7d"):
                url = f"/sites/{site.pk}/?period={period}"  # type: ignore[attr-defined]
                for aggregate in modes:
                    site_charts.AGGREGATE_IN_DATABASE = aggregate
                    samples, queries, size = _time(client, url, args.runs)
                    mode = "" if aggregate else " no db aggregation"
                    print(
                        f"site page {period:>3} (staff{mode})   median {statistics.median(samples):7.1f} ms  "
                        f"min {min(samples):7.1f} ms  max {max(samples):7.1f} ms  ({args.runs} runs, "
                        f"{queries} queries, {size / 1024:.0f} KiB)"
                    )
                site_charts.AGGREGATE_IN_DATABASE = True
            raise Rollback
    except Rollback:
        print("rolled back: nothing was left in the database")


if __name__ == "__main__":
    main()
