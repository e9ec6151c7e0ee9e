"""Reads of settlement, scoped to the caller, and the owners' monthly statements.

Scoping: aggregator members see every run and site settlement; a site owner sees only the site settlements of
its own sites (:func:`apps.assets.selectors.site_list`) and its own statements; a market operator sees the
portfolio-level runs of events of its own programs (no site or owner figures). Statements and summaries use the
current version of each event's settlement only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, QuerySet, Sum

from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.accounts.selectors import site_owner_list
from apps.assets.models import Site
from apps.assets.selectors import site_list
from apps.markets.selectors import event_list
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_extent_of_sites, series_for

from .choices import RunStatus, SummaryGroup
from .models import SettlementRun, SiteSettlement

ZERO = Decimal("0.00")


def run_list(*, principal: Principal, include_superseded: bool = True) -> QuerySet[SettlementRun]:
    """Runs visible to ``principal``: all for the aggregator, its own programs' events for a market operator
    (current versions only), none for anyone else."""
    qs = SettlementRun.objects.select_related("event__program__zone").prefetch_related("intervals")
    if principal.is_aggregator:
        return qs if include_superseded else qs.filter(status=RunStatus.CURRENT)
    if principal.is_market_operator:
        return qs.filter(event__program__operator=principal.organisation, status=RunStatus.CURRENT)
    return qs.none()


def site_settlement_list(*, principal: Principal) -> QuerySet[SiteSettlement]:
    """Current site settlements visible to ``principal`` (aggregator: all; site owner: its own sites)."""
    qs = SiteSettlement.objects.filter(run__status=RunStatus.CURRENT).select_related(
        "run__event__program__zone", "site", "owner"
    )
    if principal.is_aggregator:
        return qs
    if principal.is_site_owner:
        return qs.filter(site__in=site_list(principal=principal))
    return qs.none()


@dataclass(frozen=True)
class StatementLine:
    """One site in one event of a statement; money in ``currency``, rounded to cents."""

    event_id: int
    run_version: int
    program: str
    event_start: str
    site_id: int
    site: str
    currency: str
    delivered_kwh: float
    performance_factor: float | None
    revenue_share: Decimal
    fee_pct: Decimal
    fee: Decimal
    owner_payout: Decimal
    cost_saving: Decimal
    emissions_saving_kg: float | None


@dataclass(frozen=True)
class StatementTotal:
    """Sums of a statement's lines in one currency."""

    currency: str
    delivered_kwh: float = 0.0
    revenue_share: Decimal = ZERO
    fee: Decimal = ZERO
    owner_payout: Decimal = ZERO
    cost_saving: Decimal = ZERO
    emissions_saving_kg: float = 0.0


@dataclass(frozen=True)
class Statement:
    """An owner's monthly statement: every current site settlement of its sites in ``month``."""

    owner: Organisation
    month: date
    lines: list[StatementLine] = field(default_factory=list)
    totals: list[StatementTotal] = field(default_factory=list)

    @property
    def month_label(self) -> str:
        return self.month.strftime("%Y-%m")


def statement_owner_list(*, principal: Principal) -> QuerySet[Organisation]:
    """Owners whose statements ``principal`` may read: all site owners for the aggregator, itself for an
    owner, none otherwise."""
    return site_owner_list(principal=principal)


def statement_months(*, principal: Principal) -> list[tuple[int, date]]:
    """``(owner id, month)`` of every statement ``principal`` can read, newest month first."""
    rows = (
        site_settlement_list(principal=principal)
        .values_list("owner_id", "month")
        .distinct()
        .order_by("-month", "owner_id")
    )
    return list(rows)


def owner_statement(*, principal: Principal, owner: Organisation, month: date) -> Statement:
    """The statement of ``owner`` for ``month`` (first day of the month), from current runs only.

    Lines are ordered by event start and site. Totals are exact sums of the lines' cents, per currency.
    The caller checks ``owner`` is in :func:`statement_owner_list` (otherwise: 404).
    """
    rows = (
        site_settlement_list(principal=principal)
        .filter(owner=owner, month=month)
        .order_by("run__event__start", "site__name", "pk")
    )
    lines = [
        StatementLine(
            event_id=r.run.event_id,
            run_version=r.run.version,
            program=r.run.event.program.code,
            event_start=r.run.event.start.isoformat(),
            site_id=r.site_id,
            site=r.site.name,
            currency=r.run.currency,
            delivered_kwh=round(r.delivered_kwh, 3),
            performance_factor=round(r.performance_factor, 4) if r.performance_factor is not None else None,
            revenue_share=r.revenue_share,
            fee_pct=r.fee_pct,
            fee=r.fee,
            owner_payout=r.owner_payout,
            cost_saving=r.cost_saving,
            emissions_saving_kg=(
                round(r.emissions_saving_kg, 3) if r.emissions_saving_kg is not None else None
            ),
        )
        for r in rows
    ]
    return Statement(owner=owner, month=month, lines=lines, totals=_totals(lines))


