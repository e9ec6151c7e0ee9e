"""Queued work with due steps, soft deadlines (lateness_penalty_per_mwh), sla_shortfalls, the JSON format and
validation of the issue-17 fields, and an unchanged LP for problems without them."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import flexibility
from flexibility.checks import fastest_cumulative_kwh
from flexibility.errors import FlexibilityInfeasible, FlexibilityInputError
from flexibility.model import build_model
from flexibility.problem import Problem, validate
from flexibility.synthetic import synthetic_problem
from tests.flexibility.factories import problem, site, zone

PRICES = [50.0, 10.0, 5.0, 6.0]


def _problem(prices: list[float] = PRICES, **training: object) -> dict:
    job = {"id": "training", "baseline_kw": [0, 0, 0, 0], "max_delay_steps": 3, "max_kw": 10, **training}
    return problem(4, {"z": zone(prices)}, [site("a", workloads=[job])])


def _training(r: flexibility.Result) -> flexibility.WorkloadResult:
    return r.sites["a"].workloads["training"]


def test_each_queue_entry_runs_by_its_due_step_and_the_backlog_is_one_more_entry():
    # 2 kWh already past due (D = 0) must run in step 0; 3 kWh due by the end of step 1 runs at step 1
    # (10 < 50); the 1 kWh backlog due at the end of the horizon waits for the cheapest step 2
    queue = [{"energy_kwh": 3.0, "due_step": 2}, {"energy_kwh": 2.0, "due_step": 0}]
    r = flexibility.solve(_problem(queue=queue, backlog_kwh=1.0, backlog_due_steps=4))
    assert _training(r).served_kw == pytest.approx([2, 3, 1, 0], abs=1e-9)
    assert _training(r).late_kwh == pytest.approx([0, 0, 0, 0])
    assert r.late_kwh_hours == 0.0


def test_a_one_entry_queue_is_the_same_lp_as_the_backlog():
    a = build_model(Problem.from_json(_problem(backlog_kwh=4.0, backlog_due_steps=2)))
    b = build_model(Problem.from_json(_problem(queue=[{"energy_kwh": 4.0, "due_step": 2}])))
    assert (a.A != b.A).nnz == 0
    for name in ("c", "col_lo", "col_hi", "row_lo", "row_hi"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


IMPOSSIBLE = [{"energy_kwh": 10.0, "due_step": 1}]  # 10 kWh in step 0 at max_kw 4


def test_an_impossible_queue_with_hard_deadlines_is_infeasible():
    with pytest.raises(FlexibilityInfeasible) as err:
        flexibility.solve(_problem(queue=IMPOSSIBLE, max_kw=4))
    assert err.value.family == "deferrable_deadline"
    assert "queue of 10 kWh" in str(err.value)


def test_soft_deadlines_minimise_the_kwh_hours_late():
    # by hand: 4 kWh in step 0 leaves 6 kWh late, 4 more in step 1 leaves 2, step 2 catches up: 6 + 2 = 8 kWh·h
    data = _problem(queue=IMPOSSIBLE, max_kw=4)
    data["lateness_penalty_per_mwh"] = 10_000.0
    r = flexibility.solve(data)
    w = _training(r)
    assert w.served_kw == pytest.approx([4, 4, 2, 0], abs=1e-9)
    assert w.late_kwh == pytest.approx([6, 2, 0, 0], abs=1e-9)
    assert r.late_kwh_hours == pytest.approx(8.0, abs=1e-9)
    assert r.cost["lateness_penalty"] == pytest.approx(8.0 * 10_000 / 1000, abs=1e-9)
    assert r.objective == pytest.approx(sum(r.cost.values()), abs=1e-9)
    # every kWh still runs within the horizon, no more than was waiting
    assert w.served_kw.sum() == pytest.approx(10.0, abs=1e-9)


def test_a_cheap_lateness_penalty_lets_work_wait_for_a_cheap_step():
    # due in step 0; per MWh: step 0 costs 50, step 1 costs 10 + 4 (1 h late), step 2 costs 5 + 2 x 4, never
    # serving it costs 4 x 4 h: step 2 is the cheapest
    data = _problem(queue=[{"energy_kwh": 2.0, "due_step": 1}])
    data["lateness_penalty_per_mwh"] = 4.0
    r = flexibility.solve(data)
    assert _training(r).served_kw == pytest.approx([0, 0, 2, 0], abs=1e-9)
    assert _training(r).late_kwh == pytest.approx([2, 2, 0, 0], abs=1e-9)


def test_a_penalty_below_the_energy_price_leaves_late_work_undone():
    # the documented trade-off: 1 $/MWh per hour late x 4 h is cheaper than 5 $/MWh at step 2 + 2 h late
    data = _problem(queue=[{"energy_kwh": 2.0, "due_step": 1}])
    data["lateness_penalty_per_mwh"] = 1.0
    r = flexibility.solve(data)
    assert _training(r).served_kw == pytest.approx([0, 0, 0, 0], abs=1e-9)
    assert _training(r).late_kwh == pytest.approx([2, 2, 2, 2], abs=1e-9)


def test_sla_shortfalls_names_the_site_the_workload_and_the_kwh():
    shortfalls = flexibility.sla_shortfalls(_problem(queue=IMPOSSIBLE, max_kw=4))
    assert shortfalls == [flexibility.SlaShortfall(site="a", workload="training", late_kwh=6.0, first_step=0)]
    assert flexibility.sla_shortfalls(_problem(queue=IMPOSSIBLE, max_kw=10)) == []


def test_fastest_cumulative_with_per_step_caps_matches_the_constant_cap():
    cum = np.cumsum(np.array([[5.0, 0, 7, 1, 0, 3], [1, 1, 1, 1, 1, 1]]), axis=1)
    cap = np.array([2.0, np.inf])
    per_step = np.repeat(cap[:, None], 6, axis=1)
    assert np.array_equal(fastest_cumulative_kwh(cum, per_step, 0.5), fastest_cumulative_kwh(cum, cap, 0.5))
    # a cap that drops to 0 at step 1 delays the service by one step
    slow = fastest_cumulative_kwh(cum[:1], np.array([[2.0, 0, 2, 2, 2, 2]]), 1.0)
    assert slow[0].tolist() == [2, 2, 4, 6, 8, 10]


ALL_FIELDS = {
    "min_power_fraction": 0.3,
    "ramp_kw_per_min": 0.5,
    "initial_kw": 1.0,
    "migration_overhead": 0.05,
    "migration_lead_steps": 1,
    "queue": [{"energy_kwh": 2.0, "due_step": 3}, {"energy_kwh": 1.0, "due_step": -1}],
}


def _full() -> dict:
    job = {"id": "training", "baseline_kw": [1, 2, 1, 2], "max_delay_steps": 2, "max_kw": 10,
           "migratable_to": ["b"], **ALL_FIELDS}  # fmt: skip
    data = problem(4, {"z": zone(PRICES)}, [site("a", workloads=[job], it_capacity_kw=20), site("b")])
    data["sites"][0]["it_reserve_kw"] = [1.0, 0, 0, 2.0]
    data["lateness_penalty_per_mwh"] = 500.0
    return data


def test_the_new_fields_round_trip_through_json():
    p = Problem.from_json(_full())
    again = Problem.from_json(p.to_json())
    assert again.to_json() == p.to_json()
    w = again.sites[0].workloads[0]
    assert w.queue == (flexibility.QueuedWork(2.0, 3), flexibility.QueuedWork(1.0, -1))
    assert (w.min_power_fraction, w.ramp_kw_per_min, w.initial_kw) == (0.3, 0.5, 1.0)
    assert (w.migration_overhead, w.migration_lead_steps) == (0.05, 1)
    assert again.lateness_penalty_per_mwh == 500.0
    assert again.sites[0].it_reserve_kw.tolist() == [1.0, 0, 0, 2.0]
    a, b = build_model(p), build_model(again)
    assert (a.A != b.A).nnz == 0 and np.array_equal(a.row_lo, b.row_lo) and np.array_equal(a.col_hi, b.col_hi)
    assert flexibility.solve(p).objective == pytest.approx(flexibility.solve(again).objective, rel=1e-12)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("min_power_fraction", 1.5, "min_power_fraction"),
        ("min_power_fraction", -0.1, "min_power_fraction"),
        ("ramp_kw_per_min", 0, "ramp_kw_per_min"),
        ("initial_kw", -1, "initial_kw"),
        ("migration_overhead", -0.1, "migration_overhead"),
        ("migration_lead_steps", 1.5, "migration_lead_steps"),
        ("migration_lead_steps", -1, "migration_lead_steps"),
        ("queue", [{"energy_kwh": -1, "due_step": 1}], "queue[0].energy_kwh"),
        ("queue", [{"energy_kwh": 1, "due_step": "soon"}], "queue[0].due_step"),
        ("queue", [{"energy_kwh": 1}], "queue[0].due_step"),
        ("queue", {"energy_kwh": 1, "due_step": 1}, "queue"),
    ],
)
def test_bad_workload_fields_name_the_field(path, value, field):
    data = _full()
    data["sites"][0]["workloads"][0][path] = value
    with pytest.raises(FlexibilityInputError) as err:
        Problem.from_json(data)
    assert err.value.field == f"sites[0].workloads[0].{field}"


@pytest.mark.parametrize("field", ["ramp_kw_per_min", "queue"])
def test_a_ramp_or_queue_on_a_workload_the_lp_does_not_schedule_is_refused(field):
    value = 1.0 if field == "ramp_kw_per_min" else [{"energy_kwh": 1.0, "due_step": 2}]
    data = problem(
        4, {"z": zone(PRICES)}, [site("a", workloads=[{"id": "inf", "baseline_kw": [1] * 4, field: value}])]
    )
    with pytest.raises(FlexibilityInputError) as err:
        Problem.from_json(data)
    assert err.value.field == f"sites[0].workloads[0].{field}"


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("problem", 0.0, "lateness_penalty_per_mwh"),
        ("problem", "high", "lateness_penalty_per_mwh"),
        ("site", [1.0, 2.0], "sites[0].it_reserve_kw"),
        ("site", [-1.0, 0, 0, 0], "sites[0].it_reserve_kw"),
    ],
)
def test_bad_problem_and_site_fields_name_the_field(where, value, field):
    data = _full()
    if where == "problem":
        data["lateness_penalty_per_mwh"] = value
    else:
        data["sites"][0]["it_reserve_kw"] = value
    with pytest.raises(FlexibilityInputError) as err:
        Problem.from_json(data)
    assert err.value.field == field


def test_validate_checks_a_directly_constructed_problem():
    from dataclasses import replace

    p = Problem.from_json(_full())
    bad = replace(p.sites[0].workloads[0], min_power_fraction=2.0)
    with pytest.raises(FlexibilityInputError) as err:
        validate(replace(p, sites=(replace(p.sites[0], workloads=(bad,)), p.sites[1])))
    assert err.value.field == "sites[0].workloads[0].min_power_fraction"


def test_explicit_defaults_build_exactly_the_same_lp():
    plain = synthetic_problem(6, seed=4)
    explicit = copy.deepcopy(plain)
    explicit["lateness_penalty_per_mwh"] = None
    for s in explicit["sites"]:
        for w in s["workloads"]:
            w.update(min_power_fraction=0.0, migration_overhead=0.0, migration_lead_steps=0, queue=[])
            if w.get("max_delay_steps") is not None:
                w.update(ramp_kw_per_min=None, initial_kw=None)
    a, b = build_model(Problem.from_json(plain)), build_model(Problem.from_json(explicit))
    assert a.A.shape == b.A.shape and (a.A != b.A).nnz == 0
    for name in ("c", "col_lo", "col_hi", "row_lo", "row_hi"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.row_offsets == b.row_offsets
    ra, rb = flexibility.solve(plain), flexibility.solve(explicit)
    assert ra.objective == rb.objective
    assert "lateness_penalty" not in ra.cost and ra.late_kwh_hours == 0.0
