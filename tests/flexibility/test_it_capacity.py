"""A site's IT capacity bounds what runs there: its own fixed load plus flexible work served or migrated in."""

from __future__ import annotations

import math

import numpy as np
import pytest

import flexibility
from flexibility.errors import FlexibilityInputError
from flexibility.model import build_model
from flexibility.problem import Problem
from tests.flexibility.factories import problem, site, zone


def _migration_problem(capacity_kw: float | None) -> dict:
    # Site "a" in an expensive zone (100 $/MWh) runs a 6 kW migratable job; site "b" (10 $/MWh) runs 8 kW of
    # fixed inference. Without a capacity everything moves to "b"; with 10 kW of IT capacity at "b" only
    # 10 − 8 = 2 kW fits there each hour, so 4 kW stays at "a".
    job = {"id": "job", "baseline_kw": [6, 6], "max_delay_steps": 0, "migratable_to": ["b"]}
    fixed = {"id": "inference", "baseline_kw": [8, 8]}
    extra = {} if capacity_kw is None else {"it_capacity_kw": capacity_kw}
    return problem(
        2,
        {"hi": zone([100, 100]), "lo": zone([10, 10])},
        [site("a", "hi", workloads=[job]), site("b", "lo", workloads=[fixed], **extra)],
    )


def test_unlimited_capacity_moves_all_work_to_the_cheap_site():
    r = flexibility.solve(_migration_problem(None))
    assert r.sites["b"].it_kw.tolist() == pytest.approx([14, 14], abs=1e-9)
    assert r.sites["a"].it_kw.tolist() == pytest.approx([0, 0], abs=1e-9)


def test_capacity_limits_work_migrated_in_by_hand():
    # 2 kW at b (10 $/MWh) and 4 kW at a (100 $/MWh) plus b's fixed 8 kW, for two hours:
    # (8 + 2) * 10 / 1000 + 4 * 100 / 1000 = 0.10 + 0.40 = $0.50 per hour → $1.00.
    r = flexibility.solve(_migration_problem(10))
    assert r.status == "optimal"
    assert r.sites["b"].it_kw.tolist() == pytest.approx([10, 10], abs=1e-9)
    assert r.sites["a"].it_kw.tolist() == pytest.approx([4, 4], abs=1e-9)
    assert r.objective == pytest.approx(1.00, abs=1e-9)


def test_fixed_load_above_capacity_leaves_no_room_but_stays_feasible():
    r = flexibility.solve(_migration_problem(7))
    assert r.status == "optimal"
    assert r.sites["b"].it_kw.tolist() == pytest.approx([8, 8], abs=1e-9)  # the fixed load, nothing added
    assert r.sites["a"].it_kw.tolist() == pytest.approx([6, 6], abs=1e-9)


def test_no_capacity_builds_the_same_lp():
    uncapped = build_model(Problem.from_json(_migration_problem(None)))
    capped = build_model(Problem.from_json(_migration_problem(10)))
    assert "it_capacity" not in uncapped.row_offsets
    assert capped.A.shape[0] == uncapped.A.shape[0] + 2  # one row per step at site "b"


def test_json_round_trip_and_validation():
    p = Problem.from_json(_migration_problem(10))
    assert p.sites[1].it_capacity_kw == 10
    assert p.to_json()["sites"][1]["it_capacity_kw"] == 10
    assert "it_capacity_kw" not in p.to_json()["sites"][0]
    assert math.isinf(Problem.from_json(p.to_json()).sites[0].it_capacity_kw)
    bad = _migration_problem(-1)
    with pytest.raises(FlexibilityInputError) as err:
        Problem.from_json(bad)
    assert err.value.field == "sites[1].it_capacity_kw"


def test_directly_constructed_nan_capacity_is_refused():
    from dataclasses import replace

    p = Problem.from_json(_migration_problem(None))
    broken = replace(p, sites=(p.sites[0], replace(p.sites[1], it_capacity_kw=float(np.nan))))
    with pytest.raises(FlexibilityInputError) as err:
        flexibility.solve(broken)
    assert err.value.field == "sites[1].it_capacity_kw"


def test_own_work_as_it_arrives_stays_feasible_above_the_capacity():
    # A forecast of 12 kW of deferrable work at a 10 kW site, to be served by the horizon's end: running it as it
    # arrives must remain a solution (the capacity only limits work added at the site).
    job = {"id": "batch", "baseline_kw": [12, 12], "max_delay_steps": 1}
    p = problem(2, {"z": zone([50, 10])}, [site("a", workloads=[job], it_capacity_kw=10)])
    r = flexibility.solve(p)
    assert r.status == "optimal"
    # hour 1 is cheaper, but nothing can be added there beyond the own 12 kW: no deferral happens
    assert r.sites["a"].it_kw.tolist() == pytest.approx([12, 12], abs=1e-9)


def _overdue_queue_problem(lateness_penalty_per_mwh: float | None) -> dict:
    # Site "b" (10 kW IT, 4 kW fixed) has 20 kWh of its own work already overdue; site "a" in an expensive zone
    # runs a 6 kW job it may migrate to "b". Physically only 10 − 4 = 6 kW of flexible work fits at "b".
    job = {"id": "job", "baseline_kw": [6, 6], "max_delay_steps": 0, "migratable_to": ["b"]}
    own = {
        "id": "batch",
        "baseline_kw": [2, 2],
        "max_delay_steps": 1,
        "max_kw": 30,
        "queue": [{"energy_kwh": 20.0, "due_step": 0}],
    }
    fixed = {"id": "inference", "baseline_kw": [4, 4]}
    extra = {} if lateness_penalty_per_mwh is None else {"lateness_penalty_per_mwh": lateness_penalty_per_mwh}
    return {
        **problem(
            2,
            {"hi": zone([100, 100]), "lo": zone([10, 10])},
            [site("a", "hi", workloads=[job]), site("b", "lo", workloads=[fixed, own], it_capacity_kw=10)],
        ),
        **extra,
    }


def test_with_soft_deadlines_an_overdue_queue_never_lends_room_beyond_the_capacity():
    r = flexibility.solve(_overdue_queue_problem(1e6))
    assert r.status == "optimal"
    # every step: what runs at b (fixed + own + migrated in) stays within its 10 kW
    assert max(r.sites["b"].it_kw) <= 10 + 1e-6
    # the overdue work takes the room first (lateness is priced far above the price gap): nothing migrates in
    # while it waits, and the 20 − 6 kWh that cannot run in step 0 are late
    assert sum(m.kw.sum() for m in r.migrations) == pytest.approx(0.0, abs=1e-6)
    assert r.sites["b"].workloads["batch"].late_kwh[0] == pytest.approx(20 - 6, abs=1e-6)


def test_with_hard_deadlines_the_overdue_queue_stays_feasible_above_the_capacity():
    # hard deadlines keep the old room (own work plus its queue spread), so the problem is not infeasible
    r = flexibility.solve(_overdue_queue_problem(None))
    assert r.status == "optimal"
    assert r.sites["b"].it_kw[0] == pytest.approx(4 + 2 + 20, abs=1e-6)
