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
