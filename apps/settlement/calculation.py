"""Compute: the figures of one event's settlement from its :class:`~apps.settlement.inputs.SettlementInputs`.

Pure (numpy, pandas, :class:`~decimal.Decimal`; no ORM, no Django models): :func:`settlement_figures` returns a
frozen :class:`SettlementFigures` that :mod:`apps.settlement.services` stores row for row without arithmetic.

Rules (sources):

- Baselines: the program's method from :mod:`forecasting.customer_baselines` (NYISO / PJM day matching, CAISO
  10-in-10, or the forecast known at gate closure).
- Delivered kW = baseline − metered for "down" products (metered − baseline for "up"); an interval without a
  baseline or a meter reading delivers 0 kW.
- Called kW: each activation calls its kW (a regulation activation the whole award) over the share of the
  interval it covers, at most the award; overlapping activations count the largest call.
- Money per interval: :func:`~apps.settlement.performance.interval_money` (capacity on the award, energy and
  penalty on the call). Regulation: capacity × PJM performance score (PJM Manual 28, regulation credits), no
  energy payment, a shortfall penalty below the threshold score; the score as PJM Manual 12 §4.5.6
  (:func:`~apps.settlement.performance.regulation_score`).
- Revenue split: the net revenue split to the cent by each site's delivered energy while called (by awarded
  share if nobody delivered), the owner's fee kept from a positive share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .baselines import site_baseline
from .fingerprints import fingerprint, rounded
from .obligations import (
    awarded_kw,
    called_kw,
    interval_prices,
    interval_terms,
    money,
    regulation_figures,
    sign_of,
)
from .performance import IntervalTerms, RegulationScore, cents, split_cents
from .savings import SiteSavings, site_savings

if TYPE_CHECKING:
    from .inputs import SettlementInputs, SiteInputs

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class IntervalFigures:
    """One settlement interval ``[start, end)`` of the portfolio or of one site (kW means; money in cents).

    ``baseline_kw``/``metered_kw`` are ``None`` where unknown (a site row; the portfolio row sums the known ones,
    its metered ``None`` when no site has a reading).
    """

    start: datetime
    end: datetime
    baseline_kw: float | None
    metered_kw: float | None
    delivered_kw: float
    awarded_kw: float
    called_kw: float
    performance_factor: float | None
    capacity_payment: Decimal
    energy_payment: Decimal
    penalty: Decimal


@dataclass(frozen=True)
class PortfolioInterval(IntervalFigures):
    """A portfolio interval: :class:`IntervalFigures` with the interval's energy price per MWh."""

    price_per_mwh: float


@dataclass(frozen=True)
class SiteFigures:
    """One site's settlement: its intervals, totals (kWh, cents), revenue share, fee and savings."""

    site_id: int
    owner_id: int
    awarded_kwh: float
    delivered_kwh: float
    performance_factor: float | None
    capacity_payment: Decimal
    energy_payment: Decimal
    penalty: Decimal
    revenue_share: Decimal
    fee_pct: Decimal
    fee: Decimal
    owner_payout: Decimal
    savings: SiteSavings
    baseline_detail: dict
    intervals: tuple[IntervalFigures, ...]


@dataclass(frozen=True)
class SettlementFigures:
    """Every figure of one event's settlement run (what :class:`~apps.settlement.models.SettlementRun` and its
    rows hold), with the input ``fingerprint`` (SHA-256) that decides whether a new version is written."""

    fingerprint: str
    currency: str
    baseline_method: str
    interval_minutes: int
    month: date
    awarded_kwh: float
    called_kwh: float
    delivered_kwh: float
    performance_factor: float | None
    capacity_payment: Decimal
    energy_payment: Decimal
    penalty: Decimal
    net_revenue: Decimal
    aggregator_fees: Decimal
    regulation: RegulationScore | None
    metering_complete: bool
    provenance: dict
    intervals: tuple[PortfolioInterval, ...]
    sites: tuple[SiteFigures, ...]


@dataclass(frozen=True)
class _SiteSeries:
    """Interval arrays of one site (kW over the event's index)."""

    baseline_kw: np.ndarray
    detail: dict
    awarded_kw: np.ndarray
    called_kw: np.ndarray
    delivered_kw: np.ndarray


def _site_series(
    inputs: SettlementInputs, site: SiteInputs, awarded: np.ndarray, called: np.ndarray
) -> _SiteSeries:
    baseline, detail = site_baseline(inputs, site)
    measured = np.isfinite(baseline) & np.isfinite(site.metered_kw)
    # no baseline or no meter reading: no delivery can be shown for that interval (counted as 0 kW)
    delivered = np.where(measured, sign_of(inputs.program) * (baseline - site.metered_kw), 0.0)
    return _SiteSeries(baseline, detail, awarded * site.weights, called * site.weights, delivered)


def _month_of(inputs: SettlementInputs) -> date:
    local = inputs.event_start.to_pydatetime().astimezone(ZoneInfo(inputs.program.zone_timezone))
    return date(local.year, local.month, 1)


