"""The portfolio problem: inputs from forecasts, telemetry or honest nominal fallbacks, solvable by flexibility/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import flexibility
from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.forecasts.services import RunSpec, forecast_run_store
from apps.markets.portfolio import NOMINAL_IT_UTILISATION, portfolio_problem
from apps.markets.workloads import DEADLINE_GUARD_STEPS
from apps.telemetry.services import datapoints_ingest
from tests.factories import (
    BatteryFactory,
    SiteFactory,
    TimeSeriesFactory,
    WorkloadClassFactory,
    ZoneSeriesFactory,
    zone,
)

START = datetime(2022, 9, 6, 0, tzinfo=UTC)


@pytest.fixture
def two_sites(db):  # type: ignore[no-untyped-def]
    a = SiteFactory(it_capacity_kw=1000, enrolment_status=EnrolmentStatus.ACTIVE)
    b = SiteFactory(
        owner=a.owner, it_capacity_kw=800, market_zone=zone("ERCOT_HUB"), enrolment_status="active"
    )
    WorkloadClassFactory(
        site=a, name="inference", kind=WorkloadKind.INFERENCE, share_pct=40, max_delay_h=None
    )
    training = WorkloadClassFactory(site=a, name="training", share_pct=35, max_delay_h=4)
    training.migratable_to.set([b])
    BatteryFactory(
        site=a,
        energy_capacity_kwh=400,
        max_charge_kw=200,
        max_discharge_kw=200,
        soc_min_kwh=40,
        soc_max_kwh=400,
        backup_reserve_kwh=100,
    )
    return a, b


def test_nominal_fallbacks_are_labelled_and_solvable(two_sites) -> None:  # type: ignore[no-untyped-def]
    a, b = two_sites
    built = portfolio_problem(sites=[a], start=START, steps=16, belief_time=START - timedelta(hours=1))
    ids = [s.id for s in built.problem.sites]
    assert ids == [str(a.pk), str(b.pk)]  # the migration target joins the problem
    site_a = built.problem.sites[0]
    it_total = sum(w.baseline_kw for w in site_a.workloads)
    assert np.allclose(it_total, NOMINAL_IT_UTILISATION * 1000)
    assert {w.id.split(":")[1] for w in site_a.workloads} == {"inference", "training", "other"}
    training = next(w for w in site_a.workloads if w.id.endswith("training"))
    # 4 h = 16 steps, less the step the work arrives in (its deadline counts from that step's start) and the
    # deadline guard's slack
    assert training.max_delay_steps == 15 - DEADLINE_GUARD_STEPS and training.migratable_to == (str(b.pk),)
    assert built.sources[f"site:{a.pk}:it_load"] == "nominal"
    battery = site_a.batteries[0]
    assert battery.soc_initial_kwh == pytest.approx((100 + 400) / 2)
    result = flexibility.solve(built.problem)
    assert result.status == "optimal"


def test_forecast_quantile_and_real_prices_are_used(two_sites) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_sites
    it_series = TimeSeriesFactory(site=a)
    index = pd.date_range(START, periods=8, freq="15min", tz="UTC")
    forecast_run_store(
        series=it_series,
        spec=RunSpec("gbm", "1", START - timedelta(hours=14)),
        values=pd.DataFrame({"p10": 500.0, "p50": 600.0, "p90": 700.0}, index=index),
    )
    prices = ZoneSeriesFactory()
    datapoints_ingest(
        series=prices, rows=pd.Series([100.0, 101.0], index=pd.date_range(START, periods=2, freq="h"))
    )
    built = portfolio_problem(
        sites=[a],
        start=START,
        steps=8,
        belief_time=START,
        load_quantile="p10",
        include_migration_targets=False,
    )
    site_a = built.problem.sites[0]
    assert np.allclose(sum(w.baseline_kw for w in site_a.workloads), 500.0)
    assert built.sources[f"site:{a.pk}:it_load"].startswith("forecast@")
    price = built.problem.zones["CAISO_NP15"].price_per_mwh
    assert list(price) == [100.0] * 4 + [101.0] * 4


def test_bad_start_refused(two_sites) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_sites
    with pytest.raises(ValueError, match="aligned"):
        portfolio_problem(sites=[a], start=START + timedelta(minutes=7), steps=4, belief_time=START)
    with pytest.raises(ValueError, match="at least one site"):
        portfolio_problem(sites=[], start=START, steps=4, belief_time=START)


def test_horizon_starting_inside_an_hour_holds_that_hours_price(two_sites) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_sites
    prices = ZoneSeriesFactory()
    datapoints_ingest(
        series=prices, rows=pd.Series([50.0, 100.0], index=pd.date_range(START, periods=2, freq="h"))
    )
    built = portfolio_problem(
        sites=[a],
        start=START + timedelta(minutes=15),
        steps=4,
        belief_time=START,
        include_migration_targets=False,
    )
    assert list(built.problem.zones["CAISO_NP15"].price_per_mwh) == [50.0, 50.0, 50.0, 100.0]


def test_every_declared_workload_constraint_and_the_live_queue_reach_the_lp(two_sites) -> None:  # type: ignore[no-untyped-def]
    """min_power_fraction, ramp, migration overhead and lead time are passed on, queued work enters with its
    deadlines (rounded up to a step; past deadlines due at once), and the live SoC replaces the metered one."""
    from types import SimpleNamespace

    a, _ = two_sites
    training = a.workload_classes.get(name="training")
    training.min_power_fraction = 0.3
    training.ramp_kw_per_min = 20.0
    training.migration_overhead_kwh_per_kwh = 0.05
    training.migration_lead_time_h = 0.4  # 24 min: two 15-minute steps
    training.save()
    battery = a.batteries.get()
    state = SimpleNamespace(
        reported_at=START,
        battery_soc_kwh={battery.pk: 333.0},
        queue=(
            SimpleNamespace(
                workload_class_id=training.pk, energy_kwh=50.0, deadline=START + timedelta(minutes=40)
            ),
            SimpleNamespace(
                workload_class_id=training.pk, energy_kwh=5.0, deadline=START - timedelta(hours=1)
            ),
        ),
    )
    built = portfolio_problem(
        sites=[a],
        start=START,
        steps=16,
        belief_time=START,
        live_states={a.pk: state},
        lateness_penalty_per_mwh=1e6,
    )
    site_a = built.problem.sites[0]
    w = next(w for w in site_a.workloads if w.id.endswith("training"))
    assert (w.min_power_fraction, w.ramp_kw_per_min) == (0.3, 20.0)
    assert (w.migration_overhead, w.migration_lead_steps) == (0.05, 2)
    guard = DEADLINE_GUARD_STEPS
    assert [(q.energy_kwh, q.due_step) for q in w.queue] == [(50.0, 3 - guard), (5.0, -4 - guard)]
    assert site_a.batteries[0].soc_initial_kwh == 333.0
    assert built.problem.lateness_penalty_per_mwh == 1e6
    result = flexibility.solve(built.problem)
    served = result.sites[str(a.pk)].workloads[w.id].served_kw
    assert np.all(served >= 0.3 * w.baseline_kw - 1e-6)


def test_known_jobs_of_the_live_state_set_their_class_baseline(two_sites) -> None:  # type: ignore[no-untyped-def]
    """A class whose known jobs the site reports is planned on them, not on its share of the IT forecast; the
    site's total is unchanged, and a site without known jobs keeps the shares."""
    from types import SimpleNamespace

    a, _ = two_sites
    training = a.workload_classes.get(name="training")
    job = SimpleNamespace(
        job_id="j1",
        workload_class_id=training.pk,
        workload_name="training",
        energy_kwh=400.0,
        power_kw=100.0,
        duration_h=4.0,
        submitted_at=START - timedelta(hours=1),
        earliest_start=START - timedelta(hours=1),
        deadline=None,
    )
    state = SimpleNamespace(reported_at=START, battery_soc_kwh={}, queue=(), known_jobs=(job,))
    kwargs = {"sites": [a], "start": START, "steps": 16, "belief_time": START}
    shared = portfolio_problem(**kwargs).problem.sites[0]
    known = portfolio_problem(**kwargs, live_states={a.pk: state}).problem.sites[0]

    def baseline(site, name):  # type: ignore[no-untyped-def]
        return next(w.baseline_kw for w in site.workloads if w.id.endswith(name))

    it_total = baseline(shared, "training") / 0.35
    assert np.allclose(baseline(shared, "training"), 0.35 * it_total)
    assert np.allclose(baseline(known, "training")[:12], 100.0)  # the job runs 3 more hours: 12 steps
    assert np.allclose(baseline(known, "training")[12:], 0.35 * it_total[12:])  # then new jobs at the share
    rest = it_total[:12] - 100.0
    assert np.allclose(baseline(known, "inference")[:12], rest * 0.40 / 0.65)
    assert np.allclose(
        sum(w.baseline_kw for w in known.workloads), sum(w.baseline_kw for w in shared.workloads)
    )


