"""Issue 17 workload constraints in the LP: min_power_fraction, ramp_kw_per_min (+ initial_kw),
migration_overhead, migration_lead_steps and a site's it_reserve_kw. Each test builds a problem whose
unconstrained optimum breaks the constraint, then shows the solved schedule respects it."""

from __future__ import annotations

import numpy as np
import pytest

import flexibility
from tests.flexibility.factories import problem, site, zone

# hourly prices with a spike at step 1: an unconstrained LP pauses deferrable work there
SPIKE = [10.0, 500.0, 10.0, 10.0]


def _job(**extra: object) -> dict:
    return {"id": "training", "baseline_kw": [4, 4, 4, 4], "max_delay_steps": 3, "max_kw": 12, **extra}


def _served(r: flexibility.Result, site_id: str = "a", key: str = "training") -> np.ndarray:
    return r.sites[site_id].workloads[key].served_kw


def test_the_price_spike_pauses_the_workload_without_a_min_power_fraction():
    r = flexibility.solve(problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job()])]))
    assert _served(r)[1] == pytest.approx(0.0, abs=1e-9)


def test_min_power_fraction_keeps_half_of_the_arriving_work_running():
    r = flexibility.solve(
        problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job(min_power_fraction=0.5)])])
    )
    served = _served(r)
    assert np.all(served >= 0.5 * 4 - 1e-9)
    assert served[1] == pytest.approx(2.0, abs=1e-9)  # no more than it must at the spike
    assert served.sum() == pytest.approx(16.0, abs=1e-9)


def test_min_power_fraction_of_a_migratable_workload_counts_every_site():
    # both sites see the spike; the fraction applies to the total over the origin and the destination
    job = _job(min_power_fraction=0.5, migratable_to=["b"])
    r = flexibility.solve(problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[job]), site("b")]))
    total = _served(r) + _served(r, "b", "a/training")
    assert np.all(total >= 2.0 - 1e-9)
    assert total[1] == pytest.approx(2.0, abs=1e-9)
    unconstrained = flexibility.solve(
        problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job(migratable_to=["b"])]), site("b")])
    )
    assert (_served(unconstrained) + _served(unconstrained, "b", "a/training"))[1] == pytest.approx(
        0, abs=1e-9
    )


def test_ramp_limits_every_step_change_and_the_start_from_initial_kw():
    # 1 kW per hour: ramp_kw_per_min × 60 × Δt_hours = 1/60 × 60 × 1
    free = flexibility.solve(problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job()])]))
    assert np.abs(np.diff(_served(free))).max() > 1.0 + 1e-6
    ramped = flexibility.solve(
        problem(4, {"z": zone(SPIKE)}, [site("a", workloads=[_job(ramp_kw_per_min=1 / 60, initial_kw=4.0)])])
    )
    served = _served(ramped)
    assert np.abs(np.diff(served)).max() <= 1.0 + 1e-9
    assert abs(served[0] - 4.0) <= 1.0 + 1e-9
    # by hand: x0 <= A(0) = 4, x1 >= x0 - 1, then +1 per step: 4 + x1 + (x1 + 1) + (x1 + 2) >= 16 -> x1 = 3
    assert served == pytest.approx([4, 3, 4, 5], abs=1e-9)


def test_initial_kw_binds_the_first_step():
    # step 0 is the cheapest: 4 kW (all that has arrived) without a ramp; running 1 kW just before the horizon
    # with 2 kW per step of ramp, at most 3 kW
    prices = {"z": zone([1, 50, 50, 50])}
    assert _served(flexibility.solve(problem(4, prices, [site("a", workloads=[_job()])])))[
        0
    ] == pytest.approx(4.0)
    r = flexibility.solve(
        problem(4, prices, [site("a", workloads=[_job(ramp_kw_per_min=2 / 60, initial_kw=1)])])
    )
    assert _served(r)[0] == pytest.approx(3.0, abs=1e-9)


def _two_zones(job: dict, steps: int = 2) -> dict:
    return problem(
        steps,
        {"dear": zone([100.0] * steps), "cheap": zone([10.0] * steps)},
        [site("a", "dear", workloads=[job]), site("b", "cheap")],
    )


def test_migration_overhead_makes_the_destination_run_more_it_power():
    job = {"id": "training", "baseline_kw": [2, 2], "migratable_to": ["b"], "migration_overhead": 0.5}
    r = flexibility.solve(_two_zones(job))
    assert _served(r, "b", "a/training") == pytest.approx([2, 2], abs=1e-9)  # the work itself
    assert r.sites["b"].it_kw == pytest.approx([3, 3], abs=1e-9)  # (1 + 0.5) × 2 kW at the destination
    assert r.objective == pytest.approx(3 * 10 * 2 / 1000, abs=1e-12)


def test_a_large_migration_overhead_keeps_the_work_at_home():
    # (1 + 10) × 10 $/MWh = 110 > 100 $/MWh at home
    job = {"id": "training", "baseline_kw": [2, 2], "migratable_to": ["b"], "migration_overhead": 10}
    r = flexibility.solve(_two_zones(job))
    assert not r.migrations
    assert _served(r) == pytest.approx([2, 2], abs=1e-9)


def test_migration_lead_steps_delay_the_work_at_the_destination():
    job = {"id": "training", "baseline_kw": [2, 2, 2, 2], "max_delay_steps": 3, "migratable_to": ["b"]}
    free = flexibility.solve(_two_zones(job, 4))
    assert _served(free, "b", "a/training").sum() == pytest.approx(8.0, abs=1e-9)
    r = flexibility.solve(_two_zones({**job, "migration_lead_steps": 2}, 4))
    remote = _served(r, "b", "a/training")
    assert remote[:2] == pytest.approx([0, 0], abs=1e-12)
    arrived = np.cumsum([2, 2, 2, 2])
    lagged = np.concatenate([[0, 0], arrived[:2]])  # A(t − 2)
    assert np.all(np.cumsum(remote) <= lagged + 1e-9)
    assert remote.sum() == pytest.approx(4.0, abs=1e-9)  # only the work of steps 0 and 1 gets there in time
    assert (_served(r) + remote).sum() == pytest.approx(8.0, abs=1e-9)


def test_it_reserve_keeps_headroom_free_at_the_cheap_step():
    # capacity 10, fixed 4: catching up at the cheap step 3 may use 6 kW, or 3 kW with a 3 kW reserve
    job = {"id": "training", "baseline_kw": [2, 2, 2, 2], "max_delay_steps": 3, "max_kw": 10}
    sites = [site("a", it_capacity_kw=10, workloads=[job, {"id": "inference", "baseline_kw": [4] * 4}])]
    prices = {"z": zone([100, 100, 100, 1])}
    assert _served(flexibility.solve(problem(4, prices, sites)))[3] == pytest.approx(6.0, abs=1e-9)
    sites[0]["it_reserve_kw"] = [0, 0, 0, 3]
    r = flexibility.solve(problem(4, prices, sites))
    assert _served(r)[3] == pytest.approx(3.0, abs=1e-9)
    assert r.sites["a"].it_kw.max() <= 10 - 0 + 1e-9