def _total(values: list[Decimal]) -> Decimal:
    return sum(values, ZERO)


def _capped_pf(delivered: np.ndarray, called: np.ndarray, cap: float, hours: float) -> float | None:
    """Σ min(max(delivered, 0), cap × called) × h / Σ called × h (``None`` when nothing was called)."""
    called_kwh = float(np.sum(called) * hours)
    capped = sum(min(max(float(d), 0.0), cap * float(c)) for d, c in zip(delivered, called, strict=True))
    return capped * hours / called_kwh if called_kwh > 0 else None


def _rows(
    inputs: SettlementInputs, series: dict[str, np.ndarray], terms: list[IntervalTerms], factor: float | None
) -> tuple[IntervalFigures, ...]:
    """Interval rows of one site (``series``: baseline, metered, awarded, called, delivered kW)."""
    step = pd.Timedelta(minutes=inputs.program.settlement_interval_minutes)
    rows = []
    for i, t in enumerate(inputs.index):
        base, meter = series["baseline"][i], series["metered"][i]
        m = money(
            awarded=float(series["awarded"][i]),
            called=float(series["called"][i]),
            delivered=float(series["delivered"][i]),
            terms=terms[i],
            regulation_factor=factor,
        )
        rows.append(
            IntervalFigures(
                start=t.to_pydatetime(),
                end=(t + step).to_pydatetime(),
                baseline_kw=float(base) if np.isfinite(base) else None,
                metered_kw=float(meter) if np.isfinite(meter) else None,
                delivered_kw=float(series["delivered"][i]),
                awarded_kw=float(series["awarded"][i]),
                called_kw=float(series["called"][i]),
                performance_factor=m.performance_factor,
                capacity_payment=m.capacity_payment,
                energy_payment=m.energy_payment,
                penalty=m.penalty,
            )
        )
    return tuple(rows)


def _site_figures(
    inputs: SettlementInputs,
    site: SiteInputs,
    arrays: _SiteSeries,
    *,
    terms: list[IntervalTerms],
    factor: float | None,
    score: RegulationScore | None,
    share: Decimal,
    delivered_kwh: float,
) -> SiteFigures:
    """One site's rows, totals, fee on a positive share (``fee_pct`` %, to the cent) and savings."""
    hours = inputs.program.settlement_interval_minutes / 60.0
    rows = _rows(
        inputs,
        {
            "baseline": arrays.baseline_kw,
            "metered": site.metered_kw,
            "awarded": arrays.awarded_kw,
            "called": arrays.called_kw,
            "delivered": arrays.delivered_kw,
        },
        terms,
        factor,
    )
    fee = cents(max(share, Decimal("0")) * site.fee_pct / Decimal(100))
    if inputs.program.is_regulation:
        pf = score.composite if score else None
    else:
        pf = _capped_pf(arrays.delivered_kw, arrays.called_kw, inputs.program.performance_cap, hours)
    return SiteFigures(
        site_id=site.site_id,
        owner_id=site.owner_id,
        awarded_kwh=float(np.sum(arrays.awarded_kw) * hours),
        delivered_kwh=delivered_kwh,
        performance_factor=pf,
        capacity_payment=_total([r.capacity_payment for r in rows]),
        energy_payment=_total([r.energy_payment for r in rows]),
        penalty=_total([r.penalty for r in rows]),
        revenue_share=share,
        fee_pct=site.fee_pct,
        fee=fee,
        owner_payout=share - fee,
        savings=site_savings(
            metered_kw=site.metered_kw,
            baseline_kw=arrays.baseline_kw,
            price_per_mwh=site.price_per_mwh,
            carbon_g_per_kwh=site.carbon_g_per_kwh,
            low_carbon_pct=site.low_carbon_pct,
            pv_kw=site.pv_kw,
            hours=hours,
        ),
        baseline_detail=arrays.detail,
        intervals=rows,
    )


def _portfolio_rows(
    inputs: SettlementInputs,
    arrays: list[_SiteSeries],
    *,
    awarded: np.ndarray,
    called: np.ndarray,
    prices: np.ndarray,
    terms: list[IntervalTerms],
    factor: float | None,
) -> tuple[PortfolioInterval, ...]:
    """Portfolio rows: Σ sites' baseline (known ones), metered (``None`` when none is known) and delivered kW,
    the award and call, money on the portfolio's sums."""
    step = pd.Timedelta(minutes=inputs.program.settlement_interval_minutes)
    rows = []
    for i, t in enumerate(inputs.index):
        base_sum = float(np.nansum([a.baseline_kw[i] for a in arrays])) if arrays else 0.0
        metered = [s.metered_kw[i] for s in inputs.sites if np.isfinite(s.metered_kw[i])]
        delivered = float(sum(a.delivered_kw[i] for a in arrays))
        m = money(
            awarded=float(awarded[i]),
            called=float(called[i]),
            delivered=delivered,
            terms=terms[i],
            regulation_factor=factor,
        )
        rows.append(
            PortfolioInterval(
                start=t.to_pydatetime(),
                end=(t + step).to_pydatetime(),
                baseline_kw=base_sum,
                metered_kw=float(sum(metered)) if metered else None,
                delivered_kw=delivered,
                awarded_kw=float(awarded[i]),
                called_kw=float(called[i]),
                performance_factor=m.performance_factor,
                capacity_payment=m.capacity_payment,
                energy_payment=m.energy_payment,
                penalty=m.penalty,
                price_per_mwh=float(prices[i]),
            )
        )
    return tuple(rows)


