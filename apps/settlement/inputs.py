"""Load: gather everything the settlement of one event reads into a frozen :class:`SettlementInputs`.

Every read of another app's data goes through that app's selectors (markets: event, award, activations;
dispatch: setpoints; assets: sites; telemetry: metered, price, carbon and PV series; forecasts: the forecast known
at gate closure). Settlement's own tables (baseline terms, owner contracts) are read here directly. Nothing is
computed here beyond choosing what to read; :mod:`apps.settlement.calculation` turns the inputs into figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from apps.assets.models import Site
from apps.assets.selectors import site_ids_active_in_zone, site_list_by_ids
from apps.dispatch.selectors import setpoint_rows_for_event
from apps.forecasts.baseline_forecast import site_baseline_forecast
from apps.markets.choices import DOWN_PRODUCTS, REGULATION_PRODUCTS, BaselineMethod
from apps.markets.models import Award, Event, Program
from apps.markets.selectors import (
    activation_list_for_event,
    activation_windows_of_site_before,
    award_interval_kw,
    bid_interval_prices_per_mwh,
)
from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import series_for, timeseries_pv_of_site
from forecasting import customer_baselines as bl

from .intervals import event_index, planned_weights
from .models import DEFAULT_FEE_PCT, BaselineTerms, OwnerContract
from .regulation_inputs import RegulationSignal as RegulationSignal  # re-exported: part of SettlementInputs
from .regulation_inputs import regulation_signal, series_values

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgramTerms:
    """The program's settlement terms (copied from :class:`~apps.markets.models.Program` and its zone).

    Prices: capacity per MW·h (availability), energy per MWh, shortfall penalty per MWh, in ``currency``.
    ``performance_cap`` bounds the performance factor; ``penalty_threshold`` is the factor below which the
    shortfall is charged. ``zone_timezone`` (IANA) dates the event into its statement month.
    """

    product: str
    pricing_mode: str
    baseline_method: str
    settlement_interval_minutes: int
    capacity_price_per_mw_h: float
    energy_price_per_mwh: float
    performance_cap: float
    penalty_threshold: float
    shortfall_penalty_per_mwh: float
    currency: str
    zone_timezone: str
    is_down: bool
    is_regulation: bool


@dataclass(frozen=True)
class BaselineRules:
    """The program's day-matching baseline terms (:class:`~apps.settlement.models.BaselineTerms`, or its
    defaults): which days are candidates, how many count, and the same-day adjustment."""

    exclude_weekends: bool
    exclude_holidays: bool
    lookback_days: int
    days: int
    high_x: int
    high_y: int
    adjustment: str
    adjustment_hours: float | None
    adjustment_gap_hours: float
    adjustment_cap_pct: float

    def fingerprint(self) -> list:
        """The terms in a fixed order, for the input fingerprint of a run."""
        return [
            self.exclude_weekends,
            self.exclude_holidays,
            self.lookback_days,
            self.days,
            self.high_x,
            self.high_y,
            self.adjustment,
            self.adjustment_hours,
            self.adjustment_gap_hours,
            self.adjustment_cap_pct,
        ]


@dataclass(frozen=True)
class ActivationWindow:
    """One activation of the event: ``[start, end)`` (an open end is the event's end), the ``kw`` called, or
    the whole award when it ``follows_signal`` (regulation)."""

    start: pd.Timestamp
    end: pd.Timestamp
    kw: float | None
    follows_signal: bool


@dataclass(frozen=True)
class ForecastInput:
    """The p50 forecast (kW, by interval start) known at gate closure, its issue time (ISO 8601) and the PUE
    that turns an IT-power forecast into site power (``None`` for a site-power forecast)."""

    p50_kw: pd.Series
    pue: float | None
    issued_at: str


@dataclass(frozen=True)
class SiteInputs:
    """What one participating site's settlement reads; arrays are over :attr:`SettlementInputs.index`.

    ``weights``: share (0…1) of the award per interval. ``metered_kw``: mean grid power (NaN where missing).
    ``history_kw``: the meter before the event (baseline lookback; ``None`` without a meter). ``event_days`` and
    ``holidays``: local days left out of the baseline days. ``forecast``: for the forecast baseline.
    ``fee_pct``: the aggregator's fee on the owner's share. Savings series: zone price per MWh, carbon
    intensity gCO2/kWh, low-carbon share %, and one PV power series (kW) per PV meter.
    """

    site_id: int
    owner_id: int
    timezone: str
    weights: np.ndarray
    metered_kw: np.ndarray
    history_kw: pd.Series | None
    event_days: frozenset[date]
    holidays: frozenset[date]
    forecast: ForecastInput | None
    fee_pct: Decimal
    price_per_mwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    low_carbon_pct: np.ndarray
    pv_kw: tuple[np.ndarray, ...]
    meter_resolution_s: int | None


@dataclass(frozen=True)
class SettlementInputs:
    """Everything one event's settlement reads, gathered by :func:`settlement_inputs`.

    ``index``: the settlement intervals' starts over ``[event_start, event_end)``. ``award_interval_kw`` and
    ``bid_interval_prices_per_mwh``: by interval start. ``sites``: participating sites by id.
    """

    event_id: int
    event_start: pd.Timestamp
    event_end: pd.Timestamp
    index: pd.DatetimeIndex
    program: ProgramTerms
    baseline_rules: BaselineRules
    award_id: int
    award_interval_kw: dict[pd.Timestamp, float]
    bid_interval_prices_per_mwh: dict[pd.Timestamp, float]
    clearing_price_per_mwh: float
    activations: tuple[ActivationWindow, ...]
    sites: tuple[SiteInputs, ...]
    regulation_signal: RegulationSignal | None


def baseline_terms_of(program: Program) -> BaselineTerms:
    """The program's baseline terms, or the defaults (an unsaved :class:`BaselineTerms`) when it has none."""
    terms = BaselineTerms.objects.filter(program=program).first()
    return terms if terms is not None else BaselineTerms(program=program)


def _baseline_rules(program: Program) -> BaselineRules:
    t = baseline_terms_of(program)
    return BaselineRules(
        exclude_weekends=t.exclude_weekends,
        exclude_holidays=t.exclude_holidays,
        lookback_days=t.lookback_days,
        days=t.days,
        high_x=t.high_x,
        high_y=t.high_y,
        adjustment=t.adjustment,
        adjustment_hours=t.adjustment_hours,
        adjustment_gap_hours=t.adjustment_gap_hours,
        adjustment_cap_pct=t.adjustment_cap_pct,
    )


def _program_terms(program: Program) -> ProgramTerms:
    return ProgramTerms(
        product=program.product,
        pricing_mode=program.pricing_mode,
        baseline_method=program.baseline_method,
        settlement_interval_minutes=program.settlement_interval_minutes,
        capacity_price_per_mw_h=program.capacity_price_per_mw_h,
        energy_price_per_mwh=program.energy_price_per_mwh,
        performance_cap=program.performance_cap,
        penalty_threshold=program.penalty_threshold,
        shortfall_penalty_per_mwh=program.shortfall_penalty_per_mwh,
        currency=program.zone.currency,
        zone_timezone=program.zone.timezone,
        is_down=program.product in DOWN_PRODUCTS,
        is_regulation=program.product in REGULATION_PRODUCTS,
    )


def _fee_pct(owner_id: int) -> Decimal:
    contract = OwnerContract.objects.filter(owner_id=owner_id).first()
    return contract.fee_pct if contract else DEFAULT_FEE_PCT


_values = series_values


def _on_index(series: TimeSeries | None, event: Event, index: pd.DatetimeIndex, step_s: int) -> np.ndarray:
    values = _values(series, event.start, event.end, step_s)
    return values.reindex(index).to_numpy(dtype=float) if values is not None else np.full(len(index), np.nan)


def event_planned_weights(event: Event, index: pd.DatetimeIndex) -> dict[int, np.ndarray]:
    """Each participating site's share of the award per interval (see :func:`.calculation.planned_weights`),
    from the dispatch setpoints of the event, or the active sites of the program's zone without any."""
    rows = setpoint_rows_for_event(event_id=event.pk)
    zone_sites = [] if rows else site_ids_active_in_zone(zone_id=event.program.zone_id)
    return planned_weights(rows, index, fallback_site_ids=zone_sites)


def _forecast_input(site: Site, event: Event) -> ForecastInput | None:
    """The baseline forecast known at gate closure (:func:`apps.forecasts.baseline_forecast.site_baseline_forecast`)."""
    known = site_baseline_forecast(
        site=site, start=event.start, end=event.end, belief_time=event.gate_closure_at
    )
    if known is None:
        return None
    return ForecastInput(p50_kw=known.p50_kw, pue=known.pue, issued_at=known.issued_at)


def _day_rules(site: Site, event: Event, rules: BaselineRules) -> tuple[frozenset[date], frozenset[date]]:
    """``(event days, holidays)`` to leave out of the site's baseline days."""
    event_day = pd.Timestamp(event.start).tz_convert(site.timezone).date()
    years = {event_day.year - 1, event_day.year}
    holidays = (
        bl.holiday_dates(zone_code=site.market_zone_id, years=years) if rules.exclude_holidays else set()
    )
    spans = activation_windows_of_site_before(site_id=site.pk, before=event.start)
    return frozenset(bl.local_days(spans, site.timezone)), frozenset(holidays)


def _site_inputs(
    site: Site, event: Event, index: pd.DatetimeIndex, weights: np.ndarray, rules: BaselineRules
) -> SiteInputs:
    """Metered history, baseline inputs, fee and savings series of one participating site."""
    step_s = event.program.settlement_interval_minutes * 60
    meter = series_for(site=site, quantity=Quantity.SITE_POWER_KW)
    history_start = event.start - timedelta(days=rules.lookback_days + 1)
    history = _values(meter, history_start, event.end, step_s)
    metered = (
        history.reindex(index).to_numpy(dtype=float) if history is not None else np.full(len(index), np.nan)
    )
    before = history[history.index < index[0]] if history is not None else None
    by_forecast = event.program.baseline_method == BaselineMethod.FORECAST
    event_days, holidays = (
        (frozenset(), frozenset()) if by_forecast or before is None else _day_rules(site, event, rules)
    )
    zone_id = site.market_zone_id
    carbon = series_for(site=site, quantity=Quantity.CARBON_INTENSITY_G_PER_KWH) or series_for(
        zone=zone_id, quantity=Quantity.CARBON_INTENSITY_G_PER_KWH
    )
    return SiteInputs(
        site_id=site.pk,
        owner_id=site.owner_id,
        timezone=site.timezone,
        weights=weights,
        metered_kw=metered,
        history_kw=before,
        event_days=event_days,
        holidays=holidays,
        forecast=_forecast_input(site, event) if by_forecast else None,
        fee_pct=_fee_pct(site.owner_id),
        price_per_mwh=_on_index(series_for(zone=zone_id, quantity=Quantity.PRICE), event, index, step_s),
        carbon_g_per_kwh=_on_index(carbon, event, index, step_s),
        low_carbon_pct=_on_index(
            series_for(zone=zone_id, quantity=Quantity.LOW_CARBON_PCT), event, index, step_s
        ),
        pv_kw=tuple(_on_index(s, event, index, step_s) for s in timeseries_pv_of_site(site=site)),
        meter_resolution_s=meter.resolution_s if meter is not None else None,
    )


def settlement_inputs(*, event: Event, award: Award) -> SettlementInputs:
    """Everything the settlement of ``event`` for the aggregator's ``award`` reads (no writes).

    Per site (participating: a share of the award in a dispatch plan, or every active site of the zone without a
    plan): the metered ``site_power_kw`` over the baseline lookback and the event, the baseline inputs of the
    program's method, the owner's fee percentage and the series of the savings (zone price, carbon intensity,
    low-carbon share, PV). For regulation products, the signal of the first activation that carries one.
    """
    program = event.program
    index = event_index(event.start, event.end, program.settlement_interval_minutes)
    rules = _baseline_rules(program)
    weights = event_planned_weights(event, index)
    site_objs = {s.pk: s for s in site_list_by_ids(site_ids=list(weights))}
    ordered = [site_objs[site_id] for site_id in sorted(weights)]
    activations = activation_list_for_event(event_id=event.pk)
    is_regulation = program.product in REGULATION_PRODUCTS
    return SettlementInputs(
        event_id=event.pk,
        event_start=pd.Timestamp(event.start),
        event_end=pd.Timestamp(event.end),
        index=index,
        program=_program_terms(program),
        baseline_rules=rules,
        award_id=award.pk,
        award_interval_kw={pd.Timestamp(k): v for k, v in award_interval_kw(award_id=award.pk).items()},
        bid_interval_prices_per_mwh=(
            {pd.Timestamp(k): v for k, v in bid_interval_prices_per_mwh(bid_id=award.bid_id).items()}
        ),
        clearing_price_per_mwh=award.clearing_price_per_mwh,
        activations=tuple(
            ActivationWindow(
                start=pd.Timestamp(a.start),
                end=pd.Timestamp(a.end or event.end),
                kw=a.kw,
                follows_signal=bool(a.signal),
            )
            for a in activations
        ),
        sites=tuple(_site_inputs(s, event, index, weights[s.pk], rules) for s in ordered),
        regulation_signal=regulation_signal(event, index, ordered) if is_regulation else None,
    )


def event_metering_complete(*, event: Event) -> bool:
    """Every participating site has ``site_power_kw`` data at every settlement interval of the event."""
    index = event_index(event.start, event.end, event.program.settlement_interval_minutes)
    step_s = event.program.settlement_interval_minutes * 60
    weights = event_planned_weights(event, index)
    if not weights:
        return True
    for site in site_list_by_ids(site_ids=list(weights)):
        values = _values(
            series_for(site=site, quantity=Quantity.SITE_POWER_KW), event.start, event.end, step_s
        )
        if values is None or values.reindex(index).isna().any():
            return False
    return True
