"""The simulated site agent follows setpoints, rebounds afterwards, meters into telemetry and acknowledges; an
under-complying site is caught by the closed loop and re-dispatched."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from apps.core import clock
from apps.dispatch import selectors, services
from apps.dispatch.choices import DeliveryStatus
from apps.dispatch.models import DispatchPlan, Setpoint
from apps.simulation.agent import SiteAgent
from apps.telemetry.models import TimeSeries

STEP5 = timedelta(minutes=5)


@pytest.fixture
def redispatch_on(settings):  # type: ignore[no-untyped-def]
    settings.VPP_CLOSED_LOOP_REDISPATCH = True


def flat_load(site, start, kw: float) -> pd.Series:  # type: ignore[no-untyped-def]
    return pd.Series(kw, index=pd.date_range(start - timedelta(hours=2), periods=24 * 12, freq="5min"))


def run(agents, start, end) -> None:  # type: ignore[no-untyped-def]
    t = start + STEP5
    while t <= end:
        clock.replay_jump(to=t)
        for agent in agents:
            agent.step(t, STEP5)
        t += STEP5


def test_agent_follows_setpoints_and_rebounds(activation, sites) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    # the site with the largest net reduction over the window: its deferred work must come back afterwards
    site = max(sites, key=lambda s: sum(sp.reduction_kw for sp in Setpoint.objects.filter(plan=plan, site=s)))
    load_kw = 0.7 * site.it_capacity_kw
    agent = SiteAgent(site, flat_load(site, activation.start, load_kw), noise=0.0, tau_s=1.0)
    run([agent], activation.start, activation.start + timedelta(hours=3))
    metered = dict(agent.state.readings)
    baseline = site.pue * load_kw
    for sp in Setpoint.objects.filter(plan=plan, site=site):
        mean = sum(metered[sp.start + i * STEP5] for i in range(3)) / 3
        expected = baseline + (
            sp.target_kw - sp.baseline_kw
        )  # the planned deviation, applied to the real baseline
        assert mean == pytest.approx(expected, rel=0.01)
    after = [v for t, v in metered.items() if t >= activation.event.end]
    assert max(after) > baseline + 1  # deferred work comes back after the event
    assert agent.state.backlog_kwh == pytest.approx(0.0, abs=1e-6)  # and is all served within 2 hours
    assert TimeSeries.objects.filter(site=site, quantity="site_power_kw").exists()
    delivery = plan.deliveries.get(site=site)
    assert delivery.status == DeliveryStatus.ACKNOWLEDGED
    # product time (the frozen, then stepped replay clock), not the wall clock four hours earlier
    assert activation.start <= delivery.acknowledged_at <= activation.start + timedelta(hours=3)


def _under_deliver(activation, sites):  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    first = activation.start
    worst = max(sites, key=lambda s: Setpoint.objects.get(plan=plan, site=s, start=first).reduction_kw)
    agents = [
        SiteAgent(
            s,
            flat_load(s, activation.start, 0.7 * s.it_capacity_kw),
            noise=0.0,
            tau_s=1.0,
            compliance=0.2 if s == worst else 1.0,
        )
        for s in sites
    ]
    run(agents, first, first + timedelta(minutes=15))
    return services.delivery_check(activation_id=activation.pk, interval_start=first)


@pytest.mark.usefixtures("redispatch_on")
def test_under_delivering_agent_triggers_redispatch(activation, sites) -> None:  # type: ignore[no-untyped-def]
    check = _under_deliver(activation, sites)
    assert check.shortfall_kw > 100 and check.action == "re-dispatched as plan v2"
    assert DispatchPlan.objects.filter(activation=activation).count() == 2


def test_by_default_a_shortfall_is_left_to_the_intraday_replan(activation, sites) -> None:  # type: ignore[no-untyped-def]
    check = _under_deliver(activation, sites)
    assert check.shortfall_kw > 100 and check.action.endswith("corrected by the intraday re-plan")
    assert DispatchPlan.objects.filter(activation=activation).count() == 1


def test_run_site_agent_command_meters_the_site(activation, sites) -> None:  # type: ignore[no-untyped-def]
    import io

    from django.core.management import call_command

    services.dispatch_activation(activation_id=activation.pk)
    clock.replay_jump(to=activation.start + timedelta(minutes=15))
    out = io.StringIO()
    call_command("run_site_agent", "--site", sites[0].name, "--iterations", "1", stdout=out)
    assert "metered" in out.getvalue()
    series = TimeSeries.objects.get(site=sites[0], quantity="site_power_kw", name="")
    from apps.telemetry.selectors import datapoints_series

    written = datapoints_series(
        series=series, start=activation.start, end=activation.start + timedelta(hours=1)
    )
    assert len(written) == 1
    assert selectors.deliveries_pending_for(site_id=sites[0].pk).count() == 0  # acknowledged


def test_deferred_work_is_all_run_by_its_deadline(activation, sites) -> None:  # type: ignore[no-untyped-def]
    """Energy is conserved: whatever the plans say, deferred work runs by its deadline (max_delay_h = 6 h)."""
    services.dispatch_activation(activation_id=activation.pk)
    agents = [
        SiteAgent(s, flat_load(s, activation.start, 0.7 * s.it_capacity_kw), noise=0.0, tau_s=1.0)
        for s in sites
    ]
    run(agents, activation.start, activation.start + timedelta(hours=8))
    for site, agent in zip(sites, agents, strict=True):
        metered_kwh = sum(v for _, v in agent.state.readings) * 0.25
        baseline_kwh = site.pue * 0.7 * site.it_capacity_kw * 0.25 * len(agent.state.readings)
        assert agent.state.backlog_kwh == pytest.approx(0.0, abs=1e-6)
        assert metered_kwh == pytest.approx(baseline_kwh, rel=2e-3)  # battery losses only


def test_it_meter_sees_the_work_moved_away(activation, sites) -> None:  # type: ignore[no-untyped-def]
    """During a reduction the IT meter drops by the deferred or migrated work: grid = PUE × IT − battery
    discharge (no PV here), so a measured PUE stays the site's PUE."""
    from apps.telemetry.choices import IT_DEMAND_SERIES
    from apps.telemetry.selectors import datapoints_series, it_load_series, series_for

    plan = services.dispatch_activation(activation_id=activation.pk)
    site = max(sites, key=lambda s: sum(sp.reduction_kw for sp in Setpoint.objects.filter(plan=plan, site=s)))
    load_kw = 0.7 * site.it_capacity_kw
    agent = SiteAgent(site, flat_load(site, activation.start, load_kw), noise=0.0, tau_s=1.0)
    run([agent], activation.start, activation.event.end)
    grid = dict(agent.state.readings)
    it = datapoints_series(
        series=series_for(site=site, quantity="it_power_kw"), start=activation.start, end=activation.event.end
    )
    checked = 0
    for sp in Setpoint.objects.filter(plan=plan, site=site):
        if sp.reduction_kw <= 1.0:
            continue
        for i in range(3):
            t = sp.start + i * STEP5
            discharge = max(-sp.battery_kw, 0.0)
            assert site.pue * it[pd.Timestamp(t)] - grid[t] == pytest.approx(discharge, abs=0.02 * load_kw)
            assert it[pd.Timestamp(t)] < load_kw - 1.0 or discharge >= sp.reduction_kw - 1.0
            checked += 1
    assert checked
    # the demand that arrived is reported beside it, unchanged by the plan: what forecasts and plans model
    demand = datapoints_series(
        series=series_for(site=site, quantity="it_power_kw", name=IT_DEMAND_SERIES),
        start=activation.start,
        end=activation.event.end,
    )
    assert len(demand) == len(it) and demand.to_numpy() == pytest.approx(load_kw)
    assert it_load_series(site=site).name == IT_DEMAND_SERIES


