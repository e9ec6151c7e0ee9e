"""Writes of settlement: settle an event (versioned, idempotent), and find the events due for settling.

:func:`event_settle` gathers the inputs of an event — the aggregator's award, the participating sites and their
planned share (dispatch setpoints), each site's metered grid power and baseline, prices and carbon — computes the
figures with the pure functions of :mod:`.baselines` and :mod:`.performance`, and stores them as a
:class:`~apps.settlement.models.SettlementRun`. The inputs are hashed first: the same inputs find the current run
and write nothing; different inputs (meter data that arrived late) write version n+1 and supersede the old one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db import transaction

from apps.accounts.audit import audit_record
from apps.accounts.models import AuditAction
from apps.accounts.principal import Principal
from apps.accounts.selectors import aggregator_organisation
from apps.assets.models import Site
from apps.assets.selectors import active_site_list
from apps.core import clock
from apps.core.errors import ConflictError
from apps.dispatch.models import Setpoint
from apps.forecasts.selectors import forecast_known_at
from apps.markets.choices import (
    DOWN_PRODUCTS,
    REGULATION_PRODUCTS,
    BaselineMethod,
    EventStatus,
    PricingMode,
)
from apps.markets.models import Activation, Award, Event, Program
from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import series_for, timeseries_resampled
from forecasting import customer_baselines as bl

from .choices import Adjustment, RunStatus
from .models import (
    DEFAULT_FEE_PCT,
    BaselineTerms,
    OwnerContract,
    RunInterval,
    SettlementRun,
    SiteInterval,
    SiteSettlement,
)
from .performance import (
    IntervalMoney,
    IntervalTerms,
    cents,
    interval_money,
    regulation_score,
    signal_to_resolution,
    split_cents,
)

logger = logging.getLogger(__name__)

#: After this long past the event's end, settle with whatever meter data there is.
METERING_GRACE = timedelta(hours=48)
#: Events that ended within this window are re-settled by the beat job, so late meter data makes a new version.
RESETTLE_WINDOW = timedelta(days=14)


@dataclass
class SiteFigures:
    """Per-site inputs and interval figures of one settlement (arrays over the event's intervals)."""

    site: Site
    weights: np.ndarray
    baseline_kw: np.ndarray
    metered_kw: np.ndarray
    baseline_detail: dict
    awarded_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    called_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    delivered_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    meter_complete: bool = True


def _site_series(site: Site, quantity: str) -> TimeSeries | None:
    """The site's series of ``quantity`` (the unnamed one first, then by name)."""
    return series_for(site=site, quantity=quantity)  # the main (metered) series, never a named counterfactual


def _zone_series(zone_id: str, quantity: str) -> TimeSeries | None:
    return series_for(zone=zone_id, quantity=quantity)


def _values(series: TimeSeries | None, start: datetime, end: datetime, step_s: int) -> pd.Series | None:
    """``series`` over ``[start, end)`` at ``step_s`` (NaN where missing), or ``None`` without a series or when
    the resolutions are incompatible."""
    if series is None:
        return None
    try:
        return timeseries_resampled(series=series, start=start, end=end, resolution_s=step_s).values
    except ValueError:
        logger.warning("series %s cannot be read at %s s", series.pk, step_s)
        return None


def _event_index(event: Event) -> pd.DatetimeIndex:
    step = pd.Timedelta(minutes=event.program.settlement_interval_minutes)
    return pd.date_range(pd.Timestamp(event.start), pd.Timestamp(event.end), freq=step, inclusive="left")


def _aggregator_award(event: Event) -> Award | None:
    aggregator = aggregator_organisation()
    if aggregator is None:
        return None
    return (
        Award.objects.filter(bid__event=event, bid__bidder=aggregator)
        .select_related("bid")
        .prefetch_related("intervals", "bid__intervals")
        .first()
    )


def _prices(program: Program, award: Award, index: pd.DatetimeIndex) -> np.ndarray:
    """Energy price per MWh of each interval: the program's fixed price, the bid's price (pay as bid) or the
    award's clearing price (pay as clear)."""
    if program.pricing_mode == PricingMode.FIXED:
        return np.full(len(index), float(program.energy_price_per_mwh))
    if program.pricing_mode == PricingMode.PAY_AS_BID:
        bid_prices = {pd.Timestamp(i.start): i.price_per_mwh for i in award.bid.intervals.all()}
        return np.array([float(bid_prices.get(t, 0.0)) for t in index])
    return np.full(len(index), float(award.clearing_price_per_mwh))


def _called(event: Event, index: pd.DatetimeIndex, awarded: np.ndarray) -> np.ndarray:
    """kW the operator called per interval (mean over the interval), at most the award: each activation calls its
    ``kw`` (a regulation activation, following a signal, calls the whole award) over ``[start, end)`` (open end:
    the event's end), weighted by the share of the interval it covers; overlapping activations count the
    largest call."""
    step = index[1] - index[0] if len(index) > 1 else pd.Timestamp(event.end) - pd.Timestamp(event.start)
    called = np.zeros(len(index))
    for act in Activation.objects.filter(event=event).order_by("start", "pk"):
        a_start = pd.Timestamp(act.start)
        a_end = pd.Timestamp(act.end or event.end)
        for i, t in enumerate(index):
            overlap = (min(a_end, t + step) - max(a_start, t)) / step
            if overlap <= 0:
                continue
            kw = awarded[i] if act.signal else float(act.kw or 0.0)
            called[i] = max(called[i], min(kw, awarded[i]) * min(overlap, 1.0))
    return called


def _planned_weights(event: Event, index: pd.DatetimeIndex) -> dict[int, np.ndarray]:
    """Each participating site's share (0…1) of the award per interval: its planned reduction (dispatch setpoint
    baseline − target, ≥ 0) in the newest plan version covering the interval, over the sum of all sites'.

    Without any dispatch plan (an event awarded but never activated), the aggregator's active sites in the
    program's zone share equally. An interval no plan covers takes the shares of the nearest earlier covered
    interval (or the first covered one).
    """
    setpoints = (
        Setpoint.objects.filter(plan__activation__event=event)
        .values_list("site_id", "start", "baseline_kw", "target_kw", "plan__version", "plan__activation_id")
        .order_by("start", "plan__activation_id", "plan__version")
    )
    newest: dict[pd.Timestamp, tuple[tuple[int, int], dict[int, float]]] = {}
    for site_id, start, base, target, version, activation_id in setpoints:
        key = pd.Timestamp(start)
        rank = (activation_id, version)
        current = newest.get(key)
        if current is None or rank > current[0]:
            newest[key] = (rank, {})
            current = newest[key]
        if rank == current[0]:
            current[1][site_id] = current[1].get(site_id, 0.0) + max(base - target, 0.0)
    if not newest:
        sites = list(
            active_site_list()
            .filter(market_zone_id=event.program.zone_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return {s: np.full(len(index), 1.0 / len(sites)) for s in sites} if sites else {}
    site_ids = sorted({s for _, shares in newest.values() for s in shares})
    weights = {s: np.zeros(len(index)) for s in site_ids}
    covered = sorted(newest)
    for i, t in enumerate(index):
        earlier = [c for c in covered if c <= t]
        shares = newest[earlier[-1] if earlier else covered[0]][1]
        total = sum(shares.values())
        for s in site_ids:
            if total > 0:
                weights[s][i] = shares.get(s, 0.0) / total
            elif s in shares:
                weights[s][i] = 1.0 / len(shares)
    return weights


def _event_days(site: Site, before: datetime, tz: str) -> set[date]:
    """Local days on which the site took part in an earlier activation (excluded from baseline days)."""
    activations = (
        Activation.objects.filter(dispatch_plans__setpoints__site=site, start__lt=before)
        .distinct()
        .values_list("start", "end")
    )
    return bl.local_days(activations, tz)


def _site_baseline(
    site: Site, event: Event, index: pd.DatetimeIndex, history: pd.Series | None
) -> tuple[np.ndarray, dict]:
    """Baseline kW over the event for ``site`` by the program's method; NaN (with the reason) when impossible."""
    method = event.program.baseline_method
    nan = np.full(len(index), np.nan)
    try:
        if method == BaselineMethod.FORECAST:
            return _forecast_baseline(site, event, index)
        if history is None:
            raise bl.BaselineError("no site_power_kw meter series")
        tz = site.timezone
        terms = baseline_terms_of(event.program)
        event_day = pd.Timestamp(event.start).tz_convert(tz).date()
        years = {event_day.year - 1, event_day.year}
        candidates = bl.eligible_days(
            event_day=event_day,
            lookback_days=terms.lookback_days,
            exclude_weekends=terms.exclude_weekends,
            holidays=(
                bl.holiday_dates(zone_code=site.market_zone_id, years=years)
                if terms.exclude_holidays
                else set()
            ),
            event_days=_event_days(site, event.start, tz),
        )
        options: dict = {
            "adjustment_gap_hours": terms.adjustment_gap_hours,
            "cap": terms.adjustment_cap_pct / 100.0,
        }
        if terms.adjustment != Adjustment.DEFAULT:
            options["adjustment"] = None if terms.adjustment == Adjustment.NONE else terms.adjustment
        if terms.adjustment_hours is not None:
            options["adjustment_hours"] = terms.adjustment_hours
        if method == BaselineMethod.HIGH_X_OF_Y:
            result = bl.high_x_of_y(
                history,
                event_index=index,
                tz=tz,
                candidate_days=candidates,
                x=terms.high_x,
                y=terms.high_y,
                **options,
            )
        else:
            result = bl.ten_of_ten(
                history, event_index=index, tz=tz, candidate_days=candidates, n_days=terms.days, **options
            )
    except bl.BaselineError as exc:
        return nan, {"method": method, "error": str(exc)}
    detail = {
        "method": result.method,
        "adjustment": result.adjustment,
        "adjustment_kind": result.adjustment_kind,
        "adjustment_capped": result.adjustment_capped,
        **result.detail,
    }
    return result.values.to_numpy(dtype=float), detail


def _forecast_baseline(site: Site, event: Event, index: pd.DatetimeIndex) -> tuple[np.ndarray, dict]:
    """The p50 of the forecast known at gate closure: of site grid power if there is one, else IT power × PUE."""
    end = event.end
    for quantity, pue in ((Quantity.SITE_POWER_KW, None), (Quantity.IT_POWER_KW, site.pue)):
        series = _site_series(site, quantity)
        if series is None:
            continue
        known = forecast_known_at(
            series=series, start=event.start, end=end, belief_time=event.gate_closure_at
        )
        if known.empty:
            continue
        issued = pd.Timestamp(known["issued_at"].max()).isoformat()
        result = bl.forecast_baseline(known["p50"], event_index=index, pue=pue, issued_at=issued)
        return result.values.to_numpy(dtype=float), {"method": result.method, **result.detail}
    raise bl.BaselineError("no forecast of site or IT power issued before gate closure")


def baseline_terms_of(program: Program) -> BaselineTerms:
    """The program's baseline terms, or the defaults (an unsaved :class:`BaselineTerms`) when it has none."""
    terms = BaselineTerms.objects.filter(program=program).first()
    return terms if terms is not None else BaselineTerms(program=program)


def _terms_fingerprint(program: Program) -> list:
    t = baseline_terms_of(program)
    return [
        t.exclude_weekends,
        t.exclude_holidays,
        t.lookback_days,
        t.days,
        t.high_x,
        t.high_y,
        t.adjustment,
        t.adjustment_hours,
        t.adjustment_gap_hours,
        t.adjustment_cap_pct,
    ]


def _fee_pct(owner_id: int) -> Decimal:
    contract = OwnerContract.objects.filter(owner_id=owner_id).first()
    return contract.fee_pct if contract else DEFAULT_FEE_PCT


def _rounded(values: np.ndarray | pd.Series | None) -> list[float | None] | None:
    if values is None:
        return None
    return [None if not np.isfinite(v) else round(float(v), 6) for v in np.asarray(values, dtype=float)]


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _to_decimal_sum(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal("0.00"))


def _month_of(event: Event) -> date:
    local = event.start.astimezone(ZoneInfo(event.program.zone.timezone))
    return date(local.year, local.month, 1)


def event_settle(
    *, event_id: int, reason: str = "", principal: Principal | None = None
) -> tuple[SettlementRun, bool]:
    """Settle ``event_id`` (idempotent): returns ``(current run, created)``.

    ``principal`` is the staff member who asked for it (API ``settle/``), or ``None`` for the scheduled jobs; a
    staff request is written to the audit log (settle or re-settle, with the version and whether it changed).

    Steps: per settlement interval the aggregator's awarded kW is split among the participating sites by their
    planned reduction (:func:`_planned_weights`); per site the baseline (program's method), metered kW (mean of
    ``site_power_kw``) and delivered kW = baseline − metered ("down" products; metered − baseline for "up") give
    the site's performance and money on its share; the portfolio's sums give the market payment
    (:func:`~apps.settlement.performance.interval_money`). For regulation, the capacity payment is scaled by the
    PJM performance score (PJM Manual 28: regulation credits × performance score) and no energy payment is made.
    Capacity is paid on the award; delivery (performance factor, energy payment, penalty) is judged on the
    called kW (:func:`_called`: the activated part of the award). The event's net revenue is split among sites by
    their delivered energy while called (kWh, ≥ 0; by awarded share if nobody delivered or nothing was called) to
    the cent, and each owner's fee (``OwnerContract.fee_pct``) is kept from positive shares.

    Raises:
        Event.DoesNotExist: unknown event.
        ConflictError: the event is cancelled, not over yet, or has no award for the aggregator.
    """
    now = clock.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().select_related("program__zone").get(pk=event_id)
        if event.status == EventStatus.CANCELLED:
            raise ConflictError("a cancelled event is not settled.")
        if event.end > now:
            raise ConflictError("the event has not ended yet.")
        award = _aggregator_award(event)
        if award is None:
            raise ConflictError("the event has no award for the aggregator; there is nothing to settle.")
        computed = _compute(event, award)
        current = SettlementRun.objects.filter(event=event, status=RunStatus.CURRENT).first()
        if current is not None and current.fingerprint == computed["fingerprint"]:
            _audit_settle(principal, event, current, created=False, previous=current)
            return current, False
        version = (current.version if current else 0) + 1
        if current is not None:
            SettlementRun.objects.filter(pk=current.pk).update(status=RunStatus.SUPERSEDED, superseded_at=now)
        run = _store(event, computed, version=version, now=now, reason=reason or _reason(current))
        _audit_settle(principal, event, run, created=True, previous=current)
    return run, True


def _audit_settle(
    principal: Principal | None,
    event: Event,
    run: SettlementRun,
    *,
    created: bool,
    previous: SettlementRun | None,
) -> None:
    """Audit a staff (re-)settlement: a re-settle when a version existed before the request."""
    if principal is None:
        return
    resettle = previous is not None
    audit_record(
        actor=principal,
        action=AuditAction.SETTLEMENT_RESETTLE if resettle else AuditAction.SETTLEMENT_SETTLE,
        target=event,
        reason=run.reason,
        details={
            "run": run.pk,
            "version": run.version,
            "previous_version": previous.version if previous is not None else None,
            "created": created,
        },
    )


def _reason(previous: SettlementRun | None) -> str:
    return "first settlement" if previous is None else f"inputs changed since v{previous.version}"


def _compute(event: Event, award: Award) -> dict:
    """Gather inputs and compute every figure of a run (no writes)."""
    program = event.program
    index = _event_index(event)
    step_s = program.settlement_interval_minutes * 60
    hours = step_s / 3600.0
    sign = 1.0 if program.product in DOWN_PRODUCTS else -1.0
    awarded_map = {pd.Timestamp(i.start): i.awarded_kw for i in award.intervals.all()}
    awarded = np.array([float(awarded_map.get(t, 0.0)) for t in index])
    called = _called(event, index, awarded)
    prices = _prices(program, award, index)
    weights = _planned_weights(event, index)
    site_objs = {
        s.pk: s for s in Site.objects.filter(pk__in=list(weights)).select_related("market_zone", "owner")
    }
    history_start = event.start - timedelta(days=baseline_terms_of(program).lookback_days + 1)

    sites: list[SiteFigures] = []
    for site_id in sorted(weights):
        site = site_objs[site_id]
        meter = _site_series(site, Quantity.SITE_POWER_KW)
        history = _values(meter, history_start, event.end, step_s)
        metered = (
            history.reindex(index).to_numpy(dtype=float)
            if history is not None
            else np.full(len(index), np.nan)
        )
        before = history[history.index < index[0]] if history is not None else None
        baseline, detail = _site_baseline(site, event, index, before)
        fig = SiteFigures(site, weights[site_id], baseline, metered, detail)
        fig.awarded_kw = awarded * fig.weights
        fig.called_kw = called * fig.weights
        measured = np.isfinite(baseline) & np.isfinite(metered)
        # no baseline or no meter reading: no delivery can be shown for that interval (counted as 0 kW)
        fig.delivered_kw = np.where(measured, sign * (baseline - metered), 0.0)
        fig.meter_complete = bool(np.isfinite(metered).all())
        sites.append(fig)

    is_regulation = program.product in REGULATION_PRODUCTS
    regulation = _regulation(event, index, awarded, sites, sign) if is_regulation else None
    fees = {s.site.owner_id: _fee_pct(s.site.owner_id) for s in sites}
    savings = {s.site.pk: _savings(s, event, index, step_s) for s in sites}
    fingerprint = _fingerprint(
        {
            "program": [
                program.baseline_method,
                program.product,
                program.pricing_mode,
                program.capacity_price_per_mw_h,
                program.energy_price_per_mwh,
                program.performance_cap,
                program.penalty_threshold,
                program.shortfall_penalty_per_mwh,
                step_s,
                _terms_fingerprint(program),
            ],
            "awarded": _rounded(awarded),
            "called": _rounded(called),
            "prices": _rounded(prices),
            "sites": {
                str(s.site.pk): {
                    "weights": _rounded(s.weights),
                    "baseline": _rounded(s.baseline_kw),
                    "metered": _rounded(s.metered_kw),
                    "fee": str(fees[s.site.owner_id]),
                    "savings_inputs": savings[s.site.pk]["inputs"],
                }
                for s in sites
            },
            "signal": regulation["inputs"] if regulation else None,
        }
    )
    return {
        "award_id": award.pk,
        "index": index,
        "hours": hours,
        "awarded": awarded,
        "called": called,
        "prices": prices,
        "sites": sites,
        "regulation": regulation,
        "fees": fees,
        "savings": savings,
        "fingerprint": fingerprint,
        "terms": [
            IntervalTerms(
                hours=hours,
                capacity_price_per_mw_h=program.capacity_price_per_mw_h,
                energy_price_per_mwh=float(p),
                performance_cap=program.performance_cap,
                penalty_threshold=program.penalty_threshold,
                shortfall_penalty_per_mwh=program.shortfall_penalty_per_mwh,
            )
            for p in prices
        ],
    }


def _regulation(
    event: Event, index: pd.DatetimeIndex, awarded: np.ndarray, sites: list[SiteFigures], sign: float
) -> dict | None:
    """PJM performance score of the portfolio over the event (see :func:`~.performance.regulation_score`).

    Setpoint = signal × awarded kW, with the signal averaged onto the meter resolution (the coarsest native
    resolution of the sites' meters, at most the settlement interval); response = Σ sites (baseline − metered)
    at that resolution, the baseline held constant over its settlement interval.
    """
    activation = Activation.objects.filter(event=event, signal__isnull=False).order_by("start", "pk").first()
    if activation is None or not activation.signal or not sites:
        return None
    step_s = event.program.settlement_interval_minutes * 60
    meters = [_site_series(s.site, Quantity.SITE_POWER_KW) for s in sites]
    native = [m.resolution_s for m in meters if m is not None]
    res_s = min(max(native), step_s) if native else step_s
    if step_s % res_s:
        res_s = step_s
    signal = signal_to_resolution(
        activation.signal,
        start=pd.Timestamp(activation.start),
        signal_step_s=activation.signal_resolution_seconds or 2,
        resolution_s=res_s,
    )
    signal = signal[(signal.index >= index[0]) & (signal.index < pd.Timestamp(event.end))]
    if signal.empty:
        return None
    fine = signal.index
    settle_pos = np.clip(index.searchsorted(fine, side="right") - 1, 0, len(index) - 1)
    setpoint = pd.Series(signal.to_numpy() * awarded[settle_pos], index=fine)
    response = np.zeros(len(fine))
    for fig, meter in zip(sites, meters, strict=True):
        metered = _values(meter, fine[0], fine[-1] + pd.Timedelta(seconds=res_s), res_s)
        m = metered.reindex(fine).to_numpy(dtype=float) if metered is not None else np.full(len(fine), np.nan)
        b = fig.baseline_kw[settle_pos]
        response += np.where(np.isfinite(m) & np.isfinite(b), sign * (b - m), 0.0)
    score = regulation_score(setpoint, pd.Series(response, index=fine))
    return {
        "score": score,
        "inputs": {
            "resolution_s": res_s,
            "setpoint": _rounded(setpoint.to_numpy()),
            "response": _rounded(response),
        },
    }


def _savings(fig: SiteFigures, event: Event, index: pd.DatetimeIndex, step_s: int) -> dict:
    """Energy cost and emissions of the metered schedule against the baseline over the event window, and the
    shares of PV and of the zone's low-carbon supply in the site's consumption (grid import + PV)."""
    end = event.end
    zone_id = fig.site.market_zone_id
    hours = step_s / 3600.0

    def read(series: TimeSeries | None) -> np.ndarray:
        values = _values(series, event.start, end, step_s)
        return (
            values.reindex(index).to_numpy(dtype=float) if values is not None else np.full(len(index), np.nan)
        )

    price = read(_zone_series(zone_id, Quantity.PRICE))
    carbon_series = _site_series(fig.site, Quantity.CARBON_INTENSITY_G_PER_KWH) or _zone_series(
        zone_id, Quantity.CARBON_INTENSITY_G_PER_KWH
    )
    carbon = read(carbon_series)
    low_carbon = read(_zone_series(zone_id, Quantity.LOW_CARBON_PCT))
    pv_series = list(TimeSeries.objects.filter(quantity=Quantity.PV_POWER_KW, site=fig.site)) or list(
        TimeSeries.objects.filter(quantity=Quantity.PV_POWER_KW, pv_array__site=fig.site)
    )
    pv = np.zeros(len(index))
    for s in pv_series:
        pv += np.nan_to_num(read(s))
    metered = fig.metered_kw
    base = fig.baseline_kw
    both = np.isfinite(metered) & np.isfinite(base)
    metered_kwh = float(np.nansum(metered) * hours)
    baseline_kwh = float(np.nansum(base) * hours)
    priced = both & np.isfinite(price)
    metered_cost = cents(float(np.sum(metered[priced] * price[priced]) * hours / 1000.0))
    baseline_cost = cents(float(np.sum(base[priced] * price[priced]) * hours / 1000.0))
    carbonised = both & np.isfinite(carbon)
    metered_em = (
        float(np.sum(metered[carbonised] * carbon[carbonised]) * hours / 1000.0) if carbonised.any() else None
    )
    baseline_em = (
        float(np.sum(base[carbonised] * carbon[carbonised]) * hours / 1000.0) if carbonised.any() else None
    )
    pv_kwh = float(pv.sum() * hours)
    imported = np.where(np.isfinite(metered), np.maximum(metered, 0.0), 0.0)
    consumption_kwh = float(imported.sum() * hours) + pv_kwh
    pv_share = 100.0 * pv_kwh / consumption_kwh if consumption_kwh > 0 else None
    lc = np.isfinite(low_carbon)
    low_carbon_kwh = float(np.sum(imported[lc] * low_carbon[lc] / 100.0) * hours)
    low_share = 100.0 * low_carbon_kwh / consumption_kwh if consumption_kwh > 0 and lc.any() else None
    return {
        "metered_kwh": metered_kwh,
        "baseline_kwh": baseline_kwh,
        "metered_cost": metered_cost,
        "baseline_cost": baseline_cost,
        "metered_emissions_kg": metered_em,
        "baseline_emissions_kg": baseline_em,
        "pv_kwh": pv_kwh,
        "consumption_kwh": consumption_kwh,
        "low_carbon_kwh": low_carbon_kwh,
        "pv_share_pct": pv_share,
        "low_carbon_share_pct": low_share,
        "inputs": {
            "price": _rounded(price),
            "carbon": _rounded(carbon),
            "low_carbon": _rounded(low_carbon),
            "pv": _rounded(pv),
        },
    }


def _store(event: Event, c: dict, *, version: int, now: datetime, reason: str) -> SettlementRun:
    """Write a run with its portfolio intervals, site settlements and site intervals."""
    program = event.program
    index: pd.DatetimeIndex = c["index"]
    step = pd.Timedelta(minutes=program.settlement_interval_minutes)
    hours: float = c["hours"]
    sites: list[SiteFigures] = c["sites"]
    regulation = c["regulation"]
    score = regulation["score"] if regulation else None
    is_regulation = program.product in REGULATION_PRODUCTS

    def money(
        awarded_kw: float, called_kw: float, delivered_kw: float, terms: IntervalTerms
    ) -> IntervalMoney:
        result = interval_money(
            awarded_kw=awarded_kw, called_kw=called_kw, delivered_kw=delivered_kw, terms=terms
        )
        if not is_regulation:
            return result
        # regulation: capability paid × performance score (PJM Manual 28); shortfall below the threshold score
        factor = score.composite if score else 0.0
        shortfall = max(0.0, terms.penalty_threshold - factor) * awarded_kw
        return IntervalMoney(
            factor if awarded_kw > 0 else None,
            cents(terms.capacity_price_per_mw_h * awarded_kw / 1000.0 * hours * factor),
            cents(0.0),
            cents(terms.shortfall_penalty_per_mwh * shortfall / 1000.0 * hours),
        )

    run_rows = []
    for i, t in enumerate(index):
        base_sum = float(np.nansum([s.baseline_kw[i] for s in sites])) if sites else 0.0
        metered_vals = [s.metered_kw[i] for s in sites if np.isfinite(s.metered_kw[i])]
        delivered = float(sum(s.delivered_kw[i] for s in sites))
        m = money(float(c["awarded"][i]), float(c["called"][i]), delivered, c["terms"][i])
        run_rows.append(
            RunInterval(
                start=t.to_pydatetime(),
                end=(t + step).to_pydatetime(),
                baseline_kw=base_sum,
                metered_kw=float(sum(metered_vals)) if metered_vals else None,
                delivered_kw=delivered,
                awarded_kw=float(c["awarded"][i]),
                called_kw=float(c["called"][i]),
                price_per_mwh=float(c["prices"][i]),
                performance_factor=m.performance_factor,
                capacity_payment=m.capacity_payment,
                energy_payment=m.energy_payment,
                penalty=m.penalty,
            )
        )
    capacity = _to_decimal_sum([r.capacity_payment for r in run_rows])
    energy = _to_decimal_sum([r.energy_payment for r in run_rows])
    penalty = _to_decimal_sum([r.penalty for r in run_rows])
    net = capacity + energy - penalty
    awarded_kwh = float(np.sum(c["awarded"]) * hours)
    called_kwh = float(np.sum(c["called"]) * hours)
    capped_delivered = [
        min(max(r.delivered_kw, 0.0), program.performance_cap * r.called_kw) for r in run_rows
    ]
    if is_regulation:
        pf = score.composite if score else None
    else:
        pf = (sum(capped_delivered) * hours / called_kwh) if called_kwh > 0 else None

    # delivered energy of each site while called (an uncalled reduction earns nothing, so it does not dilute)
    called_mask = np.asarray(c["called"]) > 0
    delivered_kwh = [max(0.0, float(np.sum(s.delivered_kw[called_mask])) * hours) for s in sites]
    weights = delivered_kwh if sum(delivered_kwh) > 0 else [float(np.sum(s.awarded_kw)) for s in sites]
    shares = split_cents(net, weights) if sites else []

    run = SettlementRun.objects.create(
        event=event,
        version=version,
        status=RunStatus.CURRENT,
        fingerprint=c["fingerprint"],
        settled_at=now,
        reason=reason,
        currency=program.zone.currency,
        baseline_method=program.baseline_method,
        interval_minutes=program.settlement_interval_minutes,
        awarded_kwh=awarded_kwh,
        called_kwh=called_kwh,
        delivered_kwh=float(sum(r.delivered_kw for r in run_rows) * hours),
        performance_factor=pf,
        capacity_payment=capacity,
        energy_payment=energy,
        penalty=penalty,
        net_revenue=net,
        regulation_correlation=score.correlation if score else None,
        regulation_delay=score.delay if score else None,
        regulation_precision=score.precision if score else None,
        regulation_score=score.composite if score else None,
        metering_complete=all(s.meter_complete for s in sites),
        inputs={
            "award_id": c["award_id"],
            "sites": {str(s.site.pk): s.baseline_detail for s in sites},
            "regulation_resolution_s": regulation["inputs"]["resolution_s"] if regulation else None,
            "regulation_delay_s": score.delay_s if score else None,
        },
    )
    for row in run_rows:
        row.run = run
    RunInterval.objects.bulk_create(run_rows)

    month = _month_of(event)
    fees_total = Decimal("0.00")
    for fig, share, kwh in zip(sites, shares, delivered_kwh, strict=True):
        fee_pct = c["fees"][fig.site.owner_id]
        fee = cents(max(share, Decimal("0")) * fee_pct / Decimal(100))
        fees_total += fee
        sv = c["savings"][fig.site.pk]
        site_rows = []
        for i, t in enumerate(index):
            m = money(
                float(fig.awarded_kw[i]), float(fig.called_kw[i]), float(fig.delivered_kw[i]), c["terms"][i]
            )
            site_rows.append(
                SiteInterval(
                    start=t.to_pydatetime(),
                    end=(t + step).to_pydatetime(),
                    baseline_kw=float(fig.baseline_kw[i]) if np.isfinite(fig.baseline_kw[i]) else None,
                    metered_kw=float(fig.metered_kw[i]) if np.isfinite(fig.metered_kw[i]) else None,
                    delivered_kw=float(fig.delivered_kw[i]),
                    awarded_kw=float(fig.awarded_kw[i]),
                    called_kw=float(fig.called_kw[i]),
                    performance_factor=m.performance_factor,
                    capacity_payment=m.capacity_payment,
                    energy_payment=m.energy_payment,
                    penalty=m.penalty,
                )
            )
        site_awarded_kwh = float(np.sum(fig.awarded_kw) * hours)
        site_called_kwh = float(np.sum(fig.called_kw) * hours)
        site_capped = sum(
            min(max(float(d), 0.0), program.performance_cap * float(a))
            for d, a in zip(fig.delivered_kw, fig.called_kw, strict=True)
        )
        settlement = SiteSettlement.objects.create(
            run=run,
            site=fig.site,
            owner_id=fig.site.owner_id,
            month=month,
            awarded_kwh=site_awarded_kwh,
            delivered_kwh=kwh,
            performance_factor=(
                (score.composite if score else None)
                if is_regulation
                else (site_capped * hours / site_called_kwh if site_called_kwh > 0 else None)
            ),
            capacity_payment=_to_decimal_sum([r.capacity_payment for r in site_rows]),
            energy_payment=_to_decimal_sum([r.energy_payment for r in site_rows]),
            penalty=_to_decimal_sum([r.penalty for r in site_rows]),
            revenue_share=share,
            fee_pct=fee_pct,
            fee=fee,
            owner_payout=share - fee,
            metered_kwh=sv["metered_kwh"],
            baseline_kwh=sv["baseline_kwh"],
            metered_cost=sv["metered_cost"],
            baseline_cost=sv["baseline_cost"],
            cost_saving=sv["baseline_cost"] - sv["metered_cost"],
            metered_emissions_kg=sv["metered_emissions_kg"],
            baseline_emissions_kg=sv["baseline_emissions_kg"],
            pv_kwh=sv["pv_kwh"],
            consumption_kwh=sv["consumption_kwh"],
            low_carbon_kwh=sv["low_carbon_kwh"],
            pv_share_pct=sv["pv_share_pct"],
            low_carbon_share_pct=sv["low_carbon_share_pct"],
            baseline_detail=fig.baseline_detail,
        )
        for site_row in site_rows:
            site_row.site_settlement = settlement
        SiteInterval.objects.bulk_create(site_rows)
    SettlementRun.objects.filter(pk=run.pk).update(aggregator_fees=fees_total)
    run.aggregator_fees = fees_total
    return run


def event_metering_complete(*, event: Event) -> bool:
    """Every participating site has ``site_power_kw`` data at every settlement interval of the event."""
    index = _event_index(event)
    step_s = event.program.settlement_interval_minutes * 60
    weights = _planned_weights(event, index)
    if not weights:
        return True
    for site in Site.objects.filter(pk__in=list(weights)):
        values = _values(_site_series(site, Quantity.SITE_POWER_KW), event.start, event.end, step_s)
        if values is None or values.reindex(index).isna().any():
            return False
    return True


def events_due_for_settlement(*, now: datetime | None = None) -> list[int]:
    """Ids of events to (re-)settle now: ended at least one settlement interval ago and within
    :data:`RESETTLE_WINDOW`, not cancelled, awarded to the aggregator, and either fully metered or past
    :data:`METERING_GRACE`. Every due event is re-settled on each call; :func:`event_settle` compares the input
    fingerprint, so an unchanged event costs a recomputation and writes nothing."""
    now = now or clock.now()
    aggregator = aggregator_organisation()
    if aggregator is None:
        return []
    candidates = (
        Event.objects.filter(
            end__lte=now, end__gte=now - RESETTLE_WINDOW, bids__bidder=aggregator, bids__award__isnull=False
        )
        .exclude(status=EventStatus.CANCELLED)
        .select_related("program__zone")
        .distinct()
    )
    due = []
    for event in candidates:
        step = timedelta(minutes=event.program.settlement_interval_minutes)
        if event.end + step > now:
            continue
        if event_metering_complete(event=event) or now - event.end >= METERING_GRACE:
            due.append(event.pk)
    return due
