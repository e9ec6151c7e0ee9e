"""The Philly jobs drive a simulated site's training class: deterministic, sized to the site, the other classes
untouched, and the agent splits the load with the jobs' power as the training class's arrivals."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from apps.assets.choices import WorkloadKind
from apps.replay.management.commands.replay import Command
from apps.simulation import arrivals
from apps.simulation.agent import SiteAgent
from apps.telemetry.choices import StateSource
from apps.telemetry.models import KnownJob
from apps.telemetry.services import site_state_report
from tests.factories import WorkloadClassFactory

INDEX = pd.date_range("2022-08-01", periods=96 * 20, freq="15min", tz="UTC")


def base_load(site) -> pd.Series:  # type: ignore[no-untyped-def]
    wave = 0.7 + 0.05 * np.sin(np.arange(len(INDEX)) * 2 * np.pi / 96)
    return pd.Series(wave * site.it_capacity_kw, index=INDEX)


@pytest.fixture
def training_sites(sites):  # type: ignore[no-untyped-def]
    for site in sites:
        WorkloadClassFactory(
            site=site, name="training", kind=WorkloadKind.TRAINING, share_pct=20, max_delay_h=8
        )
    return sites


def test_training_class_follows_the_jobs_and_the_rest_keeps_its_share(training_sites) -> None:  # type: ignore[no-untyped-def]
    site = training_sites[0]
    base = base_load(site)
    total, overrides = arrivals.with_jobs(site, base)
    training = overrides["training"]
    np.testing.assert_allclose((total - training).to_numpy(), 0.8 * base.to_numpy())
    room = 0.2 * site.it_capacity_kw
    assert training.max() <= room + 1e-6
    assert training.min() >= 0.0
    # sized: over a whole period of the tiled trace (any window of it, whatever the site's offset) the mean is
    # the class's share of the mean load, less what the cap at its room clips
    _, n_days = arrivals._period()
    flat = pd.Series(
        0.7 * site.it_capacity_kw, index=pd.date_range(INDEX[0], periods=96 * n_days, freq="15min")
    )
    whole = arrivals.with_jobs(site, flat)[1]["training"]
    assert 0.9 * 0.2 * flat.mean() <= whole.mean() <= 0.2 * flat.mean() * (1 + 1e-6)
    assert training.max() >= 0.5 * room
    assert training.std() > 0.05 * training.mean()  # the trace's shape, not a flat share
    again, _ = arrivals.with_jobs(site, base)
    pd.testing.assert_series_equal(total, again)  # deterministic


def test_sites_run_different_days_of_the_trace(training_sites) -> None:  # type: ignore[no-untyped-def]
    a, b = training_sites
    ta = arrivals.training_arrivals_kw(a, base_load(a))
    tb = arrivals.training_arrivals_kw(b, base_load(b))
    assert ta is not None and tb is not None
    corr = np.corrcoef(ta / a.it_capacity_kw, tb / b.it_capacity_kw)[0, 1]
    assert corr < 0.95


def test_site_jobs_are_the_trace_tiled_with_unique_ids(training_sites) -> None:  # type: ignore[no-untyped-def]
    site = training_sites[0]
    period, n_days = arrivals._period()
    assert n_days >= 30
    end = INDEX[0] + pd.Timedelta(days=2 * n_days)
    jobs = arrivals.site_jobs(site, INDEX[0], end)
    assert jobs["job_id"].is_unique
    assert jobs["submitted"].is_monotonic_increasing
    assert jobs["submitted"].max() < end
    in_window = jobs[
        (jobs["submitted"] >= INDEX[0]) & (jobs["submitted"] < INDEX[0] + pd.Timedelta(days=n_days))
    ]
    assert len(in_window) == len(period)  # one whole period holds each trace job once


def test_without_a_training_class_the_load_is_unchanged(sites) -> None:  # type: ignore[no-untyped-def]
    base = base_load(sites[0])
    total, overrides = arrivals.with_jobs(sites[0], base)
    assert overrides == {}
    pd.testing.assert_series_equal(total, base)


def test_agent_gives_the_training_class_its_own_arrivals(training_sites) -> None:  # type: ignore[no-untyped-def]
    site = training_sites[0]
    total, overrides = arrivals.with_jobs(site, base_load(site))
    agent = SiteAgent(site, total, class_arrivals_kw=overrides)
    moment = INDEX[200].to_pydatetime()
    split = agent.arrivals_kw(moment, float(total.iloc[200]))
    assert split["training"] == pytest.approx(float(overrides["training"].iloc[200]))
    rest = float(total.iloc[200]) - split["training"]
    assert split["inference"] == pytest.approx(rest * 40 / 80)
    assert split["batch"] == pytest.approx(rest * 40 / 80)
    plain = SiteAgent(site, total).arrivals_kw(moment, 1000.0)
    assert plain == pytest.approx({"inference": 400.0, "batch": 400.0, "training": 200.0})


def test_replay_command_runs_jobs_by_default_and_no_jobs_turns_them_off() -> None:
    parser = Command().create_parser("manage.py", "replay")
    assert parser.parse_args([]).jobs is True
    assert parser.parse_args(["--no-jobs"]).jobs is False


def test_the_site_reports_its_running_jobs_as_known_jobs(training_sites) -> None:  # type: ignore[no-untyped-def]
    site = training_sites[0]
    base = base_load(site)
    jobs = arrivals.known_jobs(site, base)
    now = INDEX[960].to_pydatetime()
    rows = arrivals.known_jobs_rows(jobs, now, {"training": timedelta(hours=8)})
    end = jobs["submitted"] + pd.to_timedelta(jobs["runtime_min"], unit="min")
    running = jobs[(jobs["submitted"] <= now) & (end > now)]
    assert len(rows) == len(running) > 0
    # the jobs known now carry the training class's power now (before its clipping at the room)
    total_kw = sum(r["power_kw"] for r in rows)
    training = arrivals.training_arrivals_kw(site, base)
    assert training is not None
    assert total_kw == pytest.approx(float(training.iloc[960]), rel=0.05) or float(
        training.iloc[960]
    ) == pytest.approx(0.2 * site.it_capacity_kw)
    state = site_state_report(
        principal=None,
        site=site,
        data={"reported_at": now, "it_load_kw": 1.0, "known_jobs": rows},
        source=StateSource.AGENT,
    )
    assert KnownJob.objects.filter(state=state).count() == len(rows)
    row = rows[0]
    assert row["deadline"] == row["submitted_at"] + timedelta(hours=row["duration_h"] + 8)
