"""A site following the real PJM RegA signal at its cadence, scored as PJM Manual 12 does (pure, no database)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from apps.settlement.performance import hourly_regulation_scores, regulation_score, signal_to_resolution
from apps.simulation.market import REGA_FILE
from apps.simulation.regulation import RegulationPlant, meter_means, simulate_regulation

START = pd.Timestamp("2022-09-06T21:00:00Z")
SHARE_KW = 1000.0


def _rega() -> np.ndarray:
    with REGA_FILE.open() as handle:
        return np.array([float(row["rega_signal_pu"]) for row in csv.DictReader(handle)])


def _plant(**kw: float) -> RegulationPlant:
    values = {
        "battery_power_kw": 2000.0,
        "soc_kwh": 3000.0,
        "soc_floor_kwh": 1000.0,
        "soc_max_kwh": 5000.0,
        "it_down_kw": 0.0,
        "it_up_kw": 0.0,
        "queue_kwh": 0.0,
        "tau_battery_s": 1.0,
        "tau_it_s": 30.0,
    } | kw
    return RegulationPlant(**values)


def _score(signal: np.ndarray, response_kw: np.ndarray):  # type: ignore[no-untyped-def]
    """The PJM score of a response (kW every 2 s) to ``signal`` on 10-second samples, as settlement computes it."""
    setpoint = signal_to_resolution(list(SHARE_KW * signal), start=START, signal_step_s=2, resolution_s=10)
    response = pd.Series(meter_means(response_kw, step_s=2), index=setpoint.index)
    return setpoint, response, regulation_score(setpoint, response)


def test_a_perfect_site_without_noise_scores_at_least_0_9() -> None:
    signal = _rega()
    path = simulate_regulation(SHARE_KW * signal, step_s=2, plant=_plant())
    *_, score = _score(signal, path.response_kw)
    assert score.composite >= 0.9
    assert score.correlation > 0.99 and score.precision > 0.95


def test_a_slow_or_under_complying_site_scores_lower() -> None:
    signal = _rega()
    *_, perfect = _score(signal, simulate_regulation(SHARE_KW * signal, step_s=2, plant=_plant()).response_kw)
    # IT only, with a two-minute lag: the response trails the signal
    slow_plant = _plant(
        battery_power_kw=0.0, it_down_kw=2000.0, it_up_kw=2000.0, queue_kwh=1000.0, tau_it_s=120.0
    )
    *_, slow = _score(signal, simulate_regulation(SHARE_KW * signal, step_s=2, plant=slow_plant).response_kw)
    # half compliance: the shape is right, the size is not
    *_, half = _score(
        signal, simulate_regulation(0.5 * SHARE_KW * signal, step_s=2, plant=_plant()).response_kw
    )
    assert slow.composite < perfect.composite - 0.1
    assert slow.delay_s > 0
    assert half.precision == pytest.approx(0.5, abs=0.05)
    assert half.composite < perfect.composite - 0.1


def test_the_battery_soc_moves_with_the_regulation_energy_and_stops_at_the_reserve() -> None:
    down = np.full(900, SHARE_KW)  # 30 minutes of full discharge requested
    path = simulate_regulation(down, step_s=2, plant=_plant(soc_kwh=1200.0))
    assert path.soc_kwh == pytest.approx(1000.0, abs=1.0)  # it discharged to the floor, not below
    assert path.battery_kw[-1] == pytest.approx(0.0, abs=1e-6)
    assert path.battery_kw[0] > 0


def test_each_hour_of_a_two_hour_signal_is_scored_on_its_own() -> None:
    signal = _rega()
    two_hours = np.concatenate([signal, signal])
    good = simulate_regulation(SHARE_KW * signal, step_s=2, plant=_plant()).response_kw
    setpoint, response, _ = _score(two_hours, np.concatenate([good, 0.3 * good]))
    hours = hourly_regulation_scores(setpoint, response)
    assert [h["start"] for h in hours] == [START.isoformat(), (START + pd.Timedelta(hours=1)).isoformat()]
    assert hours[0]["composite"] >= 0.9
    assert hours[1]["precision"] == pytest.approx(0.3, abs=0.05)
    assert hours[1]["composite"] < hours[0]["composite"]
