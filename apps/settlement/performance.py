"""Performance, payments and the regulation score: pure functions (numbers and pandas in, numbers out).

Money is :class:`~decimal.Decimal`, rounded to cents with ``ROUND_HALF_UP`` once per settlement interval and
line (:func:`cents`); totals are exact sums of rounded lines, so the API, the CSV and the printed statement
show the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

CENT = Decimal("0.01")


def cents(value: float | Decimal) -> Decimal:
    """``value`` rounded to cents, half away from zero (``ROUND_HALF_UP``). Floats go through ``repr`` so that
    0.125 (exact in binary) becomes 0.13 and 0.1 + 0.2 is read as 0.30000000000000004 → 0.30."""
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IntervalTerms:
    """Program terms of one settlement interval: hours, prices per MW·h / MWh, and the performance rules."""

    hours: float
    capacity_price_per_mw_h: float
    energy_price_per_mwh: float
    performance_cap: float
    penalty_threshold: float
    shortfall_penalty_per_mwh: float


@dataclass(frozen=True)
class IntervalMoney:
    """Performance factor (``None`` without an award) and the money of one interval (cents)."""

    performance_factor: float | None
    capacity_payment: Decimal
    energy_payment: Decimal
    penalty: Decimal

    @property
    def net(self) -> Decimal:
        return self.capacity_payment + self.energy_payment - self.penalty


def interval_money(
    *, awarded_kw: float, delivered_kw: float, terms: IntervalTerms, called_kw: float | None = None
) -> IntervalMoney:
    """Payments of one interval for an awarded quantity and the delivered flexibility (both kW, mean).

    ``called_kw`` is what the operator activated in the interval (default: the award); the obligation is
    ``called = min(called_kw, awarded_kw)`` — availability is paid on the award, delivery is judged on the call:

    - capacity payment = ``capacity_price_per_mw_h × awarded MW × hours`` (paid whether called or not);
    - performance factor ``PF = min(max(delivered, 0) / called, cap)`` (program's ``performance_cap``);
    - energy payment = ``energy price × min(max(delivered, 0), cap × called) MW × hours`` (no payment for
      negative delivery, none beyond the cap);
    - penalty = ``shortfall_penalty_per_mwh × max(0, threshold × called − delivered) MW × hours`` — charged
      when ``PF`` falls below the program's ``penalty_threshold`` (the rate is the program's).

    An interval that was not called has no performance factor, no energy payment and no penalty.
    """
    h = terms.hours
    if awarded_kw <= 0:  # nothing awarded: nothing paid, nothing owed
        return IntervalMoney(None, cents(0.0), cents(0.0), cents(0.0))
    capacity = cents(terms.capacity_price_per_mw_h * awarded_kw / 1000.0 * h)
    called = awarded_kw if called_kw is None else min(max(called_kw, 0.0), awarded_kw)
    if called <= 0:
        return IntervalMoney(None, capacity, cents(0.0), cents(0.0))
    delivered_pos = max(delivered_kw, 0.0)
    pf = min(delivered_pos / called, terms.performance_cap)
    paid_kw = min(delivered_pos, terms.performance_cap * called)
    energy = terms.energy_price_per_mwh * paid_kw / 1000.0 * h
    shortfall_kw = max(0.0, terms.penalty_threshold * called - delivered_kw)
    penalty = terms.shortfall_penalty_per_mwh * shortfall_kw / 1000.0 * h
    return IntervalMoney(pf, capacity, cents(energy), cents(penalty))


def split_cents(total: Decimal, weights: Sequence[float]) -> list[Decimal]:
    """Split ``total`` (cents) in proportion to non-negative ``weights`` so that the parts add up exactly to
    ``total`` (largest-remainder method: floor every share to cents, then hand out the remaining cents to the
    largest remainders, ties to the first). All-zero weights split evenly.

    Raises:
        ValueError: a weight is negative or there are no weights.
    """
    if not weights:
        raise ValueError("no weights")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    w = [Decimal(repr(float(x))) for x in weights]
    if sum(w) == 0:
        w = [Decimal(1)] * len(w)
    units = int((total / CENT).to_integral_value())
    sign = -1 if units < 0 else 1
    units = abs(units)
    exact = [Decimal(units) * x / sum(w) for x in w]
    floors = [int(e) for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(sign * f) * CENT for f in floors]


def signal_to_resolution(
    signal: Sequence[float], *, start: pd.Timestamp, signal_step_s: int, resolution_s: int
) -> pd.Series:
    """A regulation signal (fractions every ``signal_step_s``, e.g. PJM RegA every 2 s) averaged onto the meter's
    resolution: each meter interval gets the mean of the signal samples that fall in it (the meter reports mean
    power over its interval, so the mean signal is the setpoint it can be compared with). Intervals only
    partly covered get the mean of the samples present.

    Returns:
        Series indexed by meter-interval start (UTC, aligned to ``resolution_s`` from the epoch).
    """
    index = pd.date_range(pd.Timestamp(start), periods=len(signal), freq=pd.Timedelta(seconds=signal_step_s))
    raw = pd.Series(np.asarray(signal, dtype=float), index=index)
    return raw.resample(pd.Timedelta(seconds=resolution_s), origin="epoch").mean().dropna()


@dataclass(frozen=True)
class RegulationScore:
    """PJM performance score components (each 0…1) and their average; ``delay_s`` is the delay of best fit."""

    correlation: float
    delay: float
    precision: float
    composite: float
    delay_s: float


def regulation_score(
    setpoint_kw: pd.Series, response_kw: pd.Series, *, max_delay_s: float = 300.0
) -> RegulationScore:
    """Regulation performance score as PJM Manual 12 (Balancing Operations) §4.5.6 defines it.

    Inputs are on the same regular grid (kW; setpoint = signal × awarded kW, response = metered reduction
    baseline − metered). PJM computes on 10-second samples; here the grid is the meter's resolution (see
    :func:`signal_to_resolution`), so delays are searched in steps of that resolution.

    - Correlation score: ``max over δ ∈ [0, 5 min]`` of the Pearson correlation of the setpoint with the response
      shifted back by δ (response at ``t + δ``); negative correlations count as 0.
    - Delay score: ``|(δ* − 5 min) / 5 min|`` with δ* the delay of the best correlation (1 = immediate, 0 = 5 min).
    - Precision score: ``1 − mean(|response − setpoint|) / mean(|setpoint|)`` over the event, floored at 0.
    - Composite: the average of the three (PJM weights them equally, 1/3 each).

    A constant series has no defined correlation: a constant response that equals a constant setpoint scores
    correlation 1, otherwise 0.

    Raises:
        ValueError: the series are not on the same index or are empty.
    """
    if len(setpoint_kw) == 0 or not setpoint_kw.index.equals(response_kw.index):
        raise ValueError("setpoint and response must be non-empty and share the same index")
    step_s = (
        (setpoint_kw.index[1] - setpoint_kw.index[0]).total_seconds() if len(setpoint_kw) > 1 else max_delay_s
    )
    s = setpoint_kw.to_numpy(dtype=float)
    r = response_kw.to_numpy(dtype=float)
    best_corr, best_shift = -np.inf, 0
    max_shift = int(max_delay_s // step_s)
    for shift in range(0, min(max_shift, len(s) - 2) + 1):
        a = s[: len(s) - shift] if shift else s
        b = r[shift:]
        corr = _corr(a, b)
        if corr > best_corr + 1e-12:
            best_corr, best_shift = corr, shift
    correlation = max(0.0, best_corr)
    delay_s = best_shift * step_s
    delay = abs((delay_s - max_delay_s) / max_delay_s)
    mean_abs = float(np.mean(np.abs(s)))
    precision = max(0.0, 1.0 - float(np.mean(np.abs(r - s))) / mean_abs) if mean_abs > 0 else 0.0
    composite = (correlation + delay + precision) / 3.0
    return RegulationScore(correlation, delay, precision, composite, delay_s)


def hourly_regulation_scores(setpoint_kw: pd.Series, response_kw: pd.Series) -> list[dict]:
    """:func:`regulation_score` of each clock hour of the series (PJM Manual 12 §4.5.6 scores every hour on its
    own): ``[{"start": ISO 8601 hour, "correlation", "delay", "precision", "composite", "delay_s"}]``, hours
    in order; an hour with fewer than two samples is left out.

    Raises:
        ValueError: the series are not on the same index or are empty.
    """
    if len(setpoint_kw) == 0 or not setpoint_kw.index.equals(response_kw.index):
        raise ValueError("setpoint and response must be non-empty and share the same index")
    hours = setpoint_kw.index.floor("1h")
    out = []
    for hour in hours.unique():
        mask = hours == hour
        if mask.sum() < 2:
            continue
        score = regulation_score(setpoint_kw[mask], response_kw[mask])
        out.append(
            {
                "start": hour.isoformat(),
                "correlation": round(score.correlation, 4),
                "delay": round(score.delay, 4),
                "precision": round(score.precision, 4),
                "composite": round(score.composite, 4),
                "delay_s": score.delay_s,
            }
        )
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return 0.0
    sa, sb = a.std(), b.std()
    if sa == 0 or sb == 0:
        return 1.0 if sa == sb == 0 and np.allclose(a, b) else 0.0
    return float(np.corrcoef(a, b)[0, 1])
