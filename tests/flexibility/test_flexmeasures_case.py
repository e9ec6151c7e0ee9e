"""The FlexMeasures benchmark case: our objective reproduced by an independent LP (and by FlexMeasures itself
when a FlexMeasures virtual environment is given in ``FLEXMEASURES_PYTHON``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

import flexibility

# CAISO NP15 day-ahead LMP, 2022-09-06 00:00-23:00 PDT (USD/MWh). Source: CAISO OASIS PRC_LMP via
# HewlettPackard/green-dcc (MIT; see ../shared/data/wholesale_prices_hourly/SOURCE.md).
CAISO_NP15_2022_09_06 = [
    132.69135, 119.86271, 121.02394, 115.43074, 115.59923, 129.4268, 134.0207, 116.31155, 97.63861, 102.60308,
    113.26337, 119.36123, 145.22734, 169.7672, 189.06197, 293.79993, 405.25656, 924.75995, 1161.1825, 1065.4539,
    738.5794, 227.72, 171.9282, 150.77306,
]  # fmt: skip
PRICES = np.repeat(CAISO_NP15_2022_09_06, 4)  # quarter-hours
DT = 0.25
ETA = 0.9**0.5


def _ours(n: int, limit_kw: float | None) -> flexibility.Result:
    batt = {"energy_kwh": 1000, "power_kw": 500, "charge_efficiency": ETA, "discharge_efficiency": ETA,
            "soc_initial_kwh": 500, "soc_min_kwh": 0, "soc_max_kwh": 1000}  # fmt: skip
    return flexibility.solve({
        "start": "2022-09-06T07:00:00Z", "resolution": "PT15M", "steps": 96,
        "zones": {"CAISO_NP15": {"price_per_mwh": PRICES.tolist()}},
        "sites": [{"id": "s", "zone": "CAISO_NP15", "grid_import_limit_kw": limit_kw,
                   "grid_export_limit_kw": limit_kw, "workloads": [], "batteries": [batt] * n}],
    })  # fmt: skip


def _independent(n: int, limit_kw: float | None) -> float:
    """Dense textbook LP: per battery charge c and discharge d (kW); SoC written as cumulative sums
    0 <= 500 + sum_{tau<=t} (eta c - d / eta) dt <= 1000; net grid = sum(c - d), objective sum(price * net) dt/1000."""
    T = PRICES.size
    lower_tri = np.tril(np.ones((T, T))) * DT
    blocks = []
    for _ in range(n):
        blocks.append(np.hstack([ETA * lower_tri, -lower_tri / ETA]))
    soc = sp.block_diag(blocks, format="csr")  # (n T, 2 n T)
    A_ub = [soc, -soc]
    b_ub = [np.full(n * T, 500.0), np.full(n * T, 500.0)]
    if limit_kw is not None:
        net = sp.hstack([sp.hstack([sp.eye(T), -sp.eye(T)])] * n, format="csr")
        A_ub += [net, -net]
        b_ub += [np.full(T, limit_kw), np.full(T, limit_kw)]
    c = np.tile(np.concatenate([PRICES, -PRICES]) * DT / 1000, n)
    res = linprog(c, A_ub=sp.vstack(A_ub), b_ub=np.concatenate(b_ub), bounds=(0, 500), method="highs")
    assert res.status == 0
    return float(res.fun)


def test_one_battery_matches_independent_lp():
    ours = _ours(1, None)
    ref = _independent(1, None)
    assert ours.objective == pytest.approx(ref, rel=1e-6)
    assert ours.objective < -100  # the 2022-09-06 evening spike pays for arbitrage


def test_batteries_under_shared_limit_match_independent_lp():
    # 5 batteries under a 1 MW shared limit (the 50 x 10 MW benchmark case, scaled down for the test)
    ours = _ours(5, 1000.0)
    ref = _independent(5, 1000.0)
    assert ours.objective == pytest.approx(ref, rel=1e-6)
    assert np.abs(ours.sites["s"].grid_kw).max() <= 1000 + 1e-6


@pytest.mark.skipif(
    not os.environ.get("FLEXMEASURES_PYTHON"), reason="set FLEXMEASURES_PYTHON to a FlexMeasures venv"
)
def test_flexmeasures_device_scheduler_agrees():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "flexibility" / "flexmeasures_compare.py"
    spec = importlib.util.spec_from_file_location("flexmeasures_compare", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["flexmeasures_compare"] = mod
    spec.loader.exec_module(mod)
    fm = mod.run_flexmeasures(os.environ["FLEXMEASURES_PYTHON"], PRICES.tolist(), 1, None, 1, "highspy")
    assert fm["objective_fm"] * DT == pytest.approx(_ours(1, None).objective, rel=1e-6)
