"""A large portfolio for the dashboard's scaling checks: the query and page-size bounds of
tests/apps/dashboard/test_server_time.py and the timings of benchmarks/dashboard/pages.py build the same one."""

from __future__ import annotations

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from tests.factories import (
    BatteryFactory,
    OrganisationFactory,
    PVArrayFactory,
    SiteFactory,
    WorkloadClassFactory,
)

#: Enrolment status of the sites in turn: 6 of 8 active, 1 submitted (waits in the staff queue), 1 draft.
STATUS_CYCLE = [EnrolmentStatus.ACTIVE] * 6 + [EnrolmentStatus.SUBMITTED, EnrolmentStatus.DRAFT]


def big_portfolio(n_sites: int = 400) -> Site:
    """``n_sites`` sites spread over 8 new owners in turn, with statuses cycling through :data:`STATUS_CYCLE`
    (400 sites: 300 active, 50 submitted, 50 drafts), each with two workload classes (40 % inference that cannot
    be deferred, 35 % training deferrable by up to 8 h), a battery and a PV array. Returns the last site created.

    Raises:
        ValueError: ``n_sites`` is not positive.
    """
    if n_sites <= 0:
        raise ValueError("n_sites must be positive.")
    owners = [OrganisationFactory() for _ in range(8)]
    for i in range(n_sites):
        site = SiteFactory(
            owner=owners[i % len(owners)], enrolment_status=STATUS_CYCLE[i % len(STATUS_CYCLE)]
        )
        WorkloadClassFactory(site=site, share_pct=40, kind="inference", max_delay_h=None)
        WorkloadClassFactory(site=site, share_pct=35)
        BatteryFactory(site=site)
        PVArrayFactory(site=site)
    return site


def big_portfolio_bulk(n_sites: int) -> Site:
    """The same portfolio as :func:`big_portfolio` (owners, statuses, assets per site), written with
    ``bulk_create`` in batches so that 10,000 sites seed in seconds rather than minutes (benchmarks). Returns the
    last site created.

    Raises:
        ValueError: ``n_sites`` is not positive.
    """
    from apps.assets.models import Battery, PVArray, WorkloadClass

    if n_sites <= 0:
        raise ValueError("n_sites must be positive.")
    owners = [OrganisationFactory() for _ in range(8)]
    zone = SiteFactory.build(owner=owners[0]).market_zone
    sites = Site.objects.bulk_create(
        [
            SiteFactory.build(
                owner=owners[i % len(owners)],
                market_zone=zone,
                enrolment_status=STATUS_CYCLE[i % len(STATUS_CYCLE)],
            )
            for i in range(n_sites)
        ],
        batch_size=2000,
    )
    workloads = []
    for site in sites:
        workloads.append(
            WorkloadClassFactory.build(site=site, share_pct=40, kind="inference", max_delay_h=None)
        )
        workloads.append(WorkloadClassFactory.build(site=site, share_pct=35))
    WorkloadClass.objects.bulk_create(workloads, batch_size=2000)
    Battery.objects.bulk_create([BatteryFactory.build(site=s) for s in sites], batch_size=2000)
    PVArray.objects.bulk_create([PVArrayFactory.build(site=s) for s in sites], batch_size=2000)
    return sites[-1]


def market_events_bulk(n_events: int) -> int:
    """``n_events`` market events of one new program, two hours each, one a day going back from tomorrow (the
    newest announced, the rest completed), written with ``bulk_create`` (benchmarks). Returns ``n_events``.

    Raises:
        ValueError: ``n_events`` is not positive.
    """
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.choices import OrganisationKind
    from apps.markets.choices import EventStatus
    from apps.markets.models import Event

    from .markets_data import program

    if n_events <= 0:
        raise ValueError("n_events must be positive.")
    prog = program(
        OrganisationFactory(kind=OrganisationKind.MARKET_OPERATOR), code="bulk", name="Bulk events"
    )
    first = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    events = []
    for i in range(n_events):
        start = first - timedelta(days=i)
        events.append(
            Event(
                program=prog,
                start=start,
                end=start + timedelta(hours=2),
                requested_kw=5000,
                gate_closure_at=start - timedelta(hours=1),
                status=EventStatus.ANNOUNCED if i == 0 else EventStatus.COMPLETED,
                announced_at=start - timedelta(days=1),
            )
        )
    Event.objects.bulk_create(events, batch_size=2000)
    return n_events
