"""Reads of settlement, scoped to the caller, and the owners' monthly statements.

Scoping: aggregator members see every run and site settlement; a site owner sees only the site settlements of
its own sites (:func:`apps.assets.selectors.site_list`) and its own statements; a market operator sees the
portfolio-level runs of events of its own programs (no site or owner figures). Statements and summaries use the
current version of each event's settlement only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.accounts.selectors import site_owner_list
from apps.assets.selectors import site_list

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
