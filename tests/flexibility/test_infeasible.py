"""Infeasible and malformed inputs are explained (constraint family, site, workload), never a traceback."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import flexibility
from flexibility import FlexibilityInfeasible, FlexibilityInputError
from tests.flexibility.factories import problem, site, zone


def _battery(**kw) -> dict:
    return {"energy_kwh": 100, "power_kw": 50, "soc_initial_kwh": 50, **kw}


def test_backup_reserve_above_soc_initial():
    p = problem(2, {"z": zone([1, 2])}, [site("sj1", battery=_battery(backup_reserve_kwh=60))])
    with pytest.raises(FlexibilityInfeasible) as exc:
        flexibility.solve(p)
    assert exc.value.family == "battery_soc"
    assert exc.value.site == "sj1"
    assert "backup reserve above soc_initial at site sj1" in str(exc.value)


def test_final_soc_unreachable():
    # 50 kWh now, at most 2 h x 10 kW x 1.0 = 20 kWh more: 80 kWh cannot be reached
    p = problem(2, {"z": zone([1, 2])}, [site("sj1", battery=_battery(power_kw=10, soc_final_min_kwh=80))])
    with pytest.raises(FlexibilityInfeasible) as exc:
        flexibility.solve(p)
    assert exc.value.family == "battery_final_soc"
    assert exc.value.site == "sj1"


def test_deferrable_cannot_finish_within_delay():
    # 30 kWh arrive in hour 0, may wait 1 h, but max_kw = 10 serves only 20 kWh by the end of hour 1
    job = {"id": "training", "baseline_kw": [30, 0, 0, 0], "max_delay_steps": 1, "max_kw": 10}
    p = problem(4, {"z": zone([1, 2, 3, 4])}, [site("sj1", workloads=[job])])
    with pytest.raises(FlexibilityInfeasible) as exc:
        flexibility.solve(p)
    assert exc.value.family == "deferrable_deadline"
    assert exc.value.workload == "training"
    assert exc.value.step == 1
    assert "deferrable workload training at site sj1 cannot finish within max_delay_steps=1" in str(exc.value)


def test_fixed_load_above_import_limit():
    inf = {"id": "inference", "baseline_kw": [100, 300]}
    p = problem(2, {"z": zone([1, 2])}, [site("sj1", grid_import_limit_kw=200, workloads=[inf])])
    with pytest.raises(FlexibilityInfeasible) as exc:
        flexibility.solve(p)
    assert exc.value.family == "grid_import_limit"
    assert exc.value.step == 1


def test_interaction_found_by_elastic_lp():
    # Each family alone is fine: the job could finish by hour 3 at max_kw 40, and hour by hour the fixed
    # load fits under the 45 kW limit; but only 45 - 30 = 15 kW is left for the job, 60 kWh in 4 h < 80 kWh.
    job = {"id": "batch", "baseline_kw": [40, 40, 0, 0], "max_delay_steps": 2, "max_kw": 40}
    inf = {"id": "inference", "baseline_kw": [30, 30, 30, 30]}
    p = problem(4, {"z": zone([1, 1, 1, 1])}, [site("sj1", grid_import_limit_kw=45, workloads=[inf, job])])
    with pytest.raises(FlexibilityInfeasible) as exc:
        flexibility.solve(p)
    assert exc.value.family == "grid_import_limit"
    assert exc.value.site == "sj1"
    assert "grid_import_limit_kw cannot be met at site sj1" in exc.value.message


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["zones"]["z"].update(price_per_mwh=[1]), "zones.z.price_per_mwh"),
        (lambda p: p["sites"][0].update(zone="nowhere"), "sites[0].zone"),
        (lambda p: p.update(resolution="15 minutes"), "resolution"),
        (lambda p: p["sites"][0].update(battery={"energy_kwh": 1, "power_kw": 1, "charge_efficiency": 1.5}),
         "sites[0].battery.charge_efficiency"),
        (lambda p: p["sites"][0]["workloads"].append({"id": "w", "baseline_kw": [1, 2], "migratable_to": ["x"]}),
         "sites[0].workloads[0].migratable_to"),
        (lambda p: (p["zones"]["z"].update(export_price_per_mwh=[1, 3]),
                    p["sites"][0].update(grid_import_limit_kw=None, grid_export_limit_kw=None)),
         "zones.z.export_price_per_mwh"),
    ],
)  # fmt: skip
def test_malformed_input_names_the_field(mutate, field):
    p = problem(2, {"z": zone([1, 2])}, [site("sj1")])
    mutate(p)
    with pytest.raises(FlexibilityInputError) as exc:
        flexibility.solve(p)
    assert exc.value.field == field
    assert exc.value.to_json()["status"] == "invalid"


def test_directly_constructed_problem_is_validated():
    # callers (e.g. apps building problems from the database) may construct the dataclasses directly
    good = flexibility.Problem.from_json(problem(2, {"z": zone([1, 2])}, [site("sj1")]))
    bad_site = flexibility.Site(
        id="sj1", zone="z", workloads=(flexibility.Workload(id="w", baseline_kw=np.array([1.0, 2.0, 3.0])),)
    )
    with pytest.raises(FlexibilityInputError) as exc:
        flexibility.solve(replace(good, sites=(bad_site,)))
    assert exc.value.field == "sites[0].workloads[0].baseline_kw"
    with pytest.raises(FlexibilityInputError) as exc:
        flexibility.envelope(replace(good, sites=(replace(good.sites[0], zone="elsewhere"),)))
    assert exc.value.field == "sites[0].zone"
