"""The workload-aware IT demand forecast: known jobs' power on the grid; known work plus the new arrivals'
time-of-day quantiles where a site reports its jobs; today's model elsewhere; the run the selectors read."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from apps.forecasts.selectors import forecast_known_at
from apps.forecasts.services import RunSpec, forecast_run_store
from apps.forecasts.workload_aware import WORKLOAD_AWARE_MODEL, known_jobs_kw, workload_aware_store
from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity, StateSource
from apps.telemetry.services import datapoints_ingest, site_state_report, timeseries_get_or_create
from tests.factories import SiteFactory, WorkloadClassFactory

pytestmark = pytest.mark.django_db

ISSUE = pd.Timestamp("2022-09-10 10:00", tz="UTC")
DAY = pd.date_range(ISSUE + pd.Timedelta(hours=14), periods=96, freq="15min")
JOB_KW = 200.0
BASE_KW = 300.0


def _job(start: pd.Timestamp) -> pd.Timestamp:
    """The known job of the state at ``start``: submitted an hour before, running 20 h."""
    return start - pd.Timedelta(hours=1)


def test_known_jobs_kw_by_power_and_by_energy() -> None:
    index = pd.date_range("2022-09-01", periods=12, freq="15min", tz="UTC")
    jobs = [
        SimpleNamespace(power_kw=100.0, duration_h=1.0, energy_kwh=100.0, earliest_start=index[2]),
        SimpleNamespace(power_kw=None, duration_h=None, energy_kwh=50.0, earliest_start=index[4]),
    ]
    kw = known_jobs_kw(jobs, index)
    np.testing.assert_allclose(kw, [0, 0, 100, 100, 150, 150, 50, 50, 0, 0, 0, 0])
    assert known_jobs_kw([], index).tolist() == [0.0] * 12


def _world(*, with_jobs: bool):  # type: ignore[no-untyped-def]
    site = SiteFactory(enrolment_status="active")
    WorkloadClassFactory(site=site, name="training", max_delay_h=8.0)
    series, _ = timeseries_get_or_create(
        owner=site, quantity=Quantity.IT_POWER_KW, resolution="PT15M", name=IT_DEMAND_SERIES
    )
    grid = pd.date_range(ISSUE - pd.Timedelta(days=32), ISSUE, freq="15min", inclusive="left")
    demand = pd.Series(BASE_KW, index=grid)
    for d in range(0, 31):
        at = ISSUE - pd.Timedelta(days=d)
        submitted = _job(at)
        rows = [
            {
                "job_id": f"job-{d}",
                "workload_class": "training",
                "power_kw": JOB_KW,
                "duration_h": 20.0,
                "submitted_at": submitted.to_pydatetime(),
            }
        ]
        site_state_report(
            principal=None,
            site=site,
            data={
                "reported_at": at.to_pydatetime(),
                "it_load_kw": 1.0,
                "known_jobs": rows if with_jobs else [],
            },
            source=StateSource.AGENT,
        )
        running = (grid >= submitted) & (grid < submitted + pd.Timedelta(hours=20))
        demand[running] += JOB_KW
    datapoints_ingest(series=series, rows=demand)
    fallback = forecast_run_store(
        series=series,
        spec=RunSpec(model_name="load-gbm", model_version="1", issued_at=ISSUE.to_pydatetime()),
        values=pd.DataFrame({"p10": 1.0, "p50": 2.0, "p90": 3.0}, index=DAY),
    )
    return series, fallback


def test_known_work_plus_new_arrivals_is_stored_and_read(settings) -> None:  # type: ignore[no-untyped-def]
    series, fallback = _world(with_jobs=True)
    run = workload_aware_store(fallback=fallback)
    assert run.model_name == WORKLOAD_AWARE_MODEL and run.pk != fallback.pk
    assert run.metrics["known_jobs"] == 1 and run.metrics["fallback_model"] == "load-gbm"
    read = forecast_known_at(
        series=series,
        start=DAY[0].to_pydatetime(),
        end=(DAY[-1] + timedelta(minutes=15)).to_pydatetime(),
        belief_time=ISSUE.to_pydatetime(),
    )
    known = known_jobs_kw(
        [SimpleNamespace(power_kw=JOB_KW, duration_h=20.0, energy_kwh=0.0, earliest_start=_job(ISSUE))], DAY
    )
    assert known.max() == JOB_KW and known.min() == 0.0  # the job ends inside the day
    # the new arrivals are what was not known at issue, every past day alike (p10 = p50 = p90): the 300 kW
    # and the job submitted at 09:00 of the target day
    fresh = BASE_KW + JOB_KW * (DAY.hour >= 9)
    np.testing.assert_allclose(read["p50"].to_numpy(), known + fresh, atol=1e-6)
    np.testing.assert_allclose(read["p10"].to_numpy(), read["p90"].to_numpy(), atol=1e-6)


def test_without_known_jobs_the_model_run_stands() -> None:
    series, fallback = _world(with_jobs=False)
    assert workload_aware_store(fallback=fallback).pk == fallback.pk
    read = forecast_known_at(
        series=series,
        start=DAY[0].to_pydatetime(),
        end=DAY[-1].to_pydatetime(),
        belief_time=ISSUE.to_pydatetime(),
    )
    assert set(read["p50"]) == {2.0}


def test_only_a_sites_it_demand_series_is_workload_aware() -> None:
    series, _ = _world(with_jobs=True)
    served, _ = timeseries_get_or_create(owner=series.site, quantity=Quantity.IT_POWER_KW, resolution="PT15M")
    other = forecast_run_store(
        series=served,
        spec=RunSpec(model_name="load-gbm", model_version="1", issued_at=ISSUE.to_pydatetime()),
        values=pd.DataFrame({"p10": 1.0, "p50": 2.0, "p90": 3.0}, index=DAY),
    )
    assert workload_aware_store(fallback=other).pk == other.pk
