"""Golden examples of the payment and penalty rules, cent rounding and splitting, and the PJM regulation score."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from apps.settlement.performance import (
    IntervalTerms,
    cents,
    interval_money,
    regulation_score,
    signal_to_resolution,
    split_cents,
)

# 15-minute interval; capacity 20 per MW·h, energy 150 per MWh, cap 1.0, penalty below 80 % at 200 per MWh
TERMS = IntervalTerms(
    hours=0.25,
    capacity_price_per_mw_h=20.0,
    energy_price_per_mwh=150.0,
    performance_cap=1.0,
    penalty_threshold=0.8,
    shortfall_penalty_per_mwh=200.0,
)


def test_under_delivery_is_paid_for_what_was_delivered_and_penalised_below_threshold() -> None:
    # awarded 400 kW, delivered 300 kW: PF 0.75; capacity 20 × 0.4 MW × 0.25 h = 2.00;
    # energy 150 × 0.3 × 0.25 = 11.25; shortfall 0.8 × 400 − 300 = 20 kW → 200 × 0.02 × 0.25 = 1.00
    m = interval_money(awarded_kw=400, delivered_kw=300, terms=TERMS)
    assert m.performance_factor == pytest.approx(0.75)
    assert (m.capacity_payment, m.energy_payment, m.penalty) == (
        Decimal("2.00"),
        Decimal("11.25"),
        Decimal("1.00"),
    )
    assert m.net == Decimal("12.25")


def test_over_delivery_is_capped() -> None:
    # delivered 500 of 400: PF capped 1.0; energy on 400 kW only: 150 × 0.4 × 0.25 = 15.00; no penalty
    m = interval_money(awarded_kw=400, delivered_kw=500, terms=TERMS)
    assert m.performance_factor == 1.0
    assert (m.energy_payment, m.penalty) == (Decimal("15.00"), Decimal("0.00"))


def test_a_higher_cap_pays_over_delivery_up_to_the_cap() -> None:
    terms = IntervalTerms(0.25, 0.0, 150.0, 1.2, 0.8, 200.0)
    # delivered 500 of 400, cap 1.2 → PF 1.2, paid on min(500, 480) = 480 kW: 150 × 0.48 × 0.25 = 18.00
    m = interval_money(awarded_kw=400, delivered_kw=500, terms=terms)
    assert m.performance_factor == pytest.approx(1.2)
    assert m.energy_payment == Decimal("18.00")


def test_negative_delivery_earns_no_energy_and_a_full_penalty() -> None:
    # delivered −50: PF 0, energy 0; shortfall 320 + 50 = 370 kW → 200 × 0.37 × 0.25 = 18.50
    m = interval_money(awarded_kw=400, delivered_kw=-50, terms=TERMS)
    assert m.performance_factor == 0.0
    assert (m.energy_payment, m.penalty) == (Decimal("0.00"), Decimal("18.50"))


def test_exactly_at_the_threshold_is_not_penalised() -> None:
    assert interval_money(awarded_kw=400, delivered_kw=320, terms=TERMS).penalty == Decimal("0.00")


def test_an_uncalled_interval_earns_capacity_only() -> None:
    # awarded 400 kW but not activated: capacity 2.00, no PF, no energy, no penalty although nothing delivered
    m = interval_money(awarded_kw=400, called_kw=0, delivered_kw=0, terms=TERMS)
    assert m.performance_factor is None
    assert (m.capacity_payment, m.energy_payment, m.penalty) == (
        Decimal("2.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )


def test_delivery_is_judged_on_the_call_not_the_award() -> None:
    # 200 of 400 kW called, 200 delivered: PF 1.0; capacity on 400 → 2.00; energy 150 × 0.2 × 0.25 = 7.50
    m = interval_money(awarded_kw=400, called_kw=200, delivered_kw=200, terms=TERMS)
    assert m.performance_factor == 1.0
    assert (m.capacity_payment, m.energy_payment, m.penalty) == (
        Decimal("2.00"),
        Decimal("7.50"),
        Decimal("0.00"),
    )
    # a call above the award is held to the award: 600 called, 400 delivered → PF 1.0
    assert (
        interval_money(awarded_kw=400, called_kw=600, delivered_kw=400, terms=TERMS).performance_factor == 1.0
    )


def test_nothing_awarded_nothing_paid() -> None:
    m = interval_money(awarded_kw=0, delivered_kw=100, terms=TERMS)
    assert m.performance_factor is None and m.net == Decimal("0.00")


def test_cents_round_half_up_on_the_decimal_reading() -> None:
    assert cents(0.125) == Decimal("0.13")
    assert cents(2.675) == Decimal("2.68")  # float 2.675 is 2.67499…; round() would give 2.67
    assert cents(-0.125) == Decimal("-0.13")
    assert cents(Decimal("1.005")) == Decimal("1.01")


def test_split_cents_adds_up_exactly() -> None:
    assert split_cents(Decimal("10.00"), [1, 1, 1]) == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    # 48.00 by 300 : 125 kWh → 3388.235… and 1411.76… cents; the spare cent goes to the larger remainder
    assert split_cents(Decimal("48.00"), [300, 125]) == [Decimal("33.88"), Decimal("14.12")]
    assert split_cents(Decimal("-1.00"), [1, 1, 1]) == [Decimal("-0.34"), Decimal("-0.33"), Decimal("-0.33")]
    assert split_cents(Decimal("5.00"), [0, 0]) == [Decimal("2.50"), Decimal("2.50")]
    with pytest.raises(ValueError):
        split_cents(Decimal("1.00"), [1, -1])


def test_signal_is_averaged_onto_the_meter_resolution() -> None:
    # 2-s samples from 00:00:30: 30 samples of 1.0 then 30 of 0.0 (one minute each)
    signal = [1.0] * 30 + [0.0] * 30
    start = pd.Timestamp("2026-07-08 00:00:30", tz="UTC")
    out = signal_to_resolution(signal, start=start, signal_step_s=2, resolution_s=60)
    # 00:00 holds 15 samples of 1.0; 00:01 holds 15 × 1.0 and 15 × 0.0; 00:02 holds 15 × 0.0
    assert list(out.index.strftime("%H:%M:%S")) == ["00:00:00", "00:01:00", "00:02:00"]
    assert list(out) == pytest.approx([1.0, 0.5, 0.0])


PATTERN = [0.0, 100.0, 200.0, 100.0, 0.0, -100.0, -200.0, -100.0]
INDEX = pd.date_range("2026-07-08", periods=24, freq="1min", tz="UTC")
SETPOINT = pd.Series(PATTERN * 3, index=INDEX)


def test_perfect_response_scores_one() -> None:
    score = regulation_score(SETPOINT, SETPOINT.copy())
    assert (score.correlation, score.delay, score.precision) == pytest.approx((1.0, 1.0, 1.0))
    assert score.composite == pytest.approx(1.0)


def test_delayed_response_scores_lower_delay() -> None:
    # response two minutes late: best correlation 1.0 at δ = 120 s → delay score |(120 − 300) / 300| = 0.6;
    # precision: |r − s| = 200,200,200,0,… → mean 150 over mean |s| = 100 → 1 − 1.5 < 0 → 0;
    # composite (1 + 0.6 + 0) / 3 = 0.5333…
    delayed = pd.Series(np.roll(SETPOINT.to_numpy(), 2), index=INDEX)
    score = regulation_score(SETPOINT, delayed)
    assert score.delay_s == 120
    assert score.correlation == pytest.approx(1.0)
    assert score.delay == pytest.approx(0.6)
    assert score.precision == 0.0
    assert score.composite == pytest.approx(1.6 / 3)


def test_noisy_response_scores_lower_precision() -> None:
    # ±20 kW alternating error: mean |error| 20 over mean |s| 100 → precision 0.8
    noise = np.array([20.0, -20.0] * 12)
    score = regulation_score(SETPOINT, SETPOINT + noise)
    assert score.precision == pytest.approx(0.8)
    assert score.delay == pytest.approx(1.0)
    assert score.correlation < 1.0
    assert score.composite < 1.0


def test_mismatched_series_are_refused() -> None:
    with pytest.raises(ValueError):
        regulation_score(SETPOINT, SETPOINT.iloc[1:])
