"""Read model of the portfolio's available flexibility, now and over the next 24 hours (staff overview).

What it shows: for every market zone and for the whole portfolio, the largest reduction ("down") and increase
("up") of grid power versus the expected baseline that the active sites can *hold for one hour* starting at
each interval of the next 24 hours — the flexibility envelope (:func:`flexibility.envelope.envelope`, fast
method: a sound lower bound, never an over-promise) over the portfolio problem
(:func:`apps.markets.portfolio.portfolio_problem`), with the p10 IT-load forecast as bidding uses
(:data:`apps.markets.bidding.LOAD_QUANTILE`), so the figures are what a bid could offer. Migration between
sites is not counted by the fast method, so a zone's figure is the sum of its sites' figures.

The horizon runs :data:`RECOVERY_HOURS` past the 24 hours shown so that deferred work can still be caught up
after the last window (as in bidding).

Caching (issue #22): the figure is computed by a Celery task, never on a page request
(:mod:`apps.markets.flexibility_tasks`: every 15 minutes from the beat, and whenever a page finds the figure out
of date) and kept in Django's cache (Redis in deployment, local memory in the zero-config demo) under a key of
the product clock's 15-minute slot, plus a "latest" key that outlives the slot. A page reads the latest figure
(:func:`portfolio_flexibility`) and shows when it was computed; when the slot has moved on, or its inputs
changed since (:func:`flexibility_inputs_version`: active sites, their last edit, the newest forecast run),
it enqueues one refresh (one message per slot and version, guarded by ``cache.add``). On a cold cache the page
says the figure is being computed. At 300 active sites the computation takes 1.6–2 s on a loaded 2-core
machine (benchmarks/dashboard/pages.py), half building the problem and half the envelope, which a viewer no
longer waits for.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from django.core.cache import cache

from apps.accounts.principal import Principal
from apps.assets.selectors import active_site_list
from apps.core import clock
from apps.core.errors import NotPermitted
from flexibility.envelope import envelope as flexibility_envelope

from .bidding import LOAD_QUANTILE, RECOVERY_HOURS
from .portfolio import portfolio_problem

#: Resolution of the computation (s): the product's settlement grid.
STEP_S = 900
#: Hours shown ahead of the current slot.
HORIZON_HOURS = 24
#: How long each window must be held (h).
HOLD_HOURS = 1.0
#: Lifetime of a cached result under its slot's key (s): one slot (the key changes every slot).
CACHE_SECONDS = STEP_S
#: Lifetime of the latest result (s): shown, marked with its computation time, until a newer one replaces it.
LATEST_SECONDS = 24 * 3600
CACHE_VERSION = 2


@dataclass(frozen=True)
class ZoneFlexibility:
    """Down/up flexibility of one scope (a market zone, or ``"Portfolio"``) in kW.

    ``down_kw``/``up_kw``: one value per hour of the next :data:`HORIZON_HOURS` (the reduction/increase holdable
    for :data:`HOLD_HOURS` starting at that hour, aligned with :attr:`PortfolioFlexibility.hours`);
    ``down_now_kw``/``up_now_kw``: the same for a window starting at the current 15-minute slot.
    """

    scope: str
    site_count: int
    down_now_kw: float
    up_now_kw: float
    down_kw: tuple[float, ...]
    up_kw: tuple[float, ...]


@dataclass(frozen=True)
class PortfolioFlexibility:
    """The overview's flexibility figures as of ``slot_start`` (UTC, the current 15-minute slot).

    ``hours``: the hourly window starts (UTC) of the chart; ``zones``: one entry per market zone with active
    sites (sorted by code); ``total``: the whole portfolio; ``unassessed_sites``: active sites whose expected
    baseline already breaks their own limits (no flexibility promised for them, left out of the sums);
    ``computed_at``: the product-clock time of the computation; ``seconds``: its wall time;
    ``inputs_version``: :func:`flexibility_inputs_version` when it was computed (empty when computed uncached).
    """

    slot_start: datetime
    hours: tuple[datetime, ...]
    zones: tuple[ZoneFlexibility, ...]
    total: ZoneFlexibility
    unassessed_sites: tuple[str, ...]
    computed_at: datetime
    seconds: float
    inputs_version: str = ""

    @property
    def empty(self) -> bool:
        return self.total.site_count == 0


def _slot(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment).tz_convert("UTC").floor(f"{STEP_S}s")


def _scope(
    name: str, columns: list[int], down_kw: np.ndarray, up_kw: np.ndarray, offset: int, shown: int
) -> ZoneFlexibility:
    """Sum the site columns ``columns`` of ``down_kw``/``up_kw`` ((n_scopes, steps) kW from the slot start;
    unassessed sites are NaN and count as 0): now = step 0, the chart = every hour from step ``offset``."""
    down = np.nansum(down_kw[columns, :], axis=0)
    up = np.nansum(up_kw[columns, :], axis=0)
    per_hour = 3600 // STEP_S
    return ZoneFlexibility(
        scope=name,
        site_count=len(columns),
        down_now_kw=float(down[0]),
        up_now_kw=float(up[0]),
        down_kw=tuple(float(v) for v in down[offset : offset + shown : per_hour]),
        up_kw=tuple(float(v) for v in up[offset : offset + shown : per_hour]),
    )


def portfolio_flexibility_compute(*, at: datetime) -> PortfolioFlexibility:
    """Compute (uncached) the flexibility of the active sites for the slot containing ``at``.

    Inputs as known at ``at`` (forecasts issued by then, last metered state of charge). The hourly chart
    starts at the next full hour, or at the current slot when it is on the hour (at 10:20 it shows 11:00 …
    10:00 the next day; at 10:05, 10:00 … 09:00).

    Raises:
        ValueError: ``at`` is naive.
    """
    if pd.Timestamp(at).tzinfo is None:
        raise ValueError("at must be timezone-aware")
    started = time.perf_counter()
    slot = _slot(at)
    per_hour = 3600 // STEP_S
    first_hour = slot.ceil("1h")
    offset = int((first_hour - slot).total_seconds() // STEP_S)
    shown = HORIZON_HOURS * per_hour
    hours = tuple((first_hour + pd.Timedelta(hours=h)).to_pydatetime() for h in range(HORIZON_HOURS))
    sites = list(
        active_site_list().prefetch_related("workload_classes__migratable_to", "batteries", "pv_arrays")
    )
    if not sites:
        nothing = ZoneFlexibility("Portfolio", 0, 0.0, 0.0, (0.0,) * HORIZON_HOURS, (0.0,) * HORIZON_HOURS)
        return PortfolioFlexibility(slot.to_pydatetime(), hours, (), nothing, (), clock.now(), 0.0)
    steps = offset + shown + RECOVERY_HOURS * per_hour
    built = portfolio_problem(
        sites=sites,
        start=slot.to_pydatetime(),
        steps=steps,
        belief_time=at,
        resolution_s=STEP_S,
        load_quantile=LOAD_QUANTILE,
        include_migration_targets=False,
    )
    env = flexibility_envelope(built.problem, durations=[HOLD_HOURS])
    by_zone: dict[str, list[int]] = {}
    for site in sites:
        by_zone.setdefault(site.market_zone_id, []).append(env.scopes.index(str(site.pk)))

    down_kw, up_kw = env.down_kw[0], env.up_kw[0]
    zones = tuple(_scope(code, cols, down_kw, up_kw, offset, shown) for code, cols in sorted(by_zone.items()))
    everything = [c for cols in by_zone.values() for c in cols]
    total = _scope("Portfolio", everything, down_kw, up_kw, offset, shown)
    return PortfolioFlexibility(
        slot_start=slot.to_pydatetime(),
        hours=hours,
        zones=zones,
        total=total,
        unassessed_sites=tuple(built.sites[s].name for s in env.unassessed if s in built.sites),
        computed_at=clock.now(),
        seconds=time.perf_counter() - started,
    )


def _cache_key(slot: pd.Timestamp) -> str:
    return f"markets:portfolio-flexibility:v{CACHE_VERSION}:{slot.strftime('%Y%m%dT%H%MZ')}"


_LATEST_KEY = f"markets:portfolio-flexibility:v{CACHE_VERSION}:latest"


def flexibility_inputs_version() -> str:
    """A fingerprint of what the figure depends on besides the clock: the number of active sites, the last edit
    of any of them (enrolment transitions and edits update it) and the newest successful forecast run. One
    query."""
    from django.db.models import Count, Max, Subquery

    from apps.forecasts.choices import RunStatus
    from apps.forecasts.selectors import forecast_run_list

    newest_run = forecast_run_list().filter(status=RunStatus.SUCCEEDED).order_by("-id").values("id")[:1]
    row = (
        active_site_list()
        .order_by()
        .aggregate(n=Count("id"), edited=Max("updated_at"), run=Max(Subquery(newest_run)))
    )
    edited = row["edited"].isoformat() if row["edited"] else "-"
    return f"{row['n']}:{edited}:{row['run'] or '-'}"


def portfolio_flexibility_refresh(*, at: datetime) -> PortfolioFlexibility:
    """Compute the figure for the slot containing ``at`` (:func:`portfolio_flexibility_compute`) and cache it
    under the slot's key and as the latest; the body of the refresh task.

    Raises:
        ValueError: ``at`` is naive.
    """
    version = flexibility_inputs_version()
    result = portfolio_flexibility_compute(at=at)
    result = dataclasses.replace(result, inputs_version=version)
    cache.set(_cache_key(_slot(at)), result, CACHE_SECONDS)
    latest = cache.get(_LATEST_KEY)
    if not isinstance(latest, PortfolioFlexibility) or latest.slot_start <= result.slot_start:
        cache.set(_LATEST_KEY, result, LATEST_SECONDS)
    return result


def portfolio_flexibility_forget(*, at: datetime) -> None:
    """Drop the cached figures (the slot of ``at`` and the latest); benchmarks and tests."""
    cache.delete_many([_cache_key(_slot(at)), _LATEST_KEY])


def _pending_prefix(slot: pd.Timestamp) -> str:
    return f"markets:portfolio-flexibility:v{CACHE_VERSION}:pending:{slot.strftime('%Y%m%dT%H%MZ')}:"


def _request_refresh(at: datetime, version: str) -> None:
    """Enqueue one refresh for this slot and inputs version (after commit; ``cache.add`` lets only the first
    caller of a slot and version send it)."""
    from django.db import transaction

    if cache.add(f"{_pending_prefix(_slot(at))}{version}", 1, CACHE_SECONDS):
        from .flexibility_tasks import refresh_portfolio_flexibility

        iso = pd.Timestamp(at).isoformat()
        transaction.on_commit(lambda: refresh_portfolio_flexibility.delay(iso))


def portfolio_flexibility(*, principal: Principal) -> PortfolioFlexibility | None:
    """The portfolio's latest computed flexibility (module docstring), for the aggregator; None while the first
    computation is still running. Never computes: when the cached figure is missing, of an earlier slot or of
    other inputs, one refresh task is enqueued and the figure shown meanwhile is the latest one, whose
    ``computed_at`` and ``slot_start`` the page shows. One query (the inputs version).

    Raises:
        NotPermitted: the caller is not the aggregator's staff (site owners and market operators must not see
            the portfolio's positions).
    """
    if not principal.is_aggregator:
        raise NotPermitted("The portfolio's flexibility is visible to the aggregator's staff only.")
    at = clock.now()
    cached = cache.get(_cache_key(_slot(at)))
    if not isinstance(cached, PortfolioFlexibility):
        cached = cache.get(_LATEST_KEY)
    version = flexibility_inputs_version()
    latest = isinstance(cached, PortfolioFlexibility)
    if not latest or cached.slot_start != _slot(at).to_pydatetime() or cached.inputs_version != version:
        _request_refresh(at, version)
    return cached if latest else None
