"""Read model of the revenue page: settled money by month, program and site, from the current settlement runs.

Scope comes from :func:`apps.settlement.selectors.site_settlement_list`: aggregator staff see every site, a site
owner only its own sites (its share of the market revenue, the aggregator's fee on it and its payout), anyone
else nothing. ``month`` is the statement month (the event's month in the program zone's time zone). Money is
summed exactly (``Decimal``) per currency and never added across currencies; energy in kWh, emissions in kg.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Sum

from apps.accounts.principal import Principal
from apps.settlement.selectors import site_settlement_list

from .charts import bar_chart

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RevenueRow:
    """Settled money of one site in one program and month (one currency)."""

    month: date
    program: str
    program_name: str
    site_id: int
    site: str
    owner_id: int
    owner: str
    currency: str
    events: int
    delivered_kwh: float
    revenue_share: Decimal
    fee: Decimal
    owner_payout: Decimal
    cost_saving: Decimal
    emissions_saving_kg: float


@dataclass(frozen=True)
class CurrencyCharts:
    """The charts of one currency: payouts (or revenue) by month and program, and by site."""

    currency: str
    by_month: dict
    by_site: dict
    revenue_share: Decimal
    fee: Decimal
    owner_payout: Decimal
    cost_saving: Decimal


@dataclass(frozen=True)
class StatementLink:
    """An owner's monthly statement (the settlement app's printable page and CSV)."""

    month: date
    owner_id: int
    owner: str

    @property
    def month_label(self) -> str:
        return self.month.strftime("%Y-%m")


@dataclass(frozen=True)
class RevenueSummary:
    rows: list[RevenueRow]
    charts: list[CurrencyCharts]
    statements: list[StatementLink]


def revenue_rows(*, principal: Principal) -> list[RevenueRow]:
    """Current site settlements visible to the caller summed per month, program, site and currency (one query),
    newest month first."""
    rows = (
        site_settlement_list(principal=principal)
        .values(
            "month",
            "run__event__program__code",
            "run__event__program__name",
            "site_id",
            "site__name",
            "owner_id",
            "owner__name",
            "run__currency",
        )
        .annotate(
            events=Count("run__event_id", distinct=True),
            delivered=Sum("delivered_kwh"),
            revenue=Sum("revenue_share"),
            fees=Sum("fee"),
            payout=Sum("owner_payout"),
            saving=Sum("cost_saving"),
            emissions=Sum(F("baseline_emissions_kg") - F("metered_emissions_kg")),
        )
        .order_by("-month", "run__event__program__code", "site__name", "site_id")
    )
    return [
        RevenueRow(
            month=r["month"],
            program=r["run__event__program__code"],
            program_name=r["run__event__program__name"],
            site_id=r["site_id"],
            site=r["site__name"],
            owner_id=r["owner_id"],
            owner=r["owner__name"],
            currency=r["run__currency"],
            events=r["events"],
            delivered_kwh=float(r["delivered"] or 0.0),
            revenue_share=r["revenue"] or ZERO,
            fee=r["fees"] or ZERO,
            owner_payout=r["payout"] or ZERO,
            cost_saving=r["saving"] or ZERO,
            emissions_saving_kg=float(r["emissions"] or 0.0),
        )
        for r in rows
    ]


def revenue_summary(*, principal: Principal) -> RevenueSummary:
    """Rows and charts of the revenue page. Staff charts show the market revenue attributed to each site (its
    revenue share) split into the owner's payout and the aggregator's fee; owners see the same for their own
    sites only."""
    rows = revenue_rows(principal=principal)
    by_currency: dict[str, list[RevenueRow]] = defaultdict(list)
    for row in rows:
        by_currency[row.currency].append(row)
    charts = []
    for currency, items in sorted(by_currency.items()):
        months = sorted({r.month for r in items})
        programs = sorted({r.program for r in items})
        month_totals: dict[tuple[date, str], Decimal] = defaultdict(lambda: ZERO)
        for r in items:
            month_totals[(r.month, r.program)] += r.revenue_share
        by_month = bar_chart(
            categories=[m.strftime("%Y-%m") for m in months],
            series={p: [float(month_totals[(m, p)]) for m in months] for p in programs},
            unit=currency,
            stacked=True,
            empty="Nothing settled yet.",
        )
        sites = sorted({(r.site, r.site_id) for r in items})
        payout: dict[int, Decimal] = defaultdict(lambda: ZERO)
        fee: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for r in items:
            payout[r.site_id] += r.owner_payout
            fee[r.site_id] += r.fee
        by_site = bar_chart(
            categories=[name for name, _ in sites],
            series={
                "Owner payout": [float(payout[pk]) for _, pk in sites],
                "Aggregator fee": [float(fee[pk]) for _, pk in sites],
            },
            unit=currency,
            horizontal=True,
            stacked=True,
            empty="Nothing settled yet.",
        )
        charts.append(
            CurrencyCharts(
                currency=currency,
                by_month=by_month,
                by_site=by_site,
                revenue_share=sum((r.revenue_share for r in items), ZERO),
                fee=sum((r.fee for r in items), ZERO),
                owner_payout=sum((r.owner_payout for r in items), ZERO),
                cost_saving=sum((r.cost_saving for r in items), ZERO),
            )
        )
    statements = sorted(
        {StatementLink(r.month, r.owner_id, r.owner) for r in rows},
        key=lambda s: (-s.month.toordinal(), s.owner),
    )
    return RevenueSummary(rows=rows, charts=charts, statements=statements)