def test_perfect_foresight_plans_each_class_on_every_job_the_site_reported(two_sites) -> None:  # type: ignore[no-untyped-def]
    """The oracle knows the classes as they ran: each job once (however many states listed it), at its power
    for its run time, nothing refilled after it; a job reported outside the horizon does not count."""
    from apps.telemetry.choices import StateSource
    from apps.telemetry.selectors import known_jobs_reported_between
    from apps.telemetry.services import site_state_report

    a, _ = two_sites

    def job(job_id: str, start: datetime, kw: float, hours: float) -> dict:
        return {"job_id": job_id, "workload_class": "training", "power_kw": kw, "duration_h": hours,
                "submitted_at": start}  # fmt: skip

    reports = {
        START: [job("long", START, 120.0, 3.0)],
        START + timedelta(hours=1): [job("long", START, 120.0, 3.0), job("short", START + timedelta(hours=1), 60.0, 1.0)],
        START + timedelta(hours=5): [job("later", START + timedelta(hours=5), 500.0, 1.0)],  # after the horizon
    }  # fmt: skip
    for at, rows in reports.items():
        site_state_report(principal=None, site=a, data={"reported_at": at, "it_load_kw": 1.0, "known_jobs": rows},
                          source=StateSource.AGENT)  # fmt: skip
    jobs = known_jobs_reported_between(site=a, start=START, end=START + timedelta(hours=4))
    assert [j.job_id for j in jobs] == ["long", "short"]
    kwargs = {"sites": [a], "start": START, "steps": 16, "belief_time": START}
    oracle = portfolio_problem(**kwargs, perfect_foresight=True).problem.sites[0]
    training = next(w.baseline_kw for w in oracle.workloads if w.id.endswith("training"))
    expected = np.zeros(16)
    expected[:12] += 120.0
    expected[4:8] += 60.0
    assert np.allclose(training, np.minimum(expected, sum(w.baseline_kw for w in oracle.workloads)))
