"""Flexibility envelope: hand-checked values, soundness of the fast bound against the exact LPs."""

from __future__ import annotations

import numpy as np
import pytest

from flexibility.envelope import envelope
from flexibility.synthetic import synthetic_problem
from tests.flexibility.factories import problem, site, zone


def _battery_site(**battery) -> dict:
    b = {"energy_kwh": 100, "power_kw": 50, "soc_initial_kwh": 100, **battery}
    return problem(
        6,
        {"z": zone([50] * 6)},
        [
            site(
                "a", grid_import_limit_kw=1000, battery=b, workloads=[{"id": "inf", "baseline_kw": [100] * 6}]
            )
        ],
    )


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_full_battery_down_by_hand(method):
    # Full 100 kWh battery, 50 kW, lossless: 1 h -> 50 kW (power bound); 4 h -> 100 kWh / 4 h = 25 kW.
    env = envelope(_battery_site(), durations=(1, 4), method=method)
    assert env.down_kw[0, 1, :6] == pytest.approx([50] * 6)
    assert env.down_kw[1, 1, :3] == pytest.approx([25] * 3)
    assert np.isnan(env.down_kw[1, 1, 3:]).all()  # 4 h windows starting after hour 2 do not fit
    assert env.down_kw[0, 0, :6] == pytest.approx(env.down_kw[0, 1, :6])  # one site: portfolio = site


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_full_battery_up_needs_time_to_discharge_first(method):
    # Full at the start: no room to charge in hour 0; from hour 1 on it can first discharge 50 kWh (into the
    # 100 kW load) and then charge 50 kW for 1 h.
    env = envelope(_battery_site(), durations=(1,), method=method)
    assert env.up_kw[0, 1, :6] == pytest.approx([0, 50, 50, 50, 50, 50])


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_deferrable_down_by_hand(method):
    # 10 kW arriving every hour, may wait 2 h, max 20 kW (so 10 kW of catch-up capacity per hour).
    # 1 h windows: stop 10 kW and catch up in the next hour, except in the last hour (all done by the end).
    # 2 h windows: starts 0-2 stop 10 kW and catch up 20 kWh in the next two hours; start 3 has only hour 5
    # left to catch up 10 kWh, so 2 h x rho <= 10 kWh -> 5 kW; start 4 reaches the end -> 0.
    job = {"id": "batch", "baseline_kw": [10] * 6, "max_delay_steps": 2, "max_kw": 20}
    p = problem(6, {"z": zone([50] * 6)}, [site("a", workloads=[job])])
    env = envelope(p, durations=(1, 2), method=method)
    assert env.down_kw[0, 1, :6] == pytest.approx([10, 10, 10, 10, 10, 0])
    assert env.down_kw[1, 1, :5] == pytest.approx([10, 10, 10, 5, 0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_is_sound_lower_bound_of_exact(seed):
    p = synthetic_problem(3, steps=24, resolution="PT1H", seed=seed)
    fast = envelope(p, durations=(1, 3))
    exact = envelope(p, durations=(1, 3), method="exact")
    for name in ("down_kw", "up_kw"):
        f, e = getattr(fast, name), getattr(exact, name)
        assert np.array_equal(np.isnan(f), np.isnan(e))
        assert np.nanmax(f - e) <= 1e-6  # never promises more than can be held
        assert np.nansum(f) > 0.5 * np.nansum(e)  # and is not trivially loose
    assert np.nanmin(fast.down_kw) >= 0 and np.nanmin(fast.up_kw) >= 0


def test_frame_has_site_and_portfolio_columns():
    p = synthetic_problem(2, steps=24, resolution="PT1H")
    df = envelope(p, durations=(1, 2)).to_frame()
    assert list(df.columns) == [
        "portfolio_down_kw",
        "portfolio_up_kw",
        "s0_down_kw",
        "s0_up_kw",
        "s1_down_kw",
        "s1_up_kw",
    ]
    assert df.index.names == ["duration_hours", "start"]
    assert len(df) == 2 * 24
    assert df.index.get_level_values("start")[0].isoformat() == "2022-09-06T07:00:00+00:00"


def test_site_with_infeasible_baseline_is_not_assessed():
    p = synthetic_problem(2, steps=24, resolution="PT1H")
    p["sites"][1]["grid_import_limit_kw"] = 1.0  # baseline far above the limit
    env = envelope(p, durations=(1,))
    assert env.unassessed == ("s1",)
    assert np.isnan(env.down_kw[0, 2]).all()
    assert env.down_kw[0, 0, :24] == pytest.approx(env.down_kw[0, 1, :24])


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_stays_sound_with_min_power_fraction_and_ramps(seed):
    p = synthetic_problem(3, steps=24, resolution="PT1H", seed=seed)
    for s in p["sites"]:
        for w in s["workloads"]:
            if w["id"] == "training":
                w["min_power_fraction"] = 0.5
            if w["id"] == "batch":
                w["ramp_kw_per_min"] = 50.0
    plain = envelope(synthetic_problem(3, steps=24, resolution="PT1H", seed=seed), durations=(1, 3))
    fast = envelope(p, durations=(1, 3))
    exact = envelope(p, durations=(1, 3), method="exact")
    for name in ("down_kw", "up_kw"):
        f, e = getattr(fast, name), getattr(exact, name)
        assert np.nanmax(f - e) <= 1e-6  # never promises more than can be held
    assert np.nansum(fast.down_kw) < np.nansum(plain.down_kw)  # the constraints do take flexibility away