def _fingerprint_payload(
    inputs: SettlementInputs,
    arrays: list[_SiteSeries],
    sites: list[SiteFigures],
    *,
    awarded: np.ndarray,
    called: np.ndarray,
    prices: np.ndarray,
    regulation: tuple[RegulationScore, dict] | None,
) -> dict[str, Any]:
    return {
        "awarded": rounded(awarded),
        "called": rounded(called),
        "prices": rounded(prices),
        "sites": {
            str(s.site_id): {
                "weights": rounded(s.weights),
                "baseline": rounded(a.baseline_kw),
                "metered": rounded(s.metered_kw),
                "fee": str(s.fee_pct),
                "savings_inputs": f.savings.inputs,
            }
            for s, a, f in zip(inputs.sites, arrays, sites, strict=True)
        },
        "signal": regulation[1] if regulation else None,
    }


def settlement_figures(inputs: SettlementInputs) -> SettlementFigures:
    """Every figure of one event's settlement (see the module docstring for the rules and their sources).

    Performance factor of the run: Σ min(max(delivered, 0), cap × called) × h / called kWh (``None`` when nothing
    was called); for regulation, the PJM composite score (``None`` without a score).
    """
    program = inputs.program
    hours = program.settlement_interval_minutes / 60.0
    awarded = awarded_kw(inputs)
    called = called_kw(inputs, awarded)
    prices = interval_prices(inputs)
    terms = interval_terms(program, prices)
    arrays = [_site_series(inputs, s, awarded, called) for s in inputs.sites]
    regulation = (
        regulation_figures(inputs, awarded, [a.baseline_kw for a in arrays])
        if program.is_regulation
        else None
    )
    score = regulation[0] if regulation else None
    factor = (score.composite if score else 0.0) if program.is_regulation else None
    rows = _portfolio_rows(
        inputs, arrays, awarded=awarded, called=called, prices=prices, terms=terms, factor=factor
    )
    capacity = _total([r.capacity_payment for r in rows])
    energy = _total([r.energy_payment for r in rows])
    penalty = _total([r.penalty for r in rows])
    net = capacity + energy - penalty
    # delivered energy of each site while called (an uncalled reduction earns nothing, so it does not dilute)
    called_mask = np.asarray(called) > 0
    delivered_kwh = [max(0.0, float(np.sum(a.delivered_kw[called_mask])) * hours) for a in arrays]
    weights = delivered_kwh if sum(delivered_kwh) > 0 else [float(np.sum(a.awarded_kw)) for a in arrays]
    shares = split_cents(net, weights) if arrays else []
    sites = [
        _site_figures(inputs, s, a, terms=terms, factor=factor, score=score, share=share, delivered_kwh=kwh)
        for s, a, share, kwh in zip(inputs.sites, arrays, shares, delivered_kwh, strict=True)
    ]
    payload = _fingerprint_payload(
        inputs, arrays, sites, awarded=awarded, called=called, prices=prices, regulation=regulation
    )
    if program.is_regulation:
        pf = score.composite if score else None
    else:
        pf = _capped_pf(np.array([r.delivered_kw for r in rows]), called, program.performance_cap, hours)
    return SettlementFigures(
        fingerprint=fingerprint(inputs, payload),
        currency=program.currency,
        baseline_method=program.baseline_method,
        interval_minutes=program.settlement_interval_minutes,
        month=_month_of(inputs),
        awarded_kwh=float(np.sum(awarded) * hours),
        called_kwh=float(np.sum(called) * hours),
        delivered_kwh=float(sum(r.delivered_kw for r in rows) * hours),
        performance_factor=pf,
        capacity_payment=capacity,
        energy_payment=energy,
        penalty=penalty,
        net_revenue=net,
        aggregator_fees=_total([s.fee for s in sites]),
        regulation=score,
        metering_complete=all(bool(np.isfinite(s.metered_kw).all()) for s in inputs.sites),
        provenance={
            "award_id": inputs.award_id,
            "sites": {str(s.site_id): s.baseline_detail for s in sites},
            "regulation_resolution_s": regulation[1]["resolution_s"] if regulation else None,
            "regulation_delay_s": score.delay_s if score else None,
            "regulation_hourly": regulation[1]["hourly"] if regulation else None,
        },
        intervals=rows,
        sites=tuple(sites),
    )
