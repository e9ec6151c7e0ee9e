"""The owners' monthly statements: the lines (one site in one event) and per-currency totals of an owner's current
site settlements in a month, and the owners and months a caller may read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from apps.accounts.models import Organisation
from apps.accounts.principal import Principal
from apps.accounts.selectors import site_owner_list

from .runs import ZERO, site_settlement_list


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
