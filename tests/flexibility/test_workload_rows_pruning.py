"""Rows that cannot bind are left out of the LP (a ramp of at least max_kw on a single-site workload, a migratable
workload's min-power rows whose bound is 0) and the optimum is the same as with them."""

from __future__ import annotations

import pytest

import flexibility
from flexibility.model import build_model
from flexibility.problem import as_problem
from tests.flexibility.factories import problem, site, zone

SPIKE = [10.0, 500.0, 10.0, 10.0]


def _job(**extra: object) -> dict:
    return {"id": "training", "baseline_kw": [4, 4, 4, 4], "max_delay_steps": 3, "max_kw": 12, **extra}


def _ramp_rows(d: dict) -> int:
    model = build_model(as_problem(d))
    offsets = sorted(model.row_offsets.items(), key=lambda kv: kv[1])
    for k, (name, first) in enumerate(offsets):
        if name == "ramp":
            end = offsets[k + 1][1] if k + 1 < len(offsets) else model.n_rows
            return end - first
    return 0


def test_a_ramp_of_at_least_max_kw_adds_no_rows_and_changes_nothing():
    loose = problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job(ramp_kw_per_min=12 / 60)])])
    tight = problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job(ramp_kw_per_min=11.9 / 60)])])
    free = problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job()])])
    assert _ramp_rows(loose) == 0
    assert _ramp_rows(tight) == 3  # R < max_kw can bind: T − 1 rows
    assert flexibility.solve(loose).objective == pytest.approx(flexibility.solve(free).objective, rel=1e-12)


def test_min_power_rows_at_zero_baseline_are_left_out():
    job = _job(min_power_fraction=0.5, migratable_to=["b"], baseline_kw=[4, 0, 4, 4])
    d = problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[job]), site("b")])
    model = build_model(as_problem(d))
    first = model.row_offsets["min_power"]
    later = sorted(v for v in model.row_offsets.values() if v > first)
    assert (later[0] if later else model.n_rows) - first == 3
    r = flexibility.solve(d)
    total = r.sites["a"].workloads["training"].served_kw + r.sites["b"].workloads["a/training"].served_kw
    assert total[0] >= 2.0 - 1e-9 and total[2] >= 2.0 - 1e-9 and total[3] >= 2.0 - 1e-9


def _family_rows(d: dict, name: str) -> int:
    model = build_model(as_problem(d))
    first = model.row_offsets[name]
    later = sorted(v for v in model.row_offsets.values() if v > first)
    return (later[0] if later else model.n_rows) - first


def test_lateness_rows_before_the_first_deadline_are_left_out():
    # 3 steps of delay and no queue: nothing is due before step 3, so only its row can bind
    d = problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job()])])
    d["lateness_penalty_per_mwh"] = 3000.0
    assert _family_rows(d, "lateness") == 1
    r = flexibility.solve(d)
    assert r.late_kwh_hours == pytest.approx(0.0, abs=1e-9)
    assert r.sites["a"].workloads["training"].served_kw.sum() == pytest.approx(16.0, abs=1e-9)
