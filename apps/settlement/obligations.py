"""The award, the call, the prices and the money of each settlement interval, and the regulation score (pure:
numpy/pandas, :class:`~decimal.Decimal`; no ORM).

Sources: capacity is paid on the award and delivery judged on the call (:func:`~.performance.interval_money`);
regulation pays capacity × the PJM performance score (PJM Manual 28, regulation market credits) with the score
of PJM Manual 12 §4.5.6 (:func:`~.performance.regulation_score`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .fingerprints import rounded
from .performance import (
    IntervalMoney,
    IntervalTerms,
    RegulationScore,
    cents,
    hourly_regulation_scores,
    interval_money,
    regulation_score,
    signal_to_resolution,
)

if TYPE_CHECKING:
    from .inputs import ProgramTerms, SettlementInputs

#: Values of :class:`apps.markets.choices.PricingMode` (mirrored here so this module imports no Django).
FIXED = "fixed"
PAY_AS_BID = "pay_as_bid"


def sign_of(program: ProgramTerms) -> float:
    """+1 for a "down" product (delivered = baseline − metered), −1 for "up" (metered − baseline)."""
    return 1.0 if program.is_down else -1.0


def awarded_kw(inputs: SettlementInputs) -> np.ndarray:
    """The aggregator's awarded kW per settlement interval (0 where the award has no interval)."""
    return np.array([float(inputs.award_interval_kw.get(t, 0.0)) for t in inputs.index])


def interval_prices(inputs: SettlementInputs) -> np.ndarray:
    """Energy price per MWh of each interval: the program's fixed price, the bid's price (pay as bid; 0 where the
    bid has no interval) or the award's clearing price (pay as clear)."""
    n = len(inputs.index)
    if inputs.program.pricing_mode == FIXED:
        return np.full(n, float(inputs.program.energy_price_per_mwh))
    if inputs.program.pricing_mode == PAY_AS_BID:
        return np.array([float(inputs.bid_interval_prices_per_mwh.get(t, 0.0)) for t in inputs.index])
    return np.full(n, float(inputs.clearing_price_per_mwh))


def called_kw(inputs: SettlementInputs, awarded: np.ndarray) -> np.ndarray:
    """kW the operator called per interval (mean over the interval), at most the award: each activation calls its
    ``kw`` (one that follows a signal calls the whole award) over ``[start, end)``, weighted by the share of the
    interval it covers; overlapping activations count the largest call."""
    index = inputs.index
    step = index[1] - index[0] if len(index) > 1 else inputs.event_end - inputs.event_start
    called = np.zeros(len(index))
    for act in inputs.activations:
        for i, t in enumerate(index):
            overlap = (min(act.end, t + step) - max(act.start, t)) / step
            if overlap <= 0:
                continue
            kw = awarded[i] if act.follows_signal else float(act.kw or 0.0)
            called[i] = max(called[i], min(kw, awarded[i]) * min(overlap, 1.0))
    return called


def regulation_figures(
    inputs: SettlementInputs, awarded: np.ndarray, baselines: list[np.ndarray]
) -> tuple[RegulationScore, dict] | None:
    """PJM performance score of the portfolio and its inputs (``resolution_s``, ``setpoint``, ``response``).

    Setpoint = signal × awarded kW, with the signal averaged onto the meter resolution; response = Σ sites
    (base − metered; the reverse for "up") at that resolution, where base is the site's regulation base point
    where it meters one (PJM: response = output − regulation base point) and else the settlement baseline held
    constant over its settlement interval. ``detail["hourly"]`` holds the score of each clock hour
    (:func:`~.performance.hourly_regulation_scores`). ``None`` without a signal, without sites or when the signal
    does not overlap the event.
    """
    rs = inputs.regulation_signal
    index = inputs.index
    if rs is None or not inputs.sites:
        return None
    signal = signal_to_resolution(
        rs.values, start=rs.start, signal_step_s=rs.step_s, resolution_s=rs.resolution_s
    )
    signal = signal[(signal.index >= index[0]) & (signal.index < inputs.event_end)]
    if signal.empty:
        return None
    fine = signal.index
    settle_pos = np.clip(index.searchsorted(fine, side="right") - 1, 0, len(index) - 1)
    setpoint = pd.Series(signal.to_numpy() * awarded[settle_pos], index=fine)
    response = np.zeros(len(fine))
    sign = sign_of(inputs.program)
    base_points = rs.base_point_kw or (None,) * len(baselines)
    for baseline, metered, base_point in zip(baselines, rs.metered_kw, base_points, strict=True):
        m = metered.reindex(fine).to_numpy(dtype=float) if metered is not None else np.full(len(fine), np.nan)
        b = base_point.reindex(fine).to_numpy(dtype=float) if base_point is not None else baseline[settle_pos]
        response += np.where(np.isfinite(m) & np.isfinite(b), sign * (b - m), 0.0)
    response_kw = pd.Series(response, index=fine)
    score = regulation_score(setpoint, response_kw)
    detail = {
        "resolution_s": rs.resolution_s,
        "setpoint": rounded(setpoint.to_numpy()),
        "response": rounded(response),
        "hourly": hourly_regulation_scores(setpoint, response_kw),
    }
    return score, detail


def interval_terms(program: ProgramTerms, prices: np.ndarray) -> list[IntervalTerms]:
    """The program's terms for each interval, with that interval's energy price."""
    hours = program.settlement_interval_minutes / 60.0
    return [
        IntervalTerms(
            hours=hours,
            capacity_price_per_mw_h=program.capacity_price_per_mw_h,
            energy_price_per_mwh=float(p),
            performance_cap=program.performance_cap,
            penalty_threshold=program.penalty_threshold,
            shortfall_penalty_per_mwh=program.shortfall_penalty_per_mwh,
        )
        for p in prices
    ]


def money(
    *, awarded: float, called: float, delivered: float, terms: IntervalTerms, regulation_factor: float | None
) -> IntervalMoney:
    """Money of one interval: :func:`~.performance.interval_money`, or for regulation (``regulation_factor`` is
    the performance score, 0 without one) capacity × score and a shortfall penalty below the threshold score
    (PJM Manual 28)."""
    if regulation_factor is None:
        return interval_money(awarded_kw=awarded, called_kw=called, delivered_kw=delivered, terms=terms)
    shortfall = max(0.0, terms.penalty_threshold - regulation_factor) * awarded
    return IntervalMoney(
        regulation_factor if awarded > 0 else None,
        cents(terms.capacity_price_per_mw_h * awarded / 1000.0 * terms.hours * regulation_factor),
        cents(0.0),
        cents(terms.shortfall_penalty_per_mwh * shortfall / 1000.0 * terms.hours),
    )
