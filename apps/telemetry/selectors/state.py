"""Reads of reported site state: the latest state of a site (or of many, in a fixed number of queries) and the
SLA figures of queued deferred work (:func:`sla_outcomes`, the one source of late kWh / late jobs / lateness
for every page and summary). Not scoped: callers pass sites they may see (the API scopes with
:func:`apps.assets.selectors.site_list`); the re-planner reads every site."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Max, Prefetch, Q

from ..sla import LateEntry, SlaOutcome, entry_key, sla_from_reports
from ..state_models import KnownJob, QueuedWork, SiteState

__all__ = [
    "KnownJobEntry",
    "LiveState",
    "QueueEntry",
    "SlaOutcome",
    "known_jobs_reported_between",
    "site_state_by_id",
    "site_state_latest",
    "site_state_latest_many",
    "sla_outcomes",
]


@dataclass(frozen=True)
class QueueEntry:
    """Deferred work waiting at the state's time: ``energy_kwh`` (IT energy left, kWh) of workload class
    ``workload_class_id`` (``workload_name``), arrived at ``arrived_at``, due by ``deadline`` (aware UTC)."""

    workload_class_id: int
    workload_name: str
    energy_kwh: float
    arrived_at: datetime
    deadline: datetime
    job_id: str


@dataclass(frozen=True)
class KnownJobEntry:
    """A job the site knew of and had not finished at the state's time: ``energy_kwh`` (kWh), ``power_kw`` and
    ``duration_h`` when reported so, ``submitted_at``, ``earliest_start``, ``deadline`` (aware UTC or None)."""

    job_id: str
    workload_class_id: int
    workload_name: str
    energy_kwh: float
    power_kw: float | None
    duration_h: float | None
    submitted_at: datetime
    earliest_start: datetime
    deadline: datetime | None


@dataclass(frozen=True)
class LiveState:
    """A site's reported state at ``reported_at`` (aware UTC): ``it_load_kw`` (kW), ``battery_soc_kwh``
    (battery pk → kWh) and ``queue`` (earliest deadline first); ``state_id`` and ``source`` for provenance."""

    site_id: int
    state_id: int
    source: str
    reported_at: datetime
    it_load_kw: float
    battery_soc_kwh: dict[int, float]
    queue: tuple[QueueEntry, ...]
    known_jobs: tuple[KnownJobEntry, ...] = ()

    @property
    def queued_kwh(self) -> float:
        """Energy of every queued entry (kWh)."""
        return sum(entry.energy_kwh for entry in self.queue)


def _pk(site: Any) -> int:
    return int(getattr(site, "pk", site))


def _with_children(states: Any) -> Any:
    queue = QueuedWork.objects.select_related("workload_class").order_by("deadline", "arrived_at", "id")
    known = KnownJob.objects.select_related("workload_class").order_by("earliest_start", "id")
    return states.prefetch_related(
        "batteries", Prefetch("queue", queryset=queue), Prefetch("known_jobs", queryset=known)
    )


def _live(state: SiteState) -> LiveState:
    return LiveState(
        site_id=state.site_id,
        state_id=state.pk,
        source=state.source,
        reported_at=state.reported_at,
        it_load_kw=state.it_load_kw,
        battery_soc_kwh={b.battery_id: b.soc_kwh for b in state.batteries.all()},
        queue=tuple(
            QueueEntry(
                workload_class_id=q.workload_class_id,
                workload_name=q.workload_class.name,
                energy_kwh=q.energy_kwh,
                arrived_at=q.arrived_at,
                deadline=q.deadline,
                job_id=q.job_id,
            )
            for q in state.queue.all()
        ),
        known_jobs=tuple(
            KnownJobEntry(
                job_id=j.job_id,
                workload_class_id=j.workload_class_id,
                workload_name=j.workload_class.name,
                energy_kwh=j.energy_kwh,
                power_kw=j.power_kw,
                duration_h=j.duration_h,
                submitted_at=j.submitted_at,
                earliest_start=j.earliest_start,
                deadline=j.deadline,
            )
            for j in state.known_jobs.all()
        ),
    )


def site_state_latest(*, site: Any, at: datetime | None = None) -> LiveState | None:
    """The site's latest reported state at or before ``at`` (aware; ``None``: the latest of all), or ``None``
    when it reported none. Four queries (the state, its batteries, its queue, its known jobs)."""
    states = SiteState.objects.filter(site_id=_pk(site))
    if at is not None:
        states = states.filter(reported_at__lte=at)
    state = _with_children(states.order_by("-reported_at", "-id"))[:1]
    found = list(state)
    return _live(found[0]) if found else None


def site_state_by_id(*, state_id: int) -> LiveState | None:
    """The stored state ``state_id`` as a :class:`LiveState`, or ``None``. Not scoped."""
    found = list(_with_children(SiteState.objects.filter(pk=state_id)))
    return _live(found[0]) if found else None


def site_state_latest_many(*, sites: Iterable[Any], at: datetime | None = None) -> dict[int, LiveState]:
    """:func:`site_state_latest` of every site in ``sites`` (Site objects or pks): site pk → state, sites
    without a state left out. Five queries whatever the number of sites: the latest time per site (a
    ``GROUP BY`` served by the ``(site, reported_at)`` index), the states at those times, their batteries and
    queues and known jobs."""
    ids = sorted({_pk(site) for site in sites})
    if not ids:
        return {}
    states = SiteState.objects.filter(site_id__in=ids)
    if at is not None:
        states = states.filter(reported_at__lte=at)
    latest = list(states.values("site_id").annotate(last=Max("reported_at")).values_list("site_id", "last"))
    if not latest:
        return {}
    match = Q()
    for site_id, last in latest:
        match |= Q(site_id=site_id, reported_at=last)
    found: dict[int, LiveState] = {}
    for state in _with_children(SiteState.objects.filter(match).order_by("site_id", "reported_at", "id")):
        found[state.site_id] = _live(state)  # equal times: the last stored wins
    return found


def known_jobs_reported_between(*, site: Any, start: datetime, end: datetime) -> tuple[KnownJobEntry, ...]:
    """Every job that the site's state reports in ``[start, end)`` listed, once each (its first report),
    ordered by earliest start: what the site ran over the period, for a perfect-foresight plan
    (:mod:`apps.replay.oracle`). One query.

    Raises:
        ValueError: ``end`` is not after ``start``.
    """
    if end <= start:
        raise ValueError("end must be after start.")
    rows = (
        KnownJob.objects.filter(state__site_id=_pk(site), state__reported_at__gte=start, state__reported_at__lt=end)
        .order_by("job_id", "state__reported_at", "id")
        .values_list(
            "job_id", "workload_class_id", "workload_class__name", "energy_kwh", "power_kw", "duration_h",
            "submitted_at", "earliest_start", "deadline",
        )
    )  # fmt: skip
    first: dict[str, KnownJobEntry] = {}
    for row in rows:
        if row[0] not in first:
            first[row[0]] = KnownJobEntry(*row)
    return tuple(sorted(first.values(), key=lambda j: (j.earliest_start, j.job_id)))


def sla_outcomes(*, sites: Iterable[Any], start: datetime, end: datetime) -> SlaOutcome:
    """SLA figures of ``sites`` (Site objects or pks) over ``[start, end)`` from their stored state reports only,
    by the rule of :mod:`apps.telemetry.sla` (late kWh, late jobs, max lateness, kWh waiting past deadline,
    and per site). Two queries: each site's last report in the window, and the queued entries at or past their
    deadline in the window's reports.

    Raises:
        ValueError: ``end`` is not after ``start``.
    """
    if end <= start:
        raise ValueError("end must be after start.")
    ids = sorted({_pk(site) for site in sites})
    window = SiteState.objects.filter(site_id__in=ids, reported_at__gte=start, reported_at__lt=end)
    last_state_ids: dict[int, int] = {}
    for site_id, state_id in window.order_by("site_id", "reported_at", "id").values_list("site_id", "pk"):
        last_state_ids[site_id] = state_id
    rows = QueuedWork.objects.filter(state__in=window, deadline__lte=F("state__reported_at")).values_list(
        "state__site_id",
        "state_id",
        "state__reported_at",
        "job_id",
        "workload_class_id",
        "arrived_at",
        "deadline",
        "energy_kwh",
    )
    entries = [
        LateEntry(
            site_id=site_id,
            state_id=state_id,
            reported_at=reported_at,
            key=entry_key(job_id=job_id, workload_class_id=wc, arrived_at=arrived, deadline=deadline),
            energy_kwh=energy,
            deadline=deadline,
        )
        for site_id, state_id, reported_at, job_id, wc, arrived, deadline, energy in rows
    ]
    return sla_from_reports(entries=entries, last_state_ids=last_state_ids, start=start, end=end)
