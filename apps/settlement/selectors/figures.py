"""Settled figures shown on several pages, one selector each (DESIGN.md "one source of a figure"): an event's
settled figures for the caller, the period savings against running work as it arrives (and the period the
counterfactual series cover), and the portfolio's settled totals of a period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Count, QuerySet, Sum

from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.markets.selectors import event_list
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_extent_of_sites, series_for

from ..models import SiteSettlement
from .runs import ZERO, run_list, site_settlement_list


@dataclass(frozen=True)
class EventFigures:
    """The caller's settled figures of one event (current run): the portfolio's for the aggregator and a market
    operator, the caller's own sites' for a site owner.

    ``performance_factor``: the settlement record's — the run's for the portfolio, and for a group of sites the
    called-energy-weighted mean of the site settlements' factors (each is capped delivered ÷ called energy of the
    site, so the weighted mean is the group's capped delivered ÷ called energy; one site: its own factor;
    regulation: the event's PJM score). ``money``: net market revenue (portfolio) or owner payouts (owner).
    Energies in kWh, money in ``currency``.
    """

    event_id: int
    currency: str
    sites: int
    awarded_kwh: float
    called_kwh: float
    delivered_kwh: float
    performance_factor: float | None
    money: Decimal


def event_figures(*, principal: Principal, event_ids: list[int]) -> dict[int, EventFigures]:
    """:class:`EventFigures` of the settled events among ``event_ids`` that the caller may see, by event id, in
    two queries. Events without a current settlement are absent."""
    out: dict[int, EventFigures] = {}
    site_counts: dict[int, int] = {}
    if principal.is_aggregator or principal.is_market_operator:
        if principal.is_aggregator:
            site_counts = dict(
                site_settlement_list(principal=principal)
                .filter(run__event_id__in=event_ids)
                .values_list("run__event_id")
                .annotate(n=Count("id"))
                .order_by()
            )
        for run in run_list(principal=principal, include_superseded=False).filter(event_id__in=event_ids):
            out[run.event_id] = EventFigures(
                event_id=run.event_id,
                currency=run.currency,
                sites=site_counts.get(run.event_id, 0),
                awarded_kwh=run.awarded_kwh,
                called_kwh=run.called_kwh,
                delivered_kwh=run.delivered_kwh,
                performance_factor=run.performance_factor,
                money=run.net_revenue,
            )
        return out
    groups: dict[int, list[SiteSettlement]] = defaultdict(list)
    rows = (
        site_settlement_list(principal=principal)
        .filter(run__event_id__in=event_ids)
        .annotate(called_kw_sum=Sum("intervals__called_kw"))
        .order_by("pk")
    )
    for row in rows:
        groups[row.run.event_id].append(row)
    for event_id, group in groups.items():
        out[event_id] = _group_figures(event_id, group)
    return out


def site_called_kwh(settlement: SiteSettlement) -> float:
    """Called energy of one site settlement (kWh): its intervals' called kW × the run's interval length.
    Uses the ``called_kw_sum`` annotation when present (see :func:`event_figures`)."""
    called_kw = getattr(settlement, "called_kw_sum", None)
    if called_kw is None:
        called_kw = sum(i.called_kw for i in settlement.intervals.all())
    return float(called_kw or 0.0) * settlement.run.interval_minutes / 60.0


def _group_figures(event_id: int, group: list[SiteSettlement]) -> EventFigures:
    called = [site_called_kwh(s) for s in group]
    weighted = [
        (s.performance_factor, c)
        for s, c in zip(group, called, strict=True)
        if s.performance_factor is not None
    ]
    weight = sum(c for _, c in weighted)
    pf = sum(p * c for p, c in weighted) / weight if weight > 0 else None
    if pf is None and len(weighted) == 1:
        pf = weighted[0][0]
    return EventFigures(
        event_id=event_id,
        currency=group[0].run.currency,
        sites=len(group),
        awarded_kwh=sum(s.awarded_kwh for s in group),
        called_kwh=sum(called),
        delivered_kwh=sum(s.delivered_kwh for s in group),
        performance_factor=pf,
        money=sum((s.owner_payout for s in group), ZERO),
    )


#: Name of a site's grid-power series "run as it arrives": what the meter would have read had every job run when
#: it arrived (no shifting, no battery), the counterfactual of the period savings (written by the replay).
COUNTERFACTUAL_SERIES = "run_as_it_arrives"
#: Name of a site's ``energy_kwh`` series of deferred IT work still waiting (kWh of IT energy, one point at the
#: last interval of a period: the backlog the site's scheduler holds at its end).
BACKLOG_SERIES = "it_work_waiting"


@dataclass(frozen=True)
class PeriodSavings:
    """Energy, cost and emissions of the metered operation against running work as it arrives, over a period.

    Energy cost counts grid import at the zone price (export credited at the same price); emissions count grid
    import only (gCO2/kWh × kWh), as ``flexibility/`` does. Deferred IT work still waiting at the end
    (``unserved_work_kwh``, grid kWh = IT kWh × PUE) is charged at the site's mean price and carbon intensity
    over the period, so that deferring work past the end never counts as a saving. Energies in kWh, money in
    ``currency``, emissions in kg; ``sites``: sites with both series over the period.
    """

    currency: str
    sites: int
    energy_kwh: float
    baseline_energy_kwh: float
    unserved_work_kwh: float
    energy_cost: float
    baseline_energy_cost: float
    emissions_kg: float
    baseline_emissions_kg: float

    @property
    def cost_saving(self) -> float:
        return self.baseline_energy_cost - self.energy_cost

    @property
    def cost_savings_pct(self) -> float | None:
        return 100 * (1 - self.energy_cost / self.baseline_energy_cost) if self.baseline_energy_cost else None

    @property
    def emissions_saving_kg(self) -> float:
        return self.baseline_emissions_kg - self.emissions_kg

    @property
    def carbon_savings_pct(self) -> float | None:
        return (
            100 * (1 - self.emissions_kg / self.baseline_emissions_kg) if self.baseline_emissions_kg else None
        )


def _site_series(site: Site, quantity: str, name: str, start: datetime, end: datetime) -> pd.Series:
    series = series_for(site=site, quantity=quantity, name=name)
    return datapoints_series(series=series, start=start, end=end) if series else pd.Series(dtype=float)


def _zone_values(zone: str, quantity: str, index: pd.DatetimeIndex) -> np.ndarray:
    series = series_for(zone=zone, quantity=quantity)
    if series is None:
        return np.zeros(len(index))
    values = datapoints_series(
        series=series, start=index[0].floor("h"), end=index[-1] + pd.Timedelta(hours=1)
    )
    return values.reindex(index, method="ffill").fillna(0.0).to_numpy()


def period_savings(
    *, sites: Iterable[Site], start: datetime, end: datetime, unserved_it_kwh: dict[int, float] | None = None
) -> PeriodSavings:
    """:class:`PeriodSavings` of ``sites`` over ``[start, end)`` (UTC), on the intervals where both the metered
    grid power and the :data:`COUNTERFACTUAL_SERIES` exist, priced at the zones' stored prices and carbon
    intensity. The caller scopes ``sites`` (e.g. :func:`apps.assets.selectors.site_list`).

    ``unserved_it_kwh`` (IT kWh by site id): the work still waiting at the end; by default the stored
    :data:`BACKLOG_SERIES` points in the period.
    """
    cost = base_cost = emissions = base_emissions = energy = base_energy = unserved = 0.0
    currency, counted = "USD", 0
    for site in sites:
        metered = _site_series(site, Quantity.SITE_POWER_KW, "", start, end)
        counterfactual = _site_series(site, Quantity.SITE_POWER_KW, COUNTERFACTUAL_SERIES, start, end)
        both = metered.index.intersection(counterfactual.index)
        if both.empty:
            continue
        counted += 1
        hours = 0.25
        price = _zone_values(site.market_zone_id, Quantity.PRICE, both)
        carbon = _zone_values(site.market_zone_id, Quantity.CARBON_INTENSITY_G_PER_KWH, both)
        m, c = metered.reindex(both).to_numpy(), counterfactual.reindex(both).to_numpy()
        energy += float(np.sum(m) * hours)
        base_energy += float(np.sum(c) * hours)
        cost += float(np.sum(price * m * hours) / 1000)
        base_cost += float(np.sum(price * c * hours) / 1000)
        emissions += float(np.sum(carbon * np.clip(m, 0, None) * hours) / 1000)
        base_emissions += float(np.sum(carbon * np.clip(c, 0, None) * hours) / 1000)
        currency = site.market_zone.currency
        if unserved_it_kwh is None:
            waiting_it_kwh = float(_site_series(site, Quantity.ENERGY_KWH, BACKLOG_SERIES, start, end).sum())
        else:
            waiting_it_kwh = unserved_it_kwh.get(site.pk, 0.0)
        waiting_kwh = waiting_it_kwh * site.pue
        energy += waiting_kwh
        cost += waiting_kwh * float(np.mean(price)) / 1000
        emissions += waiting_kwh * float(np.mean(carbon)) / 1000
        unserved += waiting_kwh
    return PeriodSavings(
        currency=currency,
        sites=counted,
        energy_kwh=energy,
        baseline_energy_kwh=base_energy,
        unserved_work_kwh=unserved,
        energy_cost=cost,
        baseline_energy_cost=base_cost,
        emissions_kg=emissions,
        baseline_emissions_kg=base_emissions,
    )


@dataclass(frozen=True)
class SettledTotals:
    """The settled events of a period, portfolio-wide (current runs of events starting in the period): counts,
    energies (kWh), the mean of the runs' performance factors and money (net market revenue and owner payouts,
    exact cents) in ``currency``."""

    events: int
    settled_events: int
    awarded_kwh: float
    called_kwh: float
    delivered_kwh: float
    mean_performance_factor: float | None
    revenue: Decimal
    owner_payouts: Decimal
    currency: str
    event_ids: tuple[int, ...]


def settled_totals(*, principal: Principal, start: datetime, end: datetime) -> SettledTotals:
    """:class:`SettledTotals` of events starting in ``[start, end)`` for the aggregator (the portfolio's
    figures: nothing for anyone else)."""
    events = event_list(principal=principal).filter(start__gte=start, start__lt=end)
    runs = list(
        run_list(principal=principal, include_superseded=False).filter(event__in=events).order_by("event_id")
    )
    payouts = (
        site_settlement_list(principal=principal)
        .filter(run__in=[r.pk for r in runs])
        .aggregate(s=Sum("owner_payout"))
    )["s"] or ZERO
    pf = [r.performance_factor for r in runs if r.performance_factor is not None]
    return SettledTotals(
        events=events.count() if principal.is_aggregator else 0,
        settled_events=len(runs),
        awarded_kwh=sum(r.awarded_kwh for r in runs),
        called_kwh=sum(r.called_kwh for r in runs),
        delivered_kwh=sum(r.delivered_kwh for r in runs),
        mean_performance_factor=sum(pf) / len(pf) if pf else None,
        revenue=sum((r.net_revenue for r in runs), ZERO),
        owner_payouts=payouts,
        currency=runs[0].currency if runs else "USD",
        event_ids=tuple(r.event_id for r in runs),
    )


def savings_period(*, sites: QuerySet[Site]) -> tuple[datetime, datetime] | None:
    """The period ``[first, last + one interval)`` (UTC) that the sites' :data:`COUNTERFACTUAL_SERIES` cover —
    for a replay, exactly the replayed period — or ``None`` when no site has one. One query."""
    first, last, step_s = series_extent_of_sites(
        sites=sites, quantity=Quantity.SITE_POWER_KW, name=COUNTERFACTUAL_SERIES
    )
    if first is None or last is None or step_s is None:
        return None
    return first, (pd.Timestamp(last) + pd.Timedelta(seconds=step_s)).to_pydatetime()
