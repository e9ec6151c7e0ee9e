"""Scoped reads of settlement runs and site settlements, and their summaries per event, site, program, month or
owner.

Scoping: aggregator members see every run and site settlement; a site owner sees only the site settlements of
its own sites (:func:`apps.assets.selectors.site_list`); a market operator sees the portfolio-level runs of
events of its own programs (no site or owner figures). Summaries use the current version of each event's
settlement only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.accounts.principal import Principal
from apps.assets.selectors import site_list

from ..choices import RunStatus, SummaryGroup
from ..models import SettlementRun, SiteSettlement

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
