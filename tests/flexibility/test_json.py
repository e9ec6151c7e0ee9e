"""Problem and result JSON round trips, in the field names of issue 5."""

from __future__ import annotations

import json

import numpy as np
import pytest

import flexibility
from flexibility import Problem, Result
from flexibility.synthetic import synthetic_problem

ISSUE_EXAMPLE = {
    "start": "2022-09-06T07:00:00Z", "resolution": "PT15M", "steps": 8, "currency": "USD",
    "carbon_price_per_tonne": 0,
    "zones": {"CAISO_NP15": {"price_per_mwh": [50, 60, 70, 200, 210, 80, 40, 30]},
              "ERCOT_HUB": {"price_per_mwh": [30] * 8, "carbon_g_per_kwh": [400] * 8}},
    "sites": [
        {"id": "sj1", "zone": "CAISO_NP15", "grid_import_limit_kw": 20000, "grid_export_limit_kw": 0, "pue": 1.3,
         "pv_kw": [0, 0, 100, 200, 200, 100, 0, 0],
         "workloads": [{"id": "inference", "baseline_kw": [3000] * 8},
                       {"id": "training", "baseline_kw": [5000] * 8, "max_delay_steps": 4, "max_kw": 8000,
                        "migratable_to": ["dal1"]}],
         "battery": {"energy_kwh": 1000, "power_kw": 500, "charge_efficiency": 0.9487,
                     "discharge_efficiency": 0.9487, "soc_initial_kwh": 500, "soc_min_kwh": 0,
                     "soc_max_kwh": 1000, "backup_reserve_kwh": 0, "soc_final_min_kwh": None,
                     "cycle_cost_per_mwh": 0}},
        {"id": "dal1", "zone": "ERCOT_HUB", "grid_import_limit_kw": 9000, "pue": 1.2,
         "workloads": [{"id": "inference", "baseline_kw": [2000] * 8}]},
    ],
    "commitments": [{"id": "ev1", "sites": "all", "start_step": 3, "end_step": 5, "reduction_kw": 3000,
                     "shortfall_penalty_per_mwh": 2000}],
}  # fmt: skip


def test_problem_round_trip():
    p = Problem.from_json(ISSUE_EXAMPLE)
    out = p.to_json()
    again = Problem.from_json(out).to_json()
    assert again == out
    assert json.loads(json.dumps(out)) == out
    # issue field names are kept
    assert set(ISSUE_EXAMPLE) <= set(out)
    assert set(ISSUE_EXAMPLE["sites"][0]["battery"]) <= set(out["sites"][0]["battery"])
    assert (
        out["zones"]["CAISO_NP15"]["export_price_per_mwh"]
        == ISSUE_EXAMPLE["zones"]["CAISO_NP15"]["price_per_mwh"]
    )


def test_result_round_trip_and_fields():
    r = flexibility.solve(ISSUE_EXAMPLE)
    out = r.to_json()
    text = json.dumps(out, allow_nan=False)
    assert Result.from_json(json.loads(text)).to_json() == out
    for key in ("status", "objective", "cost", "baseline_cost", "savings_pct", "emissions_kg",
                "baseline_emissions_kg", "sites", "migrations", "commitments", "timings"):  # fmt: skip
        assert key in out
    assert set(out["cost"]) == {"energy", "carbon", "degradation", "shortfall_penalty"}
    assert set(out["timings"]) >= {"build_seconds", "solve_seconds"}
    site = out["sites"]["sj1"]
    for key in ("grid_kw", "it_kw", "battery_kw", "soc_kwh", "workloads"):
        assert len(site[key]) == 8 or key == "workloads"
    assert set(site["workloads"]["training"]) >= {"served_kw"}
    for m in out["migrations"]:
        assert set(m) >= {"workload", "from", "to", "kw"}
    assert set(out["commitments"]["ev1"]) == {"delivered_kw", "shortfall_kwh"}


def test_training_migrates_to_cheaper_ercot_in_issue_example():
    # Without the event: grid energy at dal1 costs 1.2 * 30 per MWh of IT, at sj1 at least 1.3 * 30, and
    # dal1 has 9000 - 1.2 * 2000 = 6600 kW of headroom (6600 / 1.2 = 5500 kW >= 5000 kW of training),
    # so all training energy runs at dal1.
    r = flexibility.solve({**ISSUE_EXAMPLE, "commitments": []})
    moved = sum(m.kw for m in r.migrations if m.to_site == "dal1")
    assert np.sum(moved) == pytest.approx(5000 * 8, rel=1e-9)


def test_solve_accepts_dataclass_and_dict_alike():
    d = synthetic_problem(3, steps=12, resolution="PT1H")
    a = flexibility.solve(d)
    b = flexibility.solve(Problem.from_json(d))
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
