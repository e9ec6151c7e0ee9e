"""What a replay leaves in the database, counted and removed, so that a second replay does not run on top of the
first one (which doubles every event, bid and statement line) and ``make demo`` gives the same figures each run.

A replay's records (:func:`replay_records`) are exactly what :class:`apps.replay.runner.Replay` and the site
agents write: the market events of the demo market operator's programs and everything hanging on them (bids,
awards, activations, prepared and dispatch plans with their setpoints, deliveries and checks, settlement runs
with their intervals and site settlements), the day-ahead schedules of the demo sites, and the demo sites' and
their assets' metered and replayed series (IT power, site power, PV power, state of charge) with their forecasts,
and the demo sites' reported states (queue and known jobs; removed, not counted).
The demo organisations, users, sites, programs and the bundled zone and site data stay (they are the seed, not
the replay, and seeding them again changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from apps.accounts.choices import OrganisationKind
from apps.assets.demo_portfolio import ORGANISATIONS
from apps.assets.models import Site
from apps.core import clock
from apps.dispatch.models import DispatchPlan
from apps.markets.models import Activation, Award, Bid, Event
from apps.settlement.models import SettlementRun
from apps.telemetry.choices import Quantity
from apps.telemetry.models import SiteState, TimeSeries

#: Slug of the market operator whose programs the replay's simulator runs.
DEMO_OPERATOR_SLUG = "demo-operator"
#: Quantities the replay writes for the demo sites and their batteries and PV arrays.
REPLAY_QUANTITIES = (
    Quantity.IT_POWER_KW,
    Quantity.SITE_POWER_KW,
    Quantity.PV_POWER_KW,
    Quantity.SOC_KWH,
    Quantity.ENERGY_KWH,
)


@dataclass(frozen=True)
class ReplayRecords:
    """Counts of a replay's records (rows of each kind); ``any`` is true when a replay has run here."""

    events: int
    settlement_runs: int
    dispatch_plans: int
    series: int

    @property
    def any(self) -> bool:
        return bool(self.events or self.settlement_runs or self.dispatch_plans or self.series)

    def describe(self) -> str:
        return (
            f"{self.events} events, {self.settlement_runs} settlement runs, {self.dispatch_plans} dispatch plans, "
            f"{self.series} metered series of the demo sites"
        )


def _demo_sites() -> QuerySet[Site]:
    owners = [slug for _, slug, kind in ORGANISATIONS if kind == OrganisationKind.SITE_OWNER]
    return Site.objects.filter(owner__slug__in=owners)


def _events() -> QuerySet[Event]:
    return Event.objects.filter(program__operator__slug=DEMO_OPERATOR_SLUG)


def _plans() -> QuerySet[DispatchPlan]:
    return DispatchPlan.objects.filter(
        Q(activation__event__in=_events()) | Q(setpoints__site__in=_demo_sites())
    ).distinct()


def _series() -> QuerySet[TimeSeries]:
    sites = _demo_sites()
    return TimeSeries.objects.filter(
        Q(site__in=sites) | Q(battery__site__in=sites) | Q(pv_array__site__in=sites),
        quantity__in=REPLAY_QUANTITIES,
    )


def replay_records() -> ReplayRecords:
    """Count the records a replay leaves (module docstring); four queries."""
    return ReplayRecords(
        events=_events().count(),
        settlement_runs=SettlementRun.objects.filter(event__in=_events()).count(),
        dispatch_plans=_plans().count(),
        series=_series().filter(data_points__isnull=False).distinct().count(),
    )


@transaction.atomic
def replay_records_remove() -> ReplayRecords:
    """Delete exactly the records of :func:`replay_records` (in one transaction, children before the rows they
    protect) and return the product clock to the wall clock. Returns what was removed."""
    removed = replay_records()
    events = _events()
    SettlementRun.objects.filter(event__in=events).delete()
    DispatchPlan.objects.filter(pk__in=list(_plans().values_list("pk", flat=True))).delete()
    Activation.objects.filter(event__in=events).delete()
    Award.objects.filter(bid__event__in=events).delete()
    Bid.objects.filter(event__in=events).delete()
    events.delete()
    _series().delete()
    SiteState.objects.filter(site__in=_demo_sites()).delete()  # the agents' reports, queues and known jobs
    clock.replay_stop()
    return removed
