"""Small problems whose optimum is worked out by hand in the comments."""

from __future__ import annotations

import pytest

import flexibility
from tests.flexibility.factories import problem, site, zone


def _battery_problem(cycle_cost: float = 0.0) -> dict:
    battery = {
        "energy_kwh": 100,
        "power_kw": 100,
        "charge_efficiency": 0.9,
        "discharge_efficiency": 0.9,
        "soc_initial_kwh": 0,
        "cycle_cost_per_mwh": cycle_cost,
    }
    return problem(
        2,
        {"z": zone([10, 100])},
        [site("a", grid_export_limit_kw=1000, battery=battery)],
    )


def test_battery_two_prices_objective_by_hand():
    # Hour 0 at 10 $/MWh: charge 100 kW for 1 h -> SoC = 0.9 * 100 = 90 kWh, cost 100 kWh * 10 $/MWh = $1.00.
    # Hour 1 at 100 $/MWh: discharge the 90 kWh -> 90 * 0.9 = 81 kWh delivered (export at the import price),
    # revenue 81 kWh * 100 $/MWh = $8.10. Objective = 1.00 - 8.10 = -7.10; baseline (idle) costs 0.
    r = flexibility.solve(_battery_problem())
    assert r.status == "optimal"
    assert r.objective == pytest.approx(-7.10, abs=1e-9)
    s = r.sites["a"]
    assert s.battery_kw.tolist() == pytest.approx([100.0, -81.0])
    assert s.soc_kwh.tolist() == pytest.approx([90.0, 0.0])
    assert s.grid_kw.tolist() == pytest.approx([100.0, -81.0])
    assert r.baseline_cost["energy"] == 0.0


def test_battery_cycle_cost_by_hand():
    # Same schedule (still profitable): degradation = 5 $/MWh * 81 kWh discharged = $0.405,
    # objective = -7.10 + 0.405 = -6.695.
    r = flexibility.solve(_battery_problem(cycle_cost=5.0))
    assert r.cost["degradation"] == pytest.approx(0.405, abs=1e-9)
    assert r.objective == pytest.approx(-6.695, abs=1e-9)


def test_battery_idles_when_spread_does_not_cover_losses():
    # 90 * 0.9 = 81 % round trip: buying at 10 and selling at 12 loses money (12 * 0.81 < 10), so it idles.
    p = _battery_problem()
    p["zones"]["z"]["price_per_mwh"] = [10, 12]
    r = flexibility.solve(p)
    assert r.objective == pytest.approx(0.0, abs=1e-9)
    assert max(abs(v) for v in r.sites["a"].battery_kw) < 1e-6


def _job_problem(prices, delay, max_kw=None, pue=1.0):
    job = {"id": "job", "baseline_kw": [10, 0, 0], "max_delay_steps": delay}
    if max_kw is not None:
        job["max_kw"] = max_kw
    return problem(3, {"z": zone(prices)}, [site("a", pue=pue, workloads=[job])])


def test_deferrable_job_moves_to_cheap_later_hour():
    # 10 kWh arrive in hour 0 at 100 $/MWh (baseline cost $1.00); hour 1 costs 10 $/MWh and is within the
    # 1-step delay, so all 10 kWh run there: $0.10, savings 90 %.
    r = flexibility.solve(_job_problem([100, 10, 50], delay=1))
    assert r.sites["a"].workloads["job"].served_kw.tolist() == pytest.approx([0, 10, 0], abs=1e-9)
    assert r.objective == pytest.approx(0.10, abs=1e-9)
    assert sum(r.baseline_cost.values()) == pytest.approx(1.00, abs=1e-12)
    assert r.savings_pct == pytest.approx(90.0, abs=1e-7)