def test_agent_reports_its_state_every_step(activation, sites) -> None:  # type: ignore[no-untyped-def]
    """Each step reports IT load, SoC and the backlog (as queued work of its tightest deferrable class) through
    site_state_report; the latest report equals the agent's own backlog, step by step."""
    from apps.telemetry.models import SiteState
    from apps.telemetry.selectors import site_state_latest

    plan = services.dispatch_activation(activation_id=activation.pk)
    site = max(sites, key=lambda s: sum(sp.reduction_kw for sp in Setpoint.objects.filter(plan=plan, site=s)))
    agent = SiteAgent(
        site, flat_load(site, activation.start, 0.7 * site.it_capacity_kw), noise=0.0, tau_s=1.0
    )
    assert agent.queue_class is not None and agent.queue_class.is_deferrable
    t = activation.start + STEP5
    queued = []
    for _ in range(6):
        clock.replay_jump(to=t)
        agent.step(t, STEP5)
        state = site_state_latest(site=site, at=t)
        assert state is not None and state.reported_at == t and state.source == "agent"
        assert state.queued_kwh == pytest.approx(agent.state.backlog_kwh, abs=1e-6)
        assert set(state.battery_soc_kwh) == {b.pk for b in site.batteries.all()}
        for entry in state.queue:
            assert entry.deadline == entry.arrived_at + agent.max_delay
        queued.append(state.queued_kwh)
        t += STEP5
    assert SiteState.objects.filter(site=site).count() == 6
    assert max(queued) > 0, "the activation defers work: the reported queue is not empty"


