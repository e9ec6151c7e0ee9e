"""Read models of the event pages: market events with what was requested, bid, awarded, called and delivered,
the baseline against the metered load, each site's contribution and the delivery and acknowledgement of the
setpoints.

Scope: aggregator staff see every event and the whole portfolio's figures. A site owner sees only events in
which one of its sites was dispatched or settled, and of those only its own sites' part: their share of the
award, their baseline, metered load and delivery, their deliveries and payouts — never the portfolio's bid,
award or revenue, nor another owner's site. Reads go through the markets, dispatch and settlement selectors.
Power in kW, energy in kWh, money in the program zone's currency, times UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from apps.accounts.principal import Principal
from apps.dispatch.choices import PlanStatus
from apps.dispatch.models import Delivery, DeliveryCheck
from apps.dispatch.selectors import check_list, check_outcome, delivery_list, setpoint_list
from apps.markets.models import Event
from apps.markets.selectors import award_list, bid_list, event_list
from apps.settlement.models import SettlementRun, SiteSettlement
from apps.settlement.selectors import event_figures, run_list, site_settlement_list

from .charts import Line, bar_chart, timeseries_chart

#: Delivery statuses that count as done (the site has the setpoints).
DONE = ("delivered", "acknowledged")


def _owner_event_ids(principal: Principal) -> QuerySet:
    """Ids of events in which one of the caller's sites was dispatched or settled."""
    dispatched = delivery_list(principal=principal).values("plan__activation__event_id")
    settled = site_settlement_list(principal=principal).values("run__event_id")
    return event_list(principal=principal).filter(Q(pk__in=dispatched) | Q(pk__in=settled)).values("pk")


def visible_events(*, principal: Principal) -> QuerySet[Event]:
    """Events the caller may open: all for the aggregator, those its sites took part in for a site owner, none
    for anyone else; newest first."""
    events = event_list(principal=principal).select_related("program__zone").order_by("-start", "-id")
    if principal.is_aggregator:
        return events
    if principal.is_site_owner:
        return events.filter(pk__in=_owner_event_ids(principal))
    return events.none()


def event_get(*, principal: Principal, pk: int) -> Event:
    """The event ``pk`` if the caller may open it.

    Raises:
        Http404: no such event, or one the caller's sites had no part in (its existence does not leak).
    """
    event = visible_events(principal=principal).filter(pk=pk).first()
    if event is None:
        raise Http404("no such event")
    return event


@dataclass(frozen=True)
class EventRow:
    """One event of the list with the caller's figures: the portfolio's for staff, its own sites' for an owner.

    ``awarded_kwh`` and ``delivered_kwh`` come from the current settlement (``None`` before it); ``money`` is
    the net market revenue (staff) or the owner's payout (owner); ``deliveries_done``/``deliveries`` count
    setpoint deliveries delivered or acknowledged.
    """

    event: Event
    settled: bool
    awarded_kwh: float | None
    delivered_kwh: float | None
    performance_factor: float | None
    money: Decimal | None
    currency: str
    sites: int
    deliveries_done: int
    deliveries: int

    @property
    def label(self) -> str:
        return f"#{self.event.pk} {self.event.start:%m-%d %H:%M}"


def event_rows(
    *, principal: Principal, limit: int = 200, events: Sequence[Event] | None = None
) -> list[EventRow]:
    """The newest ``limit`` events the caller may open with its figures, in a constant number of queries; or,
    given ``events`` (a page of :func:`visible_events`), the rows of those. The settled figures come from
    :func:`apps.settlement.selectors.event_figures` (the settlement record), as on every other page that shows
    them."""
    if events is None:
        events = list(visible_events(principal=principal)[:limit])
    ids = [e.pk for e in events]
    counts: dict[int, tuple[int, int]] = {}
    for row in (
        delivery_list(principal=principal)
        .filter(plan__activation__event_id__in=ids, plan__status=PlanStatus.ACTIVE)
        .values("plan__activation__event_id")
        .annotate(n=Count("id"), done=Count("id", filter=Q(status__in=DONE)))
        .order_by()
    ):
        counts[row["plan__activation__event_id"]] = (row["done"], row["n"])
    figures = event_figures(principal=principal, event_ids=ids)
    rows = []
    for event in events:
        settled = figures.get(event.pk)
        done, total = counts.get(event.pk, (0, 0))
        rows.append(
            EventRow(
                event=event,
                settled=settled is not None,
                awarded_kwh=settled.awarded_kwh if settled else None,
                delivered_kwh=settled.delivered_kwh if settled else None,
                performance_factor=settled.performance_factor if settled else None,
                money=settled.money if settled else None,
                currency=settled.currency if settled else event.program.zone.currency,
                sites=settled.sites if settled else 0,
                deliveries_done=done,
                deliveries=total,
            )
        )
    return rows


