"""Read models of the dashboard pages, built only from the asset selectors (scoped to the caller).

Kept apart from the views so that page data can be tested and timed without HTTP. "Portfolio" means the
sites whose enrolment is active (DESIGN.md: staff approve, then activate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.accounts.principal import Principal
from apps.assets import selectors
from apps.assets.choices import EDITABLE_STATUSES, EnrolmentStatus
from apps.assets.models import Battery, EnrolmentTransition, PVArray, Site, WorkloadClass
from apps.core import clock
from apps.markets import selectors as market_selectors
from apps.markets.choices import EventStatus
from apps.markets.models import Event, Program
from apps.settlement.selectors import EventFigures, event_figures

PIPELINE = (EnrolmentStatus.SUBMITTED, EnrolmentStatus.APPROVED)
#: Sites of the enrolment queue shown on the overview (the oldest first; the site list shows the rest).
QUEUE_SHOWN = 50
#: Events that are still to come or running: announced, gate closed, awarded or active, and not yet over.
OPEN_EVENT_STATUSES = (
    EventStatus.ANNOUNCED,
    EventStatus.GATE_CLOSED,
    EventStatus.AWARDED,
    EventStatus.ACTIVE,
)


@dataclass(frozen=True)
class ZoneCapacity:
    zone: str
    active_kw: float
    pipeline_kw: float


@dataclass(frozen=True)
class PortfolioSummary:
    """What the staff overview shows. Powers in kW, energies in kWh."""

    zones: list[ZoneCapacity]
    status_counts: dict[str, int]
    queue: Sequence[Site]
    active_sites: int
    active_it_kw: float
    battery_energy_kwh: float
    battery_discharge_kw: float
    battery_count: int
    pv_dc_kwp: float
    pv_ac_kw: float
    pv_count: int
    queue_total: int = 0


def _totals(qs: QuerySet, **fields: str) -> dict[str, float]:
    """Sums of ``fields`` (name → column) and the row count ``n``, in one query; 0 when there are no rows."""
    result = qs.aggregate(n=Count("id"), **{name: Sum(column) for name, column in fields.items()})
    return {name: float(value or 0.0) for name, value in result.items()}


def portfolio_summary(*, principal: Principal) -> PortfolioSummary:
    """Capacity by zone, sites by status, the enrolment queue (its oldest :data:`QUEUE_SHOWN` sites, and how
    many wait in all) and the portfolio's batteries and PV.

    Five queries whatever the size of the portfolio.
    """
    sites = selectors.site_list(principal=principal).order_by()
    zone_rows = (
        sites.filter(enrolment_status__in=(EnrolmentStatus.ACTIVE, *PIPELINE))
        .values("market_zone")
        .annotate(
            active=Sum("it_capacity_kw", filter=Q(enrolment_status=EnrolmentStatus.ACTIVE)),
            pipeline=Sum("it_capacity_kw", filter=Q(enrolment_status__in=PIPELINE)),
        )
        .order_by("market_zone")
    )
    zones = [
        ZoneCapacity(row["market_zone"], float(row["active"] or 0.0), float(row["pipeline"] or 0.0))
        for row in zone_rows
    ]
    counts = dict(sites.values_list("enrolment_status").annotate(n=Count("id")).order_by())
    status_counts = {status.value: counts.get(status.value, 0) for status in EnrolmentStatus}
    queue = list(
        selectors.site_list(principal=principal)
        .filter(enrolment_status=EnrolmentStatus.SUBMITTED)
        .annotate(workloads=_count_of(selectors.workload_class_list(principal=principal)))
        .order_by("updated_at", "id")[:QUEUE_SHOWN]
    )
    active = Q(site__enrolment_status=EnrolmentStatus.ACTIVE)
    battery = selectors.battery_list(principal=principal).filter(active)
    pv = selectors.pv_array_list(principal=principal).filter(active)
    battery_sums = _totals(battery, energy="energy_capacity_kwh", power="max_discharge_kw")
    pv_sums = _totals(pv, dc="dc_capacity_kwp", ac="ac_limit_kw")
    return PortfolioSummary(
        zones=zones,
        status_counts=status_counts,
        queue=queue,
        queue_total=status_counts[EnrolmentStatus.SUBMITTED],
        active_sites=status_counts[EnrolmentStatus.ACTIVE],
        active_it_kw=sum(z.active_kw for z in zones),
        battery_energy_kwh=battery_sums["energy"],
        battery_discharge_kw=battery_sums["power"],
        battery_count=int(battery_sums["n"]),
        pv_dc_kwp=pv_sums["dc"],
        pv_ac_kw=pv_sums["ac"],
        pv_count=int(pv_sums["n"]),
    )


@dataclass(frozen=True)
class SiteDetail:
    """Everything the site page shows about one site the caller may see."""

    site: Site
    workloads: list[WorkloadClass]
    batteries: list[Battery]
    pv_arrays: list[PVArray]
    transitions: list[EnrolmentTransition]
    allocated_pct: float = field(default=0.0)

    @property
    def editable(self) -> bool:
        return self.site.enrolment_status in EDITABLE_STATUSES

    @property
    def unallocated_pct(self) -> float:
        return max(0.0, 100.0 - self.allocated_pct)


def site_detail(*, principal: Principal, site: Site) -> SiteDetail:
    """The site's assets and enrolment history (``site`` already looked up in the caller's scope)."""
    workloads = list(selectors.workload_class_list(principal=principal).filter(site=site))
    return SiteDetail(
        site=site,
        workloads=workloads,
        batteries=list(selectors.battery_list(principal=principal).filter(site=site)),
        pv_arrays=list(selectors.pv_array_list(principal=principal).filter(site=site)),
        transitions=list(selectors.site_transition_list(site=site)),
        allocated_pct=sum(w.share_pct for w in workloads),
    )


def _count_of(assets: QuerySet) -> Coalesce:
    """The number of ``assets`` (a queryset of a model with a ``site`` key) of each site row, as a correlated
    subquery: PostgreSQL evaluates it for the rows a page shows only (a ``Count`` over joins groups every
    site before the LIMIT)."""
    per_site = (
        assets.filter(site=OuterRef("pk")).order_by().values("site").annotate(n=Count("id")).values("n")
    )
    return Coalesce(Subquery(per_site, output_field=IntegerField()), 0)


def owner_site_list(*, principal: Principal) -> QuerySet[Site]:
    """The caller's sites with the number of workload classes, batteries and PV arrays of each, by name.

    The counts are correlated subqueries, so a page of the list (``Paginator``) costs the same at 10,000 sites
    as at 10 (issue #22).
    """
    return (
        selectors.site_list(principal=principal)
        .annotate(
            workload_count=_count_of(selectors.workload_class_list(principal=principal)),
            battery_count=_count_of(selectors.battery_list(principal=principal)),
            pv_count=_count_of(selectors.pv_array_list(principal=principal)),
        )
        .order_by("name", "id")
    )


@dataclass(frozen=True)
class EventsSummary:
    """The next open events the caller may see (``shown``) and how many are open in all (``total``)."""

    shown: list[Event]
    total: int


def open_events(*, principal: Principal, limit: int = 5) -> EventsSummary:
    """Upcoming and running market events visible to the caller, soonest first (times UTC)."""
    events = (
        market_selectors.event_list(principal=principal)
        .filter(status__in=OPEN_EVENT_STATUSES, end__gt=clock.now())
        .order_by("start", "id")
    )
    return EventsSummary(shown=list(events[:limit]), total=events.count())


@dataclass(frozen=True)
class PastEvent:
    """An event that has ended, with the caller's settled figures (``None`` before settlement)."""

    event: Event
    figures: EventFigures | None


def past_events(*, principal: Principal, limit: int = 20) -> list[PastEvent]:
    """The newest ``limit`` events visible to the caller that have ended (by the product clock), with their
    settled figures from :func:`apps.settlement.selectors.event_figures` (the settlement record)."""
    events = list(
        market_selectors.event_list(principal=principal)
        .filter(end__lte=clock.now())
        .order_by("-start", "-id")[:limit]
    )
    figures = event_figures(principal=principal, event_ids=[e.pk for e in events])
    return [PastEvent(e, figures.get(e.pk)) for e in events]


def operator_programs(*, principal: Principal) -> QuerySet[Program]:
    """The caller's programs (a market operator sees only its own) with their number of open events."""
    return (
        market_selectors.program_list(principal=principal)
        .annotate(
            open_events=Count(
                "events",
                filter=Q(events__status__in=OPEN_EVENT_STATUSES, events__end__gt=clock.now()),
            )
        )
        .order_by("zone_id", "name")
    )


@dataclass(frozen=True)
class ActivitySummary:
    """Dispatch and settlement at a glance (from the dispatch and settlement selectors)."""

    schedules: int
    activation_plans: int
    deliveries_done: int
    deliveries_total: int
    latest_plan_at: object
    revenue_month: object
    revenue: object
    payouts: object
    events_settled: int
    currency: str


def activity_summary(*, principal: Principal) -> ActivitySummary:
    """Plans issued, deliveries delivered or acknowledged, and the latest settled month's market revenue and
    owner payouts (the latest month with a current settlement run: a replay settles 2022)."""
    from django.db.models import Max

    from apps.dispatch.selectors import delivery_list, plan_list
    from apps.settlement.selectors import run_list, site_settlement_list

    plans = (
        plan_list(principal=principal)
        .order_by()
        .aggregate(
            schedules=Count("id", filter=Q(kind="schedule")),
            activations=Count("id", filter=Q(kind="activation")),
            latest=Max("valid_from"),
        )
    )
    deliveries = (
        delivery_list(principal=principal)
        .order_by()
        .aggregate(done=Count("id", filter=Q(status__in=["delivered", "acknowledged"])), total=Count("id"))
    )
    runs = run_list(principal=principal, include_superseded=False)
    latest = runs.aggregate(latest=Max("event__start"))["latest"]
    month_runs = runs.none()
    revenue = payouts = None
    if latest is not None:
        month_runs = runs.filter(event__start__year=latest.year, event__start__month=latest.month)
        revenue = month_runs.aggregate(total=Sum("net_revenue"))["total"]
        payouts = (
            site_settlement_list(principal=principal)
            .filter(run__in=month_runs)
            .aggregate(total=Sum("owner_payout"))["total"]
        )
    first = month_runs.first()
    return ActivitySummary(
        schedules=plans["schedules"],
        activation_plans=plans["activations"],
        deliveries_done=deliveries["done"],
        deliveries_total=deliveries["total"],
        latest_plan_at=plans["latest"],
        revenue_month=latest,
        revenue=revenue,
        payouts=payouts,
        events_settled=month_runs.count(),
        currency=first.currency if first is not None else "",
    )