def test_deferrable_job_respects_max_kw_and_pue():
    # max_kw = 5 caps the cheap hour: 5 kW at 10 $/MWh and 5 kW at 50 $/MWh (delay 2 allows hour 2);
    # PUE 1.5 scales grid energy: 1.5 * (5 * 10 + 5 * 50) / 1000 = $0.45.
    r = flexibility.solve(_job_problem([100, 10, 50], delay=2, max_kw=5, pue=1.5))
    assert r.sites["a"].workloads["job"].served_kw.tolist() == pytest.approx([0, 5, 5], abs=1e-9)
    assert r.objective == pytest.approx(0.45, abs=1e-9)
    assert r.sites["a"].grid_kw.tolist() == pytest.approx([0, 7.5, 7.5], abs=1e-9)


def test_deferrable_job_cannot_run_before_it_arrives():
    # Hour 0 is the cheapest but the work arrives in hour 1 and must finish by hour 2: it runs at hour 2 (price 50)
    # rather than hour 1 (price 80); it can never be pulled forward into hour 0.
    job = {"id": "job", "baseline_kw": [0, 10, 0], "max_delay_steps": 1}
    r = flexibility.solve(problem(3, {"z": zone([1, 80, 50])}, [site("a", workloads=[job])]))
    assert r.sites["a"].workloads["job"].served_kw.tolist() == pytest.approx([0, 0, 10], abs=1e-9)


def test_migration_moves_work_to_cheaper_zone():
    # 50 kW of migratable work at site a (zone A, 100 $/MWh) runs at site b (zone B, 20 $/MWh, PUE 1.2):
    # grid at b = 1.2 * 50 = 60 kW for 2 h -> 120 kWh * 20 $/MWh = $2.40 (baseline 100 kWh * 100 = $10.00).
    work = {"id": "train", "baseline_kw": [50, 50], "max_delay_steps": 0, "migratable_to": ["b"]}
    p = problem(
        2,
        {"A": zone([100, 100]), "B": zone([20, 20])},
        [site("a", "A", workloads=[work]), site("b", "B", pue=1.2)],
    )
    r = flexibility.solve(p)
    assert r.objective == pytest.approx(2.40, abs=1e-9)
    assert r.sites["a"].it_kw.tolist() == pytest.approx([0, 0], abs=1e-9)
    assert r.sites["b"].it_kw.tolist() == pytest.approx([50, 50], abs=1e-9)
    assert r.sites["b"].workloads["a/train"].served_kw.tolist() == pytest.approx([50, 50], abs=1e-9)
    assert len(r.migrations) == 1
    m = r.migrations[0]
    assert (m.workload, m.from_site, m.to_site) == ("train", "a", "b")
    assert m.kw.tolist() == pytest.approx([50, 50], abs=1e-9)
    # the receiving site's import limit binds: 30 kW of grid = 25 kW of IT at PUE 1.2 can move
    p["sites"][1]["grid_import_limit_kw"] = 30
    r = flexibility.solve(p)
    assert r.migrations[0].kw.tolist() == pytest.approx([25, 25], abs=1e-9)
    assert r.sites["a"].it_kw.tolist() == pytest.approx([25, 25], abs=1e-9)


def test_commitment_delivered_when_cheaper_than_penalty():
    # Baseline grid 10 kW in hours 0-1. The event asks for 10 kW less in hour 0; deferring the job to hour 1
    # (delay 1, max_kw 20) delivers it at no energy cost, so no shortfall and no penalty.
    job = {"id": "job", "baseline_kw": [10, 10], "max_delay_steps": 1, "max_kw": 20}
    p = problem(
        2,
        {"z": zone([50, 50])},
        [site("a", workloads=[job])],
        commitments=[{"id": "ev", "sites": "all", "start_step": 0, "end_step": 1, "reduction_kw": 10,
                      "shortfall_penalty_per_mwh": 1000}],
    )  # fmt: skip
    r = flexibility.solve(p)
    assert r.commitments["ev"].delivered_kw.tolist() == pytest.approx([10.0], abs=1e-9)
    assert r.commitments["ev"].shortfall_kwh == pytest.approx(0.0, abs=1e-9)
    assert r.cost["shortfall_penalty"] == pytest.approx(0.0, abs=1e-9)
    # the baseline delivers nothing: 10 kWh short at 1000 $/MWh = $10 penalty in the baseline cost
    assert r.baseline_cost["shortfall_penalty"] == pytest.approx(10.0, abs=1e-12)


