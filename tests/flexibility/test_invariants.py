"""Invariants of optimal schedules on random portfolios (seeded numpy generators, several sizes)."""

from __future__ import annotations

import numpy as np
import pytest

import flexibility
from flexibility.model import cumulative_lower_kwh
from flexibility.problem import Problem
from flexibility.synthetic import synthetic_problem

TOL = 1e-5


def _random_problem(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 7))
    steps = int(rng.choice([12, 24, 48]))
    p = synthetic_problem(n, steps=steps, seed=seed, resolution="PT1H" if steps < 48 else "PT30M",
                          n_zones=int(rng.integers(1, 4)), destinations=int(rng.integers(1, 3)))  # fmt: skip
    for s in p["sites"]:
        s["grid_export_limit_kw"] = float(rng.choice([0.0, 500.0]))
        for w in s["workloads"]:
            if "max_delay_steps" in w:
                w["max_delay_steps"] = int(rng.integers(0, steps // 2))
        b = s["battery"]
        b["soc_final_min_kwh"] = None if rng.random() < 0.5 else b["soc_initial_kwh"]
        b["charge_efficiency"], b["discharge_efficiency"] = (float(x) for x in rng.uniform(0.85, 1.0, 2))
    if rng.random() < 0.7:
        start = int(rng.integers(0, steps - 2))
        p["commitments"] = [{"id": "ev", "sites": "all" if rng.random() < 0.5 else [p["sites"][0]["id"]],
                             "start_step": start, "end_step": start + 2, "reduction_kw": float(rng.uniform(0, 5000)),
                             "shortfall_penalty_per_mwh": float(rng.uniform(0, 3000))}]  # fmt: skip
    return p


SEEDS = list(range(12))


@pytest.mark.parametrize("seed", SEEDS)
def test_schedule_invariants(seed):
    data = _random_problem(seed)
    prob = Problem.from_json(data)
    r = flexibility.solve(prob)
    dt = prob.dt_hours
    T = prob.steps

    # served power per (origin, workload), summed over every site it runs at
    served: dict[tuple[str, str], np.ndarray] = {}
    for sid, sres in r.sites.items():
        for key, w in sres.workloads.items():
            origin, wid = (w.origin, key.split("/", 1)[1]) if w.origin else (sid, key)
            served[(origin, wid)] = served.get((origin, wid), np.zeros(T)) + w.served_kw
    for s in prob.sites:
        sres = r.sites[s.id]
        # grid balance: grid = import - export = PUE * IT - PV used + battery
        assert np.allclose(sres.grid_kw, sres.import_kw - sres.export_kw, atol=TOL)
        assert np.allclose(sres.grid_kw, s.pue * sres.it_kw - sres.pv_used_kw + sres.battery_kw, atol=1e-4)
        assert sres.import_kw.min() >= -TOL and sres.import_kw.max() <= s.grid_import_limit_kw + TOL
        assert sres.export_kw.min() >= -TOL and sres.export_kw.max() <= s.grid_export_limit_kw + TOL
        assert sres.pv_used_kw.min() >= -TOL and np.all(sres.pv_used_kw <= s.pv_kw + TOL)
        # IT power at a site = sum of the work served there (own and migrated in)
        assert np.allclose(sres.it_kw, sum(w.served_kw for w in sres.workloads.values()), atol=TOL)
        b = s.batteries[0]
        assert sres.soc_kwh.min() >= max(b.soc_min_kwh, b.backup_reserve_kwh) - TOL
        assert sres.soc_kwh.max() <= b.soc_upper_kwh + TOL
        if b.soc_final_min_kwh is not None:
            assert sres.soc_kwh[-1] >= b.soc_final_min_kwh - TOL
        step = np.diff(np.concatenate([[b.soc_initial_kwh], sres.soc_kwh]))
        assert np.all(
            np.abs(step) <= b.power_kw * dt * max(b.charge_efficiency, 1 / b.discharge_efficiency) + TOL
        )
        assert np.all(np.abs(sres.battery_kw) <= b.power_kw + TOL)
        for w in s.workloads:
            x = served[(s.id, w.id)]
            A = np.cumsum(w.baseline_kw) * dt
            S = np.cumsum(x) * dt
            assert x.min() >= -TOL
            if not w.flexible:
                assert np.allclose(x, w.baseline_kw, atol=TOL)
                continue
            # energy conservation: every deferred kWh is served within the horizon
            assert S[-1] == pytest.approx(A[-1], rel=1e-7, abs=1e-4)
            # never earlier than it arrives
            assert np.all(S <= A + 1e-4)
            # finished within max_delay_steps: S(t) >= A(t - d)
            lower = cumulative_lower_kwh(A[None, :], np.array([w.max_delay_steps or 0]))[0]
            assert np.all(lower - 1e-4 <= S)
            if w.max_kw is not None:
                assert x.max() <= w.max_kw + TOL
    # the objective is the sum of its terms, recomputed independently from the result's series
    energy = carbon = 0.0
    for s in prob.sites:
        z = prob.zones[s.zone]
        sres = r.sites[s.id]
        energy += (
            float(np.sum(z.price_per_mwh * sres.import_kw - z.export_price_per_mwh * sres.export_kw))
            * dt
            / 1000
        )
        carbon += prob.carbon_price_per_tonne * float(np.sum(z.carbon_g_per_kwh * sres.import_kw)) * dt / 1e6
    assert r.cost["energy"] == pytest.approx(energy, rel=1e-9, abs=1e-6)
    assert r.cost["carbon"] == pytest.approx(carbon, rel=1e-9, abs=1e-6)
    assert r.objective == pytest.approx(sum(r.cost.values()), rel=1e-12)
    # the run-as-it-arrives baseline is feasible here, so the optimum is no worse
    assert r.objective <= sum(r.baseline_cost.values()) + 1e-6
    # commitments: shortfall is what is missing from the reduction
    for c in prob.commitments:
        cr = r.commitments[c.id]
        assert cr.shortfall_kwh == pytest.approx(
            float(np.maximum(c.reduction_kw - cr.delivered_kw, 0).sum() * dt), abs=1e-4
        )


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_decomposed_equals_single_lp(seed):
    data = _random_problem(seed)
    a = flexibility.solve(data)
    b = flexibility.solve(data, decompose=False)
    assert a.objective == pytest.approx(b.objective, rel=1e-8, abs=1e-6)


def test_parallel_blocks_match_serial():
    data = synthetic_problem(16, steps=24, resolution="PT1H", seed=4)  # 4 migration groups
    serial = flexibility.solve(data)
    parallel = flexibility.solve(data, workers=2)
    assert parallel.objective == pytest.approx(serial.objective, rel=1e-9)
    for sid in serial.sites:
        assert np.allclose(parallel.sites[sid].grid_kw, serial.sites[sid].grid_kw, atol=1e-6)


def test_merging_identical_batteries_is_exact():
    eff = 0.9**0.5
    batt = {"energy_kwh": 100, "power_kw": 50, "charge_efficiency": eff, "discharge_efficiency": eff,
            "soc_initial_kwh": 40, "backup_reserve_kwh": 10, "soc_final_min_kwh": 30, "cycle_cost_per_mwh": 3}  # fmt: skip
    rng = np.random.default_rng(5)
    data = {
        "start": "2022-01-01T00:00:00Z", "resolution": "PT1H", "steps": 24,
        "zones": {"z": {"price_per_mwh": rng.uniform(10, 200, 24).tolist()}},
        "sites": [{"id": "s", "zone": "z", "grid_import_limit_kw": 120, "grid_export_limit_kw": 90,
                   "workloads": [{"id": "w", "baseline_kw": [20.0] * 24}], "batteries": [batt] * 5}],
    }  # fmt: skip
    merged = flexibility.solve(data)
    plain = flexibility.solve(data, merge_batteries=False)
    assert merged.lp["cols"] < plain.lp["cols"]
    assert merged.objective == pytest.approx(plain.objective, rel=1e-9, abs=1e-9)
    assert merged.sites["s"].soc_kwh[-1] >= 5 * 30 - 1e-6


@pytest.mark.parametrize("members", ["all", ["s0", "s5"], ["s2"]])
def test_commitment_coupling_solved_exactly(members):
    # 8 sites in two migration groups; a binding event over some of them couples the groups through
    # the commitment rows, which the block solver repairs from the blocks' bases
    data = synthetic_problem(8, steps=24, resolution="PT1H", seed=11)
    data["commitments"] = [{"id": "ev", "sites": members, "start_step": 16, "end_step": 20,
                            "reduction_kw": 4000.0, "shortfall_penalty_per_mwh": 500.0}]  # fmt: skip
    a = flexibility.solve(data)
    b = flexibility.solve(data, decompose=False)
    assert a.objective == pytest.approx(b.objective, rel=1e-9, abs=1e-6)
    # the event binds: it is delivered at least in part, or its cost shows up as shortfall
    delivered = a.commitments["ev"].delivered_kw
    assert delivered.min() > 0
    assert a.cost["shortfall_penalty"] == pytest.approx(
        500 * a.commitments["ev"].shortfall_kwh / 1000, rel=1e-9, abs=1e-6
    )