def _totals(lines: list[StatementLine]) -> list[StatementTotal]:
    by_currency: dict[str, list[StatementLine]] = defaultdict(list)
    for line in lines:
        by_currency[line.currency].append(line)
    return [
        StatementTotal(
            currency=currency,
            delivered_kwh=round(sum(line.delivered_kwh for line in group), 3),
            revenue_share=sum((line.revenue_share for line in group), ZERO),
            fee=sum((line.fee for line in group), ZERO),
            owner_payout=sum((line.owner_payout for line in group), ZERO),
            cost_saving=sum((line.cost_saving for line in group), ZERO),
            emissions_saving_kg=round(sum(line.emissions_saving_kg or 0.0 for line in group), 3),
        )
        for currency, group in sorted(by_currency.items())
    ]


_GROUP_KEYS = {
    SummaryGroup.EVENT: "run__event_id",
    SummaryGroup.SITE: "site_id",
    SummaryGroup.PROGRAM: "run__event__program__code",
    SummaryGroup.MONTH: "month",
    SummaryGroup.OWNER: "owner_id",
}


def settlement_summary(
    *,
    principal: Principal,
    group_by: str,
    month: date | None = None,
    start: date | None = None,
    end: date | None = None,
    site_id: int | None = None,
) -> list[dict[str, Any]]:
    """Current site settlements visible to ``principal`` summed per ``group_by`` (event, site, program, month or
    owner) and currency: delivered kWh, revenue share, fees, payouts, cost and emission savings, and the shares of
    consumption from PV and from the zone's low-carbon supply (energy-weighted over the group). Money as exact
    cent sums. ``month`` or ``[start, end)`` (event start dates, UTC) and ``site_id`` narrow the rows.

    Raises:
        ValueError: unknown ``group_by``.
    """
    if group_by not in _GROUP_KEYS:
        raise ValueError(f"group_by must be one of {', '.join(_GROUP_KEYS)}")
    qs = site_settlement_list(principal=principal)
    if month is not None:
        qs = qs.filter(month=month)
    if start is not None:
        qs = qs.filter(run__event__start__date__gte=start)
    if end is not None:
        qs = qs.filter(run__event__start__date__lt=end)
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    path = _GROUP_KEYS[SummaryGroup(group_by)]
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in qs.order_by("pk"):
        key_value: Any = row
        for part in path.split("__"):
            key_value = getattr(key_value, part)
        key = (str(key_value), row.run.currency)
        entry = groups.setdefault(
            key,
            {
                "group_by": group_by,
                "key": str(key_value),
                "currency": row.run.currency,
                "sites": 0,
                "delivered_kwh": 0.0,
                "revenue_share": ZERO,
                "fee": ZERO,
                "owner_payout": ZERO,
                "cost_saving": ZERO,
                "emissions_saving_kg": 0.0,
                "consumption_kwh": 0.0,
                "pv_kwh": 0.0,
                "low_carbon_kwh": 0.0,
            },
        )
        entry["sites"] += 1
        for name in ("delivered_kwh", "consumption_kwh", "pv_kwh", "low_carbon_kwh"):
            entry[name] += getattr(row, name)
        entry["emissions_saving_kg"] += row.emissions_saving_kg or 0.0
        for name in ("revenue_share", "fee", "owner_payout", "cost_saving"):
            entry[name] += getattr(row, name)
    rows = [groups[k] for k in sorted(groups)]
    for entry in rows:
        consumption = entry["consumption_kwh"]
        entry["pv_share_pct"] = round(100.0 * entry["pv_kwh"] / consumption, 3) if consumption > 0 else None
        entry["low_carbon_share_pct"] = (
            round(100.0 * entry["low_carbon_kwh"] / consumption, 3) if consumption > 0 else None
        )
        for name in ("delivered_kwh", "consumption_kwh", "emissions_saving_kg"):
            entry[name] = round(entry[name], 3)
    return rows


# --- figures shown on several pages: one selector each (DESIGN.md "one source of a figure") -----------------


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