def test_commitment_shortfall_is_penalised():
    # Only 10 kW can be shed in hour 0 but 25 kW are asked: 15 kWh short * 1000 $/MWh = $15.00 penalty.
    job = {"id": "job", "baseline_kw": [10, 10], "max_delay_steps": 1, "max_kw": 20}
    p = problem(
        2,
        {"z": zone([50, 50])},
        [site("a", workloads=[job])],
        commitments=[{"id": "ev", "sites": ["a"], "start_step": 0, "end_step": 1, "reduction_kw": 25,
                      "shortfall_penalty_per_mwh": 1000}],
    )  # fmt: skip
    r = flexibility.solve(p)
    assert r.commitments["ev"].shortfall_kwh == pytest.approx(15.0, abs=1e-9)
    assert r.cost["shortfall_penalty"] == pytest.approx(15.0, abs=1e-9)
    # energy: 20 kWh at 50 $/MWh = $1.00, same as baseline
    assert r.cost["energy"] == pytest.approx(1.0, abs=1e-9)


def test_carbon_price_and_emissions_count_import_only():
    # PV 30 kW exported in hour 0 (export limit 30, no load); 10 kW load in hour 1 imported at 400 g/kWh.
    # emissions = 10 kWh * 400 g / 1000 = 4 kg; carbon cost = 100 $/t * 4 kg / 1000 = $0.40;
    # energy = 10 kWh * 50 $/MWh - 30 kWh * 20 $/MWh = 0.50 - 0.60 = -$0.10.
    p = problem(
        2,
        {"z": zone([50, 50], export_price_per_mwh=[20, 20], carbon_g_per_kwh=[300, 400])},
        [
            site(
                "a", grid_export_limit_kw=30, pv_kw=[30, 0], workloads=[{"id": "inf", "baseline_kw": [0, 10]}]
            )
        ],
        carbon_price_per_tonne=100,
    )
    r = flexibility.solve(p)
    assert r.emissions_kg == pytest.approx(4.0, abs=1e-9)
    assert r.cost["carbon"] == pytest.approx(0.40, abs=1e-9)
    assert r.cost["energy"] == pytest.approx(-0.10, abs=1e-9)
    assert r.baseline_emissions_kg == pytest.approx(4.0, abs=1e-9)


def test_commitment_with_an_absolute_grid_target():
    # Baseline grid 13 kW (a 3 kW fixed load and a 10 kW job deferrable by one hour). The target is absolute:
    # at most 2 kW of grid in hour 0 (a settlement baseline minus the award), whatever the LP's own baseline.
    # Deferring the whole job leaves 3 kW: 1 kWh short of the target; delivered (vs the LP baseline) 10 kW.
    job = {"id": "job", "baseline_kw": [10, 10], "max_delay_steps": 1, "max_kw": 20}
    fixed = {"id": "fixed", "baseline_kw": [3, 3]}
    p = problem(
        2,
        {"z": zone([50, 50])},
        [site("a", workloads=[job, fixed])],
        commitments=[{"id": "ev", "sites": "all", "start_step": 0, "end_step": 1, "reduction_kw": 5,
                      "shortfall_penalty_per_mwh": 1000, "max_grid_kw": [2]}],
    )  # fmt: skip
    r = flexibility.solve(p)
    assert r.sites["a"].grid_kw[0] == pytest.approx(3.0, abs=1e-9)
    assert r.commitments["ev"].delivered_kw.tolist() == pytest.approx([10.0], abs=1e-9)
    assert r.commitments["ev"].shortfall_kwh == pytest.approx(1.0, abs=1e-9)
    assert r.cost["shortfall_penalty"] == pytest.approx(1.0, abs=1e-9)
    # the baseline is 11 kW above the target: 11 kWh at 1000 $/MWh
    assert r.baseline_cost["shortfall_penalty"] == pytest.approx(11.0, abs=1e-9)
    again = flexibility.Problem.from_json(flexibility.Problem.from_json(p).to_json())
    assert again.commitments[0].max_grid_kw.tolist() == [2.0]
