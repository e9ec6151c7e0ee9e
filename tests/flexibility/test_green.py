"""Green contracts, the hourly green ledger and the minimum hourly green-share constraint in the LP (issue 12)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from flexibility import FlexibilityInfeasible, FlexibilityInputError, Problem, Result, ledger, solve


def test_ledger_on_hand_computed_hours() -> None:
    led = ledger(
        import_kwh=[100, 100, 50],
        pv_used_kwh=[0, 50, 0],
        contract_kwh=[[30, 120, 0]],
        low_carbon_share=[0.5, 0.2, 0.4],
    )
    # h0: matched 30, grid low-carbon 0.5 × 70 = 35 → clean 65 of 100
    # h1: matched min(120, 100) = 100, pv 50 → clean 150 of 150
    # h2: grid low-carbon 0.4 × 50 = 20 → clean 20 of 50
    assert led.matched_kwh.tolist() == [30, 100, 0]
    assert np.allclose(led.clean_kwh, [65, 150, 20])
    assert np.allclose(led.hourly_share, [0.65, 1.0, 0.4])
    assert led.hourly_matched_share == pytest.approx(235 / 300)
    # annual: pv 50 + all contract volume 150 + grid low-carbon 55 = 255 of 300
    assert led.annual_matched_share == pytest.approx(255 / 300)
    assert np.allclose(led.shortfall_kwh(0.8), [15, 0, 20])


def test_ledger_caps_annual_at_consumption_and_refuses_bad_shares() -> None:
    led = ledger(import_kwh=[10, 10], pv_used_kwh=[0, 0], contract_kwh=[100, 0], low_carbon_share=[0, 0])
    assert led.annual_matched_share == 1.0
    assert led.hourly_matched_share == pytest.approx(0.5)
    with pytest.raises(ValueError, match="low_carbon_share"):
        ledger(import_kwh=[1], pv_used_kwh=[0], contract_kwh=[0], low_carbon_share=[1.5])
    with pytest.raises(ValueError, match="import_kwh"):
        ledger(import_kwh=[-1], pv_used_kwh=[0], contract_kwh=[0], low_carbon_share=[0])


def _problem(**site_extra: Any) -> dict[str, Any]:
    """One site, 4 hourly steps: 100 kW of deferrable work arriving each hour (may wait 3 h, at most 200 kW),
    cheap grid in hours 0-1 (10, 12/MWh) with a 30 % low-carbon mix, expensive hours 2-3 (100, 102/MWh) covered by a
    200 kWh/h take-or-pay solar PPA at 50/MWh."""
    return {
        "start": "2022-09-01T00:00:00Z",
        "resolution": "PT1H",
        "steps": 4,
        "zones": {"Z": {"price_per_mwh": [10, 12, 100, 102], "low_carbon_share": [0.3] * 4}},
        "sites": [
            {
                "id": "dc",
                "zone": "Z",
                "pue": 1.0,
                "workloads": [{"id": "batch", "baseline_kw": [100] * 4, "max_delay_steps": 3, "max_kw": 200}],
                **site_extra,
            }
        ],
        "green_contracts": [
            {
                "id": "ppa",
                "zone": "Z",
                "profile_kwh": [0, 0, 200, 200],
                "price_per_mwh": 50,
                "take_or_pay": True,
            }
        ],
    }


def test_hard_min_hourly_green_share_is_honoured() -> None:
    free = solve(_problem())
    green = solve(_problem(min_green_share=0.8))
    # unconstrained: run as it arrives in the cheap, grey hours
    assert np.allclose(free.sites["dc"].grid_kw, [100, 100, 100, 100])
    assert free.green["sites"]["dc"]["hourly_share"][:2] == pytest.approx([0.3, 0.3])
    # with 80 % hourly: every hour that consumes is ≥ 80 % clean, so the grey hours are emptied
    shares = [s for s in green.green["sites"]["dc"]["hourly_share"] if s is not None]
    assert shares and min(shares) >= 0.8 - 1e-9
    assert np.allclose(green.sites["dc"].grid_kw, [0, 0, 200, 200])
    assert green.cost["energy"] == pytest.approx((200 * 100 + 200 * 102) / 1000)
    assert green.cost["energy"] > free.cost["energy"]
    # take-or-pay: Σ (strike − zone price) × profile, whatever is matched
    expected_contract = ((50 - 100) * 200 + (50 - 102) * 200) / 1000
    assert green.cost["green_contracts"] == pytest.approx(expected_contract)
    assert free.cost["green_contracts"] == pytest.approx(expected_contract)
    assert green.green["contracts"]["ppa"]["matched_kwh"] == pytest.approx(400)
    assert green.green["sites"]["dc"]["hourly_matched_share"] == pytest.approx(1.0)


def test_priced_shortfall_trades_cost_against_green_share() -> None:
    # serving x kW in a grey hour saves ≥ 88/MWh against an expensive hour and misses (0.8 − 0.3)·x of clean
    # energy: at 100/MWh of shortfall (50 per MWh served) it pays to run grey, at 1000/MWh it does not
    cheap = solve(_problem(min_green_share=0.8, green_shortfall_price_per_mwh=100))
    dear = solve(_problem(min_green_share=0.8, green_shortfall_price_per_mwh=1000))
    assert np.allclose(cheap.sites["dc"].grid_kw, [100, 100, 100, 100])
    assert cheap.green["sites"]["dc"]["shortfall_kwh"] == pytest.approx(0.5 * 200)
    assert cheap.cost["green_shortfall"] == pytest.approx(100 * 100 / 1000)
    assert np.allclose(dear.sites["dc"].grid_kw, [0, 0, 200, 200])
    assert dear.cost["green_shortfall"] == pytest.approx(0.0)
    assert sum(cheap.cost.values()) == pytest.approx(cheap.objective)


def test_impossible_hard_share_is_reported_as_green_share() -> None:
    p = _problem(min_green_share=0.8)
    p["sites"][0]["workloads"][0].pop("max_delay_steps")  # the work can no longer wait for the PPA hours
    with pytest.raises(FlexibilityInfeasible) as info:
        solve(p)
    assert info.value.family == "green_share" and info.value.site == "dc" and info.value.step == 0


def test_pay_as_used_contract_is_bought_only_when_it_pays() -> None:
    p = _problem()
    p["green_contracts"][0].update(take_or_pay=False, price_per_mwh=150, profile_kwh=[200] * 4)
    dear = solve(p)  # above every zone price: not bought without a green target
    assert dear.green["contracts"]["ppa"]["matched_kwh"] == pytest.approx(0)
    assert dear.cost["green_contracts"] == pytest.approx(0)
    p["green_contracts"][0].update(price_per_mwh=50, profile_kwh=[200, 200, 200, 0])
    cheap = solve(p)  # below the zone price in hour 2 only: bought there, up to the import
    assert cheap.green["sites"]["dc"]["matched_kw"] == pytest.approx([0, 0, 100, 0])
    assert cheap.cost["green_contracts"] == pytest.approx((50 - 100) * 100 / 1000)


def test_problems_without_green_inputs_build_the_same_lp() -> None:
    p = _problem()
    p.pop("green_contracts")
    plain = copy.deepcopy(p)
    plain["zones"]["Z"].pop("low_carbon_share")
    a, b = solve(plain), solve(p)
    assert a.green is None and b.green is None and "green" not in a.to_json()
    assert a.lp == b.lp and a.objective == pytest.approx(b.objective)
    assert set(a.cost) == {"energy", "carbon", "degradation", "shortfall_penalty"}


def test_shared_contract_couples_sites_and_decomposition_is_exact() -> None:
    p = _problem(min_green_share=0.6, green_shortfall_price_per_mwh=500)
    second = copy.deepcopy(p["sites"][0])
    second["id"] = "dc2"
    p["sites"].append(second)
    joint, blocks = solve(p, decompose=False), solve(p, decompose=True)
    assert joint.objective == pytest.approx(blocks.objective, rel=1e-9, abs=1e-9)
    matched = np.add(blocks.green["sites"]["dc"]["matched_kw"], blocks.green["sites"]["dc2"]["matched_kw"])
    assert np.all(matched <= np.array([0, 0, 200, 200]) + 1e-6)


def test_json_round_trip_and_validation() -> None:
    p = Problem.from_json(_problem(min_green_share=0.8))
    again = Problem.from_json(p.to_json())
    assert again.green_contracts[0].profile_kwh.tolist() == [0, 0, 200, 200]
    assert again.sites[0].min_green_share == 0.8
    r = solve(p)
    assert Result.from_json(r.to_json()).green == r.green
    bad = _problem()
    bad["zones"]["Y"] = {"price_per_mwh": [1] * 4}
    bad["green_contracts"][0]["zone"] = "Y"
    bad["green_contracts"][0]["sites"] = ["dc"]
    with pytest.raises(FlexibilityInputError) as info:
        Problem.from_json(bad)
    assert info.value.field == "green_contracts[0].sites"
    bad = _problem(min_green_share=1.2)
    with pytest.raises(FlexibilityInputError, match="min_green_share"):
        Problem.from_json(bad)
    bad = _problem()
    bad["zones"]["Z"]["low_carbon_share"] = [0.3, 0.3, 0.3, 30]
    with pytest.raises(FlexibilityInputError, match="low_carbon_share"):
        Problem.from_json(bad)
