"""Work already waiting at the start of the horizon (a workload's ``backlog_kwh``): available from step 0, due by
``backlog_due_steps``; a problem without one solves exactly as before."""

from __future__ import annotations

import numpy as np
import pytest

import flexibility
from flexibility.errors import FlexibilityInfeasible, FlexibilityInputError
from flexibility.model import build_model
from flexibility.problem import Problem
from tests.flexibility.factories import problem, site, zone

# hourly prices: step 3 is the cheapest, but a backlog due within 3 steps must run by the end of step 2, so it
# runs at step 1 (the cheapest of steps 0..2)
PRICES = [50.0, 10.0, 80.0, 5.0]


def _problem(**training: object) -> dict:
    job = {"id": "training", "baseline_kw": [0, 0, 0, 0], "max_delay_steps": 3, "max_kw": 10, **training}
    return problem(
        4, {"z": zone(PRICES)}, [site("a", workloads=[job, {"id": "inference", "baseline_kw": [1] * 4}])]
    )


def _served(result: flexibility.Result) -> list[float]:
    return result.sites["a"].workloads["training"].served_kw.tolist()


def test_backlog_runs_at_the_cheapest_step_before_its_deadline():
    r = flexibility.solve(_problem(backlog_kwh=4.0, backlog_due_steps=3))
    assert r.status == "optimal"
    assert _served(r) == pytest.approx([0, 4, 0, 0], abs=1e-9)
    # 1 kW inference every hour plus the 4 kWh backlog at 10 $/MWh
    assert r.objective == pytest.approx(sum(PRICES) / 1000 + 4 * 10 / 1000, abs=1e-9)


def test_backlog_due_defaults_to_the_max_delay():
    explicit = flexibility.solve(_problem(backlog_kwh=4.0, backlog_due_steps=3))
    default = flexibility.solve(_problem(backlog_kwh=4.0))
    assert _served(default) == pytest.approx(_served(explicit), abs=1e-9)


def test_a_late_deadline_lets_the_backlog_wait_for_the_cheapest_step():
    r = flexibility.solve(_problem(backlog_kwh=4.0, backlog_due_steps=4))
    assert _served(r) == pytest.approx([0, 0, 0, 4], abs=1e-9)


def test_backlog_is_served_in_full_and_never_more_than_is_waiting():
    # max_kw 3: 4 kWh cannot run in one hour; due in 2 steps, cheapest first: 3 at step 1, the rest at step 0
    r = flexibility.solve(_problem(backlog_kwh=4.0, backlog_due_steps=2, max_kw=3))
    served = np.array(_served(r))
    assert served.sum() == pytest.approx(4.0, abs=1e-9)
    assert served[:2].sum() == pytest.approx(4.0, abs=1e-9)
    assert served.tolist() == pytest.approx([1, 3, 0, 0], abs=1e-9)


def test_backlog_adds_to_work_arriving_in_the_horizon():
    # 2 kW arrives each hour; it may wait up to 3 steps, the 4 kWh backlog is due by the end of step 0
    r = flexibility.solve(_problem(baseline_kw=[2, 2, 2, 2], backlog_kwh=4.0, backlog_due_steps=1))
    served = np.array(_served(r))
    assert served[0] >= 4.0 - 1e-9
    assert served.sum() == pytest.approx(8.0 + 4.0, abs=1e-9)
    assert np.all(np.cumsum(served) <= 4.0 + np.cumsum([2, 2, 2, 2]) + 1e-9)


def test_without_a_backlog_the_problem_and_its_plan_are_unchanged():
    plain = Problem.from_json(_problem(baseline_kw=[2, 3, 1, 2]))
    zero = Problem.from_json(_problem(baseline_kw=[2, 3, 1, 2], backlog_kwh=0.0))
    a, b = build_model(plain), build_model(zero)
    assert (a.A != b.A).nnz == 0
    for name in ("c", "col_lo", "col_hi", "row_lo", "row_hi"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    ra, rb = flexibility.solve(plain), flexibility.solve(zero)
    assert _served(ra) == _served(rb)
    assert ra.objective == rb.objective
    assert "backlog_kwh" not in plain.to_json()["sites"][0]["workloads"][0]


def test_it_capacity_full_of_fixed_load_still_admits_the_backlog():
    # the site's fixed load fills its IT capacity: only its own deferrable work as it arrives fits, plus the
    # backlog spread evenly until it is due
    data = _problem(backlog_kwh=4.0, backlog_due_steps=2)
    data["sites"][0]["it_capacity_kw"] = 1.0
    r = flexibility.solve(data)
    assert r.status == "optimal"
    assert _served(r) == pytest.approx([2, 2, 0, 0], abs=1e-9)


def test_a_backlog_that_cannot_run_by_its_deadline_is_reported():
    with pytest.raises(FlexibilityInfeasible, match="backlog_kwh=4"):
        flexibility.solve(_problem(backlog_kwh=4.0, backlog_due_steps=1, max_kw=3))


@pytest.mark.parametrize(
    ("training", "field"),
    [
        ({"backlog_kwh": -1.0}, "backlog_kwh"),
        ({"backlog_kwh": 1.0, "backlog_due_steps": 0}, "backlog_due_steps"),
        ({"backlog_kwh": 1.0, "backlog_due_steps": 1.5}, "backlog_due_steps"),
        ({"backlog_kwh": 1.0, "max_delay_steps": None}, "backlog_kwh"),
    ],
)
def test_bad_backlog_input_names_the_field(training, field):
    with pytest.raises(FlexibilityInputError) as err:
        Problem.from_json(_problem(**training))
    assert err.value.field.endswith(field)


def test_backlog_round_trips_through_json():
    p = Problem.from_json(_problem(backlog_kwh=4.0, backlog_due_steps=3))
    again = Problem.from_json(p.to_json())
    w = again.sites[0].workloads[0]
    assert (w.backlog_kwh, w.backlog_due_steps) == (4.0, 3)


def test_the_envelope_leaves_the_backlog_out():
    plain = flexibility.envelope(_problem(baseline_kw=[2, 2, 2, 2]), durations=(1.0,))
    waiting = flexibility.envelope(_problem(baseline_kw=[2, 2, 2, 2], backlog_kwh=4.0), durations=(1.0,))
    assert np.array_equal(plain.down_kw, waiting.down_kw, equal_nan=True)
    assert np.array_equal(plain.up_kw, waiting.up_kw, equal_nan=True)
