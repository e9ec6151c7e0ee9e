"""Read model of the results of the period the demo world replayed (or any period with a run-as-it-arrives
counterfactual): what the overview and the revenue page show as cost and carbon saving, delivered against
awarded energy, service levels and revenue — through the same selectors as the replay's summary, so the figures
are equal everywhere (:func:`apps.settlement.selectors.period_savings`,
:func:`apps.settlement.selectors.settled_totals`).

Scope: the caller's sites (:func:`apps.assets.selectors.site_list`, active ones); the settled-event totals are
the portfolio's and shown to the aggregator's staff only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from apps.accounts.principal import Principal
from apps.assets.choices import EnrolmentStatus
from apps.assets.selectors import site_list
from apps.dispatch.choices import PlanStatus
from apps.dispatch.selectors import delivery_list
from apps.markets.models import Event
from apps.markets.selectors import event_list
from apps.settlement.selectors import (
    PeriodSavings,
    SettledTotals,
    period_savings,
    savings_period,
    settled_totals,
)

from .activity import DONE


@dataclass(frozen=True)
class PeriodResults:
    """Results of ``[start, end)`` (UTC). ``settled``: the portfolio's settled events (staff only, else
    ``None``); ``events``: those events, oldest first, for links; ``deliveries_done``/``deliveries``: setpoint
    deliveries of the period's activation plans delivered or acknowledged, of all (staff only)."""

    start: datetime
    end: datetime
    savings: PeriodSavings
    settled: SettledTotals | None
    events: list[Event]
    deliveries_done: int
    deliveries: int

    @property
    def delivered_share_pct(self) -> float | None:
        """Delivered ÷ awarded energy of the settled events (%)."""
        if self.settled is None or not self.settled.awarded_kwh:
            return None
        return 100.0 * self.settled.delivered_kwh / self.settled.awarded_kwh


def period_results(*, principal: Principal) -> PeriodResults | None:
    """The results of the period the caller's active sites have a counterfactual for (:func:`savings_period`),
    or ``None`` when there is none (no replay ran; then one query)."""
    sites = site_list(principal=principal).filter(enrolment_status=EnrolmentStatus.ACTIVE)
    period = savings_period(sites=sites)
    if period is None:
        return None
    start, end = period
    savings = period_savings(sites=list(sites), start=start, end=end)
    settled = settled_totals(principal=principal, start=start, end=end) if principal.is_aggregator else None
    events: list[Event] = []
    done = total = 0
    if settled is not None:
        events = list(
            event_list(principal=principal).filter(pk__in=settled.event_ids).order_by("start", "pk")
        )
        counts = delivery_list(principal=principal).filter(plan__activation__event_id__in=settled.event_ids)
        agg = counts.filter(plan__status=PlanStatus.ACTIVE).aggregate(
            n=Count("id"), done=Count("id", filter=Q(status__in=DONE))
        )
        done, total = agg["done"] or 0, agg["n"] or 0
    return PeriodResults(start, end, savings, settled, events, done, total)
