"""The block API: plan_blocks -> solve_block (anywhere, through JSON) -> combine gives solve()'s result."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from flexibility import BlockResult, BlockSpec, combine, plan_blocks, solve, solve_block
from flexibility.blocks import solve_specs
from flexibility.decompose import (
    block_columns,
    column_components,
    fill_cumulative,
    place_blocks,
    site_components,
)
from flexibility.model import build_layout, build_model
from flexibility.problem import Problem
from flexibility.synthetic import synthetic_problem


def _through_json(specs: list[BlockSpec]) -> list[BlockResult]:
    """Solve each block as a remote worker would: spec and result both cross a JSON text boundary."""
    out = []
    for spec in specs:
        remote = BlockSpec.from_json(json.loads(json.dumps(spec.to_json())))
        out.append(BlockResult.from_json(json.loads(json.dumps(solve_block(remote).to_json()))))
    return out


def _with_green(d: dict) -> dict:
    z = next(iter(d["zones"]))
    d["zones"][z]["low_carbon_share"] = [0.3] * d["steps"]
    members = [s["id"] for s in d["sites"] if s["zone"] == z]
    d["green_contracts"] = [
        {"id": "ppa", "zone": z, "profile_kwh": [400.0] * d["steps"], "price_per_mwh": 50, "sites": members},
        {"id": "pau", "zone": z, "profile_kwh": [200.0] * d["steps"], "price_per_mwh": 45,
         "sites": members[:1], "take_or_pay": False},
    ]  # fmt: skip
    d["sites"][0]["min_green_share"] = 0.2
    d["sites"][0]["green_shortfall_price_per_mwh"] = 30
    return d


def _with_workload_constraints(d: dict) -> dict:
    """Every issue-17 field set: min power, ramp, migration overhead and lead, a queue, soft deadlines, reserve."""
    d["lateness_penalty_per_mwh"] = 3000.0
    for i, s in enumerate(d["sites"]):
        s["it_capacity_kw"] = 3 * max(s["workloads"][0]["baseline_kw"])
        s["it_reserve_kw"] = [50.0] * d["steps"]
        for w in s["workloads"]:
            if w.get("max_delay_steps") is None:
                continue
            w.update(
                min_power_fraction=0.3, ramp_kw_per_min=20.0, migration_overhead=0.05, migration_lead_steps=2
            )
            w["queue"] = [{"energy_kwh": 500.0 + i, "due_step": 6}, {"energy_kwh": 100.0, "due_step": 0}]
    return d


def _variant(d: dict, kind: str) -> dict:
    return _with_green(d) if kind == "green" else _with_workload_constraints(d) if kind == "workload" else d


def test_blocks_partition_the_sites_into_migration_groups():
    specs = plan_blocks(synthetic_problem(12))
    assert [s.index for s in specs] == [0, 1, 2]
    assert [s.sites for s in specs] == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11)]
    assert all(not s.problem.commitments and not s.keep_basis for s in specs)
    assert [x.id for x in specs[1].problem.sites] == ["s4", "s5", "s6", "s7"]


@pytest.mark.parametrize("kind", ["plain", "green", "workload"])
def test_a_blocks_lp_is_its_diagonal_block_of_the_whole_lp(kind):
    p = Problem.from_json(_variant(synthetic_problem(9, seed=3), kind))
    whole = build_model(p)
    col_lab = column_components(whole, site_components(len(p.sites), whole.flex, whole.green))
    for spec in plan_blocks(p):
        sub = build_model(spec.problem, with_commitments=False, with_green=True)
        cols = np.flatnonzero(col_lab == spec.index)
        rows = np.unique(whole.A[:, cols].tocoo().row)
        assert np.array_equal(sub.c, whole.c[cols])
        assert np.array_equal(sub.col_lo, whole.col_lo[cols]) and np.array_equal(
            sub.col_hi, whole.col_hi[cols]
        )
        assert np.array_equal(sub.row_lo, whole.row_lo[rows]) and np.array_equal(
            sub.row_hi, whole.row_hi[rows]
        )
        assert (whole.A.tocsr()[rows][:, cols] != sub.A).nnz == 0


@pytest.mark.parametrize("kind", ["plain", "green", "workload"])
def test_combine_from_json_blocks_in_any_order_equals_solve(kind):
    d = _variant(synthetic_problem(10, seed=1), kind)
    results = _through_json(plan_blocks(d))
    random.Random(0).shuffle(results)
    combined, direct = combine(d, results), solve(d)
    # each block solved cold here, warm-started from its neighbour in solve(): the same optimum up to rounding
    assert combined.objective == pytest.approx(direct.objective, rel=1e-12)
    assert combined.objective != pytest.approx(0.0)


def test_in_process_blocks_are_what_solve_runs():
    d = synthetic_problem(10, seed=1)
    combined, direct = combine(d, solve_specs(plan_blocks(d))), solve(d)
    assert combined.objective == direct.objective
    for sid, site in direct.sites.items():
        assert np.array_equal(combined.sites[sid].grid_kw, site.grid_kw)
    assert [m.kwh for m in combined.migrations] == [m.kwh for m in direct.migrations]


def test_a_commitment_the_blocks_miss_is_repaired_exactly():
    d = synthetic_problem(8, seed=2)
    d["commitments"] = [{"id": "ev", "sites": "all", "start_step": 60, "end_step": 76,
                         "reduction_kw": 15000, "shortfall_penalty_per_mwh": 5000}]  # fmt: skip
    specs = plan_blocks(d)
    assert all(s.keep_basis for s in specs)
    results = _through_json(specs)
    assert all(r.col_status is not None for r in results)
    combined, direct = combine(d, results), solve(d, decompose=False)
    unrepaired = sum(r.objective for r in results)
    assert combined.objective > unrepaired + 1.0  # the blocks alone did not meet the commitment
    assert combined.objective == pytest.approx(direct.objective, rel=1e-9)
    assert combined.commitments["ev"].shortfall_kwh == pytest.approx(
        direct.commitments["ev"].shortfall_kwh, abs=1e-3
    )


def test_results_of_another_problem_are_refused():
    results = [solve_block(s) for s in plan_blocks(synthetic_problem(8))]
    with pytest.raises(ValueError, match="block"):
        combine(synthetic_problem(12), results)


def test_workload_constraints_split_across_blocks_give_the_one_lp_optimum():
    d = _with_workload_constraints(synthetic_problem(8, seed=2))
    d["commitments"] = [{"id": "ev", "sites": "all", "start_step": 60, "end_step": 76,
                         "reduction_kw": 15000, "shortfall_penalty_per_mwh": 5000}]  # fmt: skip
    combined, direct = combine(d, _through_json(plan_blocks(d))), solve(d, decompose=False)
    assert combined.objective == pytest.approx(direct.objective, rel=1e-9)
    assert "lateness_penalty" in combined.cost
    assert combined.late_kwh_hours == pytest.approx(direct.late_kwh_hours, abs=1e-3)


@pytest.mark.parametrize("kind", ["plain", "green", "workload"])
def test_the_layout_is_the_whole_lps_without_its_matrix(kind):
    p = Problem.from_json(_variant(synthetic_problem(9, seed=3), kind))
    whole, layout = build_model(p), build_layout(p)
    assert not hasattr(layout, "A")
    assert layout.offsets == whole.offsets and layout.n_cols == whole.n_cols == whole.c.size
    assert np.array_equal(layout.base.grid_kw, whole.base.grid_kw)
    assert np.array_equal(layout.flex.place_site, whole.flex.place_site)
    assert np.array_equal(layout.green.place_contract, whole.green.place_contract)


@pytest.mark.parametrize("kind", ["plain", "green", "workload"])
def test_combining_on_the_layout_gives_the_whole_lps_result(kind):
    d = _variant(synthetic_problem(10, seed=1), kind)
    p = Problem.from_json(d)
    results = _through_json(plan_blocks(p))
    on_layout, on_whole = (
        combine(p, results, model=build_layout(p)),
        combine(p, results, model=build_model(p)),
    )
    assert on_layout.objective == pytest.approx(on_whole.objective, rel=1e-9)
    assert on_layout.objective == on_whole.objective  # the same values placed, the same arithmetic
    assert on_layout.lp == on_whole.lp  # the blocks' sizes add up to the whole LP's
    assert on_layout.cost == on_whole.cost
    for sid, site in on_whole.sites.items():
        assert np.array_equal(on_layout.sites[sid].grid_kw, site.grid_kw)
        assert np.array_equal(on_layout.sites[sid].battery_kw, site.battery_kw)
    assert [m.kwh for m in on_layout.migrations] == [m.kwh for m in on_whole.migrations]
    assert on_layout.objective == pytest.approx(solve(d).objective, rel=1e-9)


@pytest.mark.parametrize("kind", ["plain", "green"])
def test_block_columns_list_each_blocks_columns_in_order_and_are_computed_once(kind):
    p = Problem.from_json(_variant(synthetic_problem(9, seed=4), kind))
    layout = build_layout(p)
    col_lab, col_perm, bounds = block_columns(layout)
    assert (
        block_columns(layout)[1] is col_perm
    )  # kept on the layout: the fan-out computes it while workers solve
    expected = column_components(layout, site_components(len(p.sites), layout.flex, layout.green))
    assert np.array_equal(col_lab, expected)
    assert bounds[0] == 0 and bounds[-1] == col_lab.size and len(bounds) == len(plan_blocks(p)) + 1
    for k in range(len(bounds) - 1):
        cols = col_perm[bounds[k] : bounds[k + 1]]
        assert (col_lab[cols] == k).all() and (np.diff(cols) > 0).all()


def test_a_problem_with_commitments_is_not_combined_on_a_layout():
    d = synthetic_problem(8, seed=2)
    d["commitments"] = [{"id": "ev", "sites": "all", "start_step": 60, "end_step": 76,
                         "reduction_kw": 15000, "shortfall_penalty_per_mwh": 5000}]  # fmt: skip
    p = Problem.from_json(d)
    results = solve_specs(plan_blocks(p))
    with pytest.raises(ValueError, match="commitments"):
        combine(p, results, model=build_layout(p))


@pytest.mark.parametrize("kind", ["plain", "workload"])
def test_the_cumulative_columns_stay_home_and_are_recomputed_exactly_enough(kind):
    p = Problem.from_json(_variant(synthetic_problem(10, seed=1), kind))
    local = solve_specs(plan_blocks(p))
    wire = [json.dumps(r.to_json()) for r in local]
    back = [BlockResult.from_json(json.loads(w)) for w in wire]
    a, b = local[0].cum_cols
    assert b > a and back[0].cum_dropped and np.isnan(back[0].x[a:b]).all()
    assert np.array_equal(back[0].x[:a], local[0].x[:a]) and np.array_equal(back[0].x[b:], local[0].x[b:])
    full = sum(len(r.x) for r in local) * 8 * 4 / 3  # base64 of every column
    assert sum(len(w) for w in wire) < 0.95 * full
    layout = build_layout(p)
    from_wire, from_lp = combine(p, back, model=layout), combine(p, local, model=layout)
    assert from_wire.objective == from_lp.objective and from_wire.cost == from_lp.cost
    for sid, site in from_lp.sites.items():
        assert np.array_equal(from_wire.sites[sid].grid_kw, site.grid_kw)
    # the recomputed S(t) is the LP's within its feasibility tolerance
    x = place_blocks(layout, local).x
    lp_cum = x[layout.offsets["cum"] : layout.offsets["green"]].copy()
    fill_cumulative(layout, x)
    assert lp_cum.size and np.allclose(x[layout.offsets["cum"] : layout.offsets["green"]], lp_cum, atol=1e-5)