def event_list_chart(rows: list[EventRow], *, own_sites: bool) -> dict:
    """Awarded against delivered energy per settled event (kWh), oldest first."""
    settled = [r for r in reversed(rows) if r.settled][-30:]
    awarded = "Awarded share" if own_sites else "Awarded"
    return bar_chart(
        categories=[r.label for r in settled],
        series={
            awarded: [r.awarded_kwh or 0.0 for r in settled],
            "Delivered": [r.delivered_kwh or 0.0 for r in settled],
        },
        unit="kWh",
        empty="No settled events yet.",
    )


@dataclass(frozen=True)
class SiteContribution:
    """One site's part in an event: its settlement (``None`` before settlement) and its setpoint deliveries."""

    site_id: int
    site_name: str
    owner_name: str
    settlement: SiteSettlement | None
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def delivery_state(self) -> str:
        """The state of the newest plan version's delivery to the site (``—`` if none)."""
        return self.deliveries[-1].status if self.deliveries else ""


@dataclass(frozen=True)
class CheckRow:
    """A closed-loop check of the event and what it found, in words (:func:`apps.dispatch.selectors.check_outcome`)."""

    check: DeliveryCheck
    outcome: str


@dataclass(frozen=True)
class EventDetail:
    """Everything the event page shows, already scoped (see the module docstring)."""

    event: Event
    portfolio: bool
    run: SettlementRun | None
    bid_kw: float | None
    awarded_kw: float | None
    intervals_chart: dict
    baseline_chart: dict
    contribution_chart: dict
    contribution_label: str
    sites: list[SiteContribution]
    deliveries: list[Delivery]
    checks: list[CheckRow]
    currency: str
    payout: Decimal | None


def _grid(event: Event) -> pd.DatetimeIndex:
    minutes = event.program.settlement_interval_minutes or 15
    return pd.date_range(event.start, event.end, freq=f"{minutes}min", inclusive="left")


def _stepped(values: Mapping[Any, float | None], grid: pd.DatetimeIndex, end: Any) -> pd.Series:
    """Values per interval start on ``grid`` with the last one repeated at ``end``, so a step line reaches the
    end of the last interval; intervals without a value are NaN (gaps stay gaps)."""
    series = pd.Series({pd.Timestamp(k): float(v) for k, v in values.items() if v is not None}, dtype=float)
    series = series.reindex(grid)
    last = series.dropna()
    tail = pd.Series([float(last.iloc[-1]) if not last.empty else float("nan")], index=[pd.Timestamp(end)])
    return pd.concat([series, tail])


@dataclass(frozen=True)
class _Lines:
    """The two charts' lines of the event page and the portfolio's headline figures (staff only)."""

    intervals: list[Line]
    baseline: list[Line]
    run: SettlementRun | None = None
    bid_kw: float | None = None
    awarded_kw: float | None = None


def _portfolio_lines(principal: Principal, event: Event, grid: pd.DatetimeIndex) -> _Lines:
    """Requested, bid, awarded, called and delivered kW, and baseline against metered, from the portfolio's bid,
    award and current settlement run."""
    run = run_list(principal=principal, include_superseded=False).filter(event=event).first()
    bid = bid_list(principal=principal).filter(event=event).first()
    award = award_list(principal=principal).filter(bid__event=event).first()

    def step(name: str, values: Mapping[Any, float | None]) -> Line:
        return Line(name, _stepped(values, grid, event.end), style="step")

    lines = [step("Requested", {t: event.requested_kw for t in grid})]
    bid_kw = awarded_kw = None
    if bid is not None:
        offers = {i.start: i.quantity_kw for i in bid.intervals.all()}
        bid_kw = max(offers.values(), default=None)
        lines.append(step("Bid", offers))
    if award is not None:
        awarded = {i.start: i.awarded_kw for i in award.intervals.all()}
        awarded_kw = max(awarded.values(), default=None)
        lines.append(step("Awarded", awarded))
    baseline: list[Line] = []
    if run is not None:
        rows = list(run.intervals.all())
        lines.append(step("Called", {r.start: r.called_kw for r in rows}))
        lines.append(step("Delivered", {r.start: r.delivered_kw for r in rows}))
        baseline = [
            step("Baseline", {r.start: r.baseline_kw for r in rows}),
            step("Metered", {r.start: r.metered_kw for r in rows}),
        ]
    return _Lines(lines, baseline, run, bid_kw, awarded_kw)