class _PlannedAgent(SiteAgent):
    """An agent whose setpoint is given, not read from the database."""

    planned = None

    def setpoint_at(self, moment):  # type: ignore[no-untyped-def]
        return self.planned


def test_work_due_now_runs_before_work_migrated_in(activation, sites) -> None:  # type: ignore[no-untyped-def]
    """DC A (4,000 kW IT) has 2,000 kW of demand (800 inference, 800 batch held back by the plan, 400 in no
    class) and a plan that fills the rest with 2,800 kW migrated in, while 2,000 kW × 5 min of its own queued
    batch work falls due: earliest deadline first, the due work runs and as much migrated-in work waits, due an
    hour later (the least slack the site can count on); nothing runs late."""
    from types import SimpleNamespace

    from apps.simulation.agent import MIGRATED_IN_SLACK

    site, start = sites[0], activation.start
    hours = STEP5.total_seconds() / 3600
    agent = _PlannedAgent(site, flat_load(site, start, 2000.0), noise=0.0, tau_s=1.0)
    due_kwh = 2000.0 * hours
    agent.state.defer(start - timedelta(hours=6), due_kwh, "batch")
    assert agent.state.queue[0].deadline == start  # due by the end of the step [start − 5 min, start)
    workloads = {
        "inference": {"baseline_kw": 800.0, "served_kw": 800.0, "migrate_kw": {}},
        "batch": {"baseline_kw": 800.0, "served_kw": 0.0, "migrate_kw": {}},
    }
    baseline_kw = site.pue * 2000.0
    migrated_in_kw = site.it_capacity_kw - 800.0 - 400.0
    agent.planned = SimpleNamespace(
        baseline_kw=baseline_kw,
        target_kw=baseline_kw + site.pue * (migrated_in_kw - 800.0),
        battery_kw=0.0,
        workloads=workloads,
    )
    clock.replay_jump(to=start)
    agent.step(start, STEP5)
    assert agent.state.late_kwh == pytest.approx(0.0)
    arrived = start - STEP5
    held = sum(e.kwh for e in agent.state.queue if e.deadline == arrived + MIGRATED_IN_SLACK)
    assert held == pytest.approx(due_kwh, rel=1e-6)  # the migrated-in work that made room for the due work
    own = sum(e.kwh for e in agent.state.queue if e.deadline == arrived + timedelta(hours=6))
    assert own == pytest.approx(800.0 * hours, rel=1e-6)  # the arriving batch work the plan held back
    # at its IT capacity
    assert agent.state.grid_kw == pytest.approx(site.pue * site.it_capacity_kw, rel=1e-3)
