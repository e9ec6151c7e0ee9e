"""Long periods on the site page are aggregated by the database: the bucketed selectors (telemetry, forecasts,
setpoints) give the same figures as grouping their interval-level counterparts, including the belief-time and
plan-precedence choices, and the site page's charts are the same with and without database aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.principal import principal_for
from apps.assets.choices import EnrolmentStatus
from apps.dashboard import site_charts
from apps.dispatch.models import DispatchPlan, Setpoint
from apps.dispatch.selectors import setpoint_frame, setpoint_frame_bucketed
from apps.forecasts.choices import RunKind, RunStatus
from apps.forecasts.models import ForecastRun, ForecastValue
from apps.forecasts.selectors import forecast_bands_bucketed, forecast_known_at
from apps.telemetry.selectors import datapoints_bucketed, datapoints_series
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create
from tests.conftest import World
from tests.factories import BatteryFactory, SiteFactory

END = pd.Timestamp("2024-03-01", tz="UTC")
DAYS = 40
STEP = pd.Timedelta(minutes=15)


def _runs(series, index: pd.DatetimeIndex, values: np.ndarray, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    """Per day a day-ahead run issued 14 h before and an intraday run issued at the same time for the day's
    second half (the day-ahead must win the tie), plus a later intraday run for the last 6 h of each day (it
    must win), and a failed run that must be ignored."""
    for day in pd.date_range(index[0], END, freq="D", inclusive="left"):
        issued = day - pd.Timedelta(hours=14)
        mask = (index >= day) & (index < day + pd.Timedelta(days=1))
        for kind, status, issue, window, bias in (
            (RunKind.DAY_AHEAD, RunStatus.SUCCEEDED, issued, (0, 24), 0.0),
            (RunKind.INTRADAY, RunStatus.SUCCEEDED, issued, (12, 24), 900.0),
            (RunKind.INTRADAY, RunStatus.SUCCEEDED, day + pd.Timedelta(hours=17), (18, 24), -400.0),
            (RunKind.DAY_AHEAD, RunStatus.FAILED, day, (0, 24), 5000.0),
        ):
            a, b = day + pd.Timedelta(hours=window[0]), day + pd.Timedelta(hours=window[1])
            run = ForecastRun.objects.create(
                series=series,
                kind=kind,
                model_name="t",
                model_version="1",
                issued_at=issue,
                horizon_start=a,
                horizon_end=b,
                resolution_s=900,
                status=status,
            )
            sel = mask & (index >= a) & (index < b)
            p50 = values[sel] + bias + 50 * rng.standard_normal(sel.sum())
            ForecastValue.objects.bulk_create(
                ForecastValue(run=run, start=t, p10=v - 300, p50=v, p90=v + 300)
                for t, v in zip(index[sel].to_pydatetime(), p50, strict=True)
            )


def _setpoints(site, index: pd.DatetimeIndex, grid: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """A day-ahead schedule per day; every 5th day an activation 18:00–20:00 with a superseded version 1 and
    a newer version 2 (version 2 must win), and a failed activation plan that must be ignored."""
    for d, day in enumerate(pd.date_range(index[0], END, freq="D", inclusive="left")):
        baseline = grid[d * 96 : (d + 1) * 96].astype(float)
        battery = np.where(np.arange(96) < 48, 50.0, -50.0)
        _plan(site, "schedule", 1, "active", day, baseline, baseline - 100, battery)
        if d % 5:
            continue
        event = day + pd.Timedelta(hours=18)
        for version, status, target in ((1, "superseded", 111.0), (2, "active", 222.0), (3, "failed", 999.0)):
            _plan(
                site,
                "activation",
                version,
                status,
                event,
                np.full(8, 5000.0),
                np.full(8, target),
                np.full(8, -9.0),
            )


def _plan(site, kind, version, status, valid_from, baseline_kw, target_kw, battery_kw) -> None:  # type: ignore[no-untyped-def]
    """A dispatch plan with one setpoint per 15-minute step from ``valid_from`` (arrays of equal length, kW)."""
    planned = 0 if kind == "schedule" else 1
    plan = DispatchPlan.objects.create(
        kind=kind,
        version=version,
        status=status,
        requested_kw=planned,
        planned_kw=planned,
        valid_from=valid_from,
    )
    starts = pd.date_range(valid_from, periods=len(baseline_kw), freq=STEP)
    Setpoint.objects.bulk_create(
        Setpoint(plan=plan, site=site, start=t, end=t + STEP, baseline_kw=b, target_kw=g, battery_kw=x)
        for t, b, g, x in zip(
            starts, baseline_kw.tolist(), target_kw.tolist(), battery_kw.tolist(), strict=True
        )
    )


@pytest.fixture
def seeded(world: World):  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE)
    battery = BatteryFactory(site=site)
    index = pd.date_range(END - pd.Timedelta(days=DAYS), END, freq=STEP, inclusive="left")
    rng = np.random.default_rng(4)
    hour = (index.hour + index.minute / 60).to_numpy()
    it = 6000 + 900 * np.sin(hour / 24 * 2 * np.pi) + 100 * rng.standard_normal(len(index))
    keep = np.ones(len(index), dtype=bool)
    keep[500:700] = False  # a gap in the meter: buckets without points stay absent
    series = {}
    for owner, quantity, values in (
        (site, "it_power_kw", it),
        (battery, "soc_kwh", 500 + 300 * np.sin(np.arange(len(index)) / 96 * 2 * np.pi)),
    ):
        item, _ = timeseries_get_or_create(owner=owner, quantity=quantity, resolution="PT15M")
        datapoints_ingest(series=item, rows=pd.Series(values, index=index)[keep])
        series[quantity] = item
    _runs(series["it_power_kw"], index, it, rng)
    _setpoints(site, index, 1.3 * it)
    return site, series, index


@pytest.mark.parametrize("bucket_s", [3600, 86400])
def test_bucketed_points_equal_grouped_points(seeded, bucket_s: int) -> None:  # type: ignore[no-untyped-def]
    _, series, index = seeded
    start, end = index[0] + pd.Timedelta(hours=5, minutes=15), index[-1]  # edges inside buckets
    points = datapoints_series(series=series["it_power_kw"], start=start, end=end)
    expected = points.groupby(points.index.floor(f"{bucket_s}s")).agg(["mean", "min", "max", "count"])
    got = datapoints_bucketed(series=series["it_power_kw"], start=start, end=end, bucket_s=bucket_s)
    assert list(got.index) == list(expected.index)
    assert got["mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy())
    assert got["min"].to_numpy() == pytest.approx(expected["min"].to_numpy())
    assert got["max"].to_numpy() == pytest.approx(expected["max"].to_numpy())
    assert list(got["count"]) == list(expected["count"])
    assert got["count"].iloc[0] < bucket_s // 900 or bucket_s == 3600  # the first day is partial


@pytest.mark.parametrize("bucket_s", [3600, 86400])
def test_bucketed_forecasts_pick_the_same_runs(seeded, bucket_s: int) -> None:  # type: ignore[no-untyped-def]
    _, series, index = seeded
    start, end = index[0], index[-1] + STEP
    belief = END - pd.Timedelta(days=3, hours=1)  # later days only partly known
    known = forecast_known_at(series=series["it_power_kw"], start=start, end=end, belief_time=belief)
    expected = known[["p10", "p50", "p90"]].groupby(known.index.floor(f"{bucket_s}s")).mean()
    got = forecast_bands_bucketed(
        series=series["it_power_kw"], start=start, end=end, belief_time=belief, bucket_s=bucket_s
    )
    assert list(got.index) == list(expected.index) and len(got) > 0
    for column in ("p10", "p50", "p90"):
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy())


@pytest.mark.parametrize("bucket_s", [3600, 86400])
def test_bucketed_setpoints_keep_plan_precedence(world: World, seeded, bucket_s: int) -> None:  # type: ignore[no-untyped-def]
    site, _, index = seeded
    staff = principal_for(world.users["staff"])
    start, end = index[0], index[-1] + STEP
    native = setpoint_frame(principal=staff, site_id=site.pk, start=start, end=end)
    columns = ["baseline_kw", "target_kw", "battery_kw"]
    expected = native[columns].astype(float).groupby(native.index.floor(f"{bucket_s}s")).mean()
    got, activation = setpoint_frame_bucketed(
        principal=staff, site_id=site.pk, start=start, end=end, bucket_s=bucket_s
    )
    assert list(got.index) == list(expected.index)
    for column in columns:
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy())
    assert list(activation) == list(native.index[native["kind"] == "activation"])
    assert len(activation) == 8 * 8  # 8 events (every 5th of 40 days) of 8 intervals
    assert 222.0 in set(native["target_kw"]) and not {111.0, 999.0} & set(native["target_kw"])
    # Another owner sees nothing of this site's setpoints.
    other = principal_for(world.users["owner_b"])
    hidden, hidden_marks = setpoint_frame_bucketed(
        principal=other, site_id=site.pk, start=start, end=end, bucket_s=bucket_s
    )
    assert hidden.empty and len(hidden_marks) == 0


def test_bad_bucket_width_is_refused(seeded) -> None:  # type: ignore[no-untyped-def]
    _, series, index = seeded
    with pytest.raises(ValueError, match="bucket_s"):
        datapoints_bucketed(series=series["it_power_kw"], start=index[0], end=index[-1], bucket_s=0)


@pytest.mark.parametrize("period", ["30d", "1y"])
def test_site_charts_are_the_same_aggregated_in_the_database(
    world: World, seeded, monkeypatch, period: str
) -> None:  # type: ignore[no-untyped-def]
    site, _, _ = seeded
    staff = principal_for(world.users["staff"])
    if period == "30d":  # hourly buckets of 15-minute data: exercise the database path too
        monkeypatch.setattr(site_charts, "DB_AGGREGATE_MIN_INTERVALS", 2)
    with CaptureQueriesContext(connection) as queries:
        in_db = site_charts.site_charts(principal=staff, site=site, period=period)
    # On PostgreSQL one aggregating query each for the IT and SoC points (date_bin, or for hourly buckets the
    # telemetry rollup kept on ingestion), their forecasts and the setpoints; the bucketed selectors' fallback
    # elsewhere (SQLite) groups in pandas, and its charts must be the same too.
    date_bins = sum(
        "date_bin" in q["sql"] or "telemetry_datapointrollup" in q["sql"] for q in queries.captured_queries
    )
    assert date_bins == (5 if connection.vendor == "postgresql" else 0)
    monkeypatch.setattr(site_charts, "AGGREGATE_IN_DATABASE", False)
    in_python = site_charts.site_charts(principal=staff, site=site, period=period)
    for name in ("load", "grid", "battery"):
        a, b = getattr(in_db, name), getattr(in_python, name)
        assert a["step_s"] == b["step_s"] > 900 and a["t"] == b["t"]
        assert a.get("markArea") == b.get("markArea")
        assert [s["name"] for s in a["series"]] == [s["name"] for s in b["series"]]
        for sa, sb in zip(a["series"], b["series"], strict=True):
            for key in ("values", "lower", "upper"):
                if key in sb:
                    assert np.array(sa[key], dtype=float) == pytest.approx(
                        np.array(sb[key], dtype=float), abs=2e-3, nan_ok=True
                    ), (name, sb["name"], key)
    assert in_db.load["markArea"]  # the activations are shaded
