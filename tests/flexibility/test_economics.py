"""Economics driver on small synthetic inputs (the real-data run is a benchmark, not a unit test)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flexibility.economics import (
    EconomicsInputs,
    FlexibilityMix,
    daily_problem,
    load_inputs,
    run_economics,
    summarise,
)
from flexibility.problem import Problem

ZONES = ["CAISO_NP15", "ERCOT_HUB", "PJM_DOM", "NYISO_CAPITL"]


def _inputs(days: int = 3) -> EconomicsInputs:
    idx = pd.date_range("2022-01-01T00:00:00Z", periods=24 * days, freq="h")
    hours = np.arange(idx.size) % 24
    prices = pd.DataFrame({z: 40 + 10 * k + 30 * np.sin(2 * np.pi * (hours - 6 - 3 * k) / 24) for k, z in enumerate(ZONES)},
                          index=idx)  # fmt: skip
    carbon = pd.DataFrame({z: 300 + 50 * k + 0 * hours for k, z in enumerate(ZONES)}, index=idx)
    shape = pd.Series(1 + 0.05 * np.sin(2 * np.pi * np.arange(24 * 31) / 24), index=pd.RangeIndex(24 * 31))
    return EconomicsInputs(prices=prices, carbon=carbon, load_shape=shape)


def test_daily_problem_follows_the_mix():
    mix = FlexibilityMix()
    p = Problem.from_json(daily_problem(_inputs(), pd.Timestamp("2022-01-02T00:00:00Z"), mix, migration=True))
    assert p.steps == 24 and len(p.sites) == 4
    s = p.sites[0]
    total_it = sum(w.baseline_kw.mean() for w in s.workloads)
    assert total_it == pytest.approx(mix.it_mean_kw, rel=0.01)
    training = next(w for w in s.workloads if w.id == "training")
    assert training.max_delay_steps == 8 and len(training.migratable_to) == 3
    assert s.batteries[0].backup_reserve_kwh == pytest.approx(0.5 * 5000)


def test_missing_price_day_is_skipped():
    inputs = _inputs()
    inputs.prices.iloc[30, 1] = np.nan
    assert (
        daily_problem(inputs, pd.Timestamp("2022-01-02T00:00:00Z"), FlexibilityMix(), migration=False) is None
    )


def test_migration_never_costs_more_and_both_beat_baseline():
    df = run_economics(_inputs(), days=3)
    s = summarise(df)
    assert list(s.index) == ["no migration", "with migration"]
    assert (s["cost_reduction_pct"] > 0).all()
    # migration only adds options, so the optimal daily objective cannot be worse
    total = df.assign(obj=df.energy_usd + df.degradation_usd).groupby("migration")["obj"].sum()
    assert total[True] <= total[False] + 1e-6


DATA = Path(os.environ.get("VPP_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.mark.skipif(
    not (DATA / "wholesale_prices_hourly").is_dir(), reason="shared data directory not present"
)
def test_real_inputs_load():
    inputs = load_inputs(DATA)
    assert list(inputs.prices.columns) == ZONES
    assert len(inputs.prices) == 8760
    assert inputs.prices.notna().mean().min() > 0.99
    assert inputs.load_shape.mean() == pytest.approx(1.0)