def _own_sites_lines(event: Event, grid: pd.DatetimeIndex, settlements: list[SiteSettlement]) -> _Lines:
    """The same charts for a site owner: the sums of its own sites' settlement intervals."""
    if not settlements:
        return _Lines([], [])
    totals: dict[str, dict[Any, float]] = defaultdict(lambda: defaultdict(float))
    for settlement in settlements:
        for i in settlement.intervals.all():
            for name in ("awarded_kw", "called_kw", "delivered_kw", "baseline_kw", "metered_kw"):
                value = getattr(i, name)
                if value is not None:
                    totals[name][i.start] += value

    def step(name: str, key: str) -> Line:
        return Line(name, _stepped(totals[key], grid, event.end), style="step")

    return _Lines(
        [
            step("Awarded share", "awarded_kw"),
            step("Called share", "called_kw"),
            step("Delivered", "delivered_kw"),
        ],
        [step("Baseline", "baseline_kw"), step("Metered", "metered_kw")],
    )


def _site_contributions(
    settlements: list[SiteSettlement], deliveries: list[Delivery]
) -> list[SiteContribution]:
    """One row per settled site, then the sites that only received setpoints (by name)."""
    by_site: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_site[delivery.site_id].append(delivery)
    sites = [
        SiteContribution(s.site_id, s.site.name, s.site.owner.name, s, by_site.pop(s.site_id, []))
        for s in settlements
    ]
    sites += [
        SiteContribution(site_id, items[0].site.name, items[0].site.owner.name, None, items)
        for site_id, items in sorted(by_site.items(), key=lambda kv: kv[1][0].site.name)
    ]
    return sites


def _checks(deliveries: list[Delivery]) -> list[CheckRow]:
    """The closed-loop checks of the activations the deliveries belong to, by interval."""
    checks: list[DeliveryCheck] = []
    for activation_id in {d.plan.activation_id for d in deliveries if d.plan.activation_id}:
        checks += list(check_list(activation_id=activation_id))
    return [CheckRow(c, check_outcome(c)) for c in sorted(checks, key=lambda c: c.interval_start)]


def event_detail(*, principal: Principal, event: Event) -> EventDetail:
    """The event page of ``event`` (already looked up with :func:`event_get`) for the caller."""
    portfolio = principal.is_aggregator
    grid = _grid(event)
    settlements = list(
        site_settlement_list(principal=principal)
        .filter(run__event=event)
        .select_related("site__owner")
        .prefetch_related("intervals")
        .order_by("site__name", "site_id")
    )
    deliveries = list(
        delivery_list(principal=principal)
        .filter(plan__activation__event=event)
        .select_related("site__owner")
        .order_by("plan__activation__start", "plan__version", "site__name")
    )
    lines = (
        _portfolio_lines(principal, event, grid) if portfolio else _own_sites_lines(event, grid, settlements)
    )
    not_settled = "Not settled yet: figures appear once the event is settled."
    contribution_chart, contribution_label = _contribution_chart(principal, event, grid, settlements)
    return EventDetail(
        event=event,
        portfolio=portfolio,
        run=lines.run,
        bid_kw=lines.bid_kw,
        awarded_kw=lines.awarded_kw,
        intervals_chart=timeseries_chart(lines=lines.intervals, unit="kW", empty=not_settled),
        baseline_chart=timeseries_chart(lines=lines.baseline, unit="kW", empty=not_settled),
        contribution_chart=contribution_chart,
        contribution_label=contribution_label,
        sites=_site_contributions(settlements, deliveries),
        deliveries=deliveries,
        checks=_checks(deliveries) if portfolio else [],
        currency=lines.run.currency if lines.run is not None else event.program.zone.currency,
        payout=sum((s.owner_payout for s in settlements), Decimal("0.00")) if settlements else None,
    )


def _contribution_chart(
    principal: Principal, event: Event, grid: pd.DatetimeIndex, settlements: list[SiteSettlement]
) -> tuple[dict, str]:
    """Delivered kW per site and interval, stacked (from the settlement); before settlement, the reduction each
    site was planned to deliver (baseline − target of the active plan's setpoints)."""
    categories = [f"{t:%H:%M}" for t in grid]
    slot = {t: i for i, t in enumerate(grid)}
    per_site: dict[str, list[float]] = {}
    if settlements:
        for settlement in settlements:
            values = [0.0] * len(grid)
            for i in settlement.intervals.all():
                if pd.Timestamp(i.start) in slot:
                    values[slot[pd.Timestamp(i.start)]] = i.delivered_kw
            per_site[settlement.site.name] = values
        label = "Delivered per site (kW, settlement)"
    else:
        planned = (
            setpoint_list(principal=principal)
            .filter(plan__activation__event=event, plan__status=PlanStatus.ACTIVE)
            .select_related("site")
            .order_by("site__name", "start")
        )
        for sp in planned:
            values = per_site.setdefault(sp.site.name, [0.0] * len(grid))
            if pd.Timestamp(sp.start) in slot:
                values[slot[pd.Timestamp(sp.start)]] = sp.baseline_kw - sp.target_kw
        label = "Planned reduction per site (kW, dispatch plan)"
    chart = bar_chart(
        categories=categories,
        series=per_site,
        unit="kW",
        stacked=True,
        empty="No site was dispatched for this event.",
    )
    return chart, label
