"""The simulated site's queue of deferred work: one queue per deferrable workload class, each entry with its
arrival, its deadline (arrival + the class's ``max_delay_h``: its SLA) and its kWh of IT work, served earliest
deadline first (EDF, optimal for meeting deadlines on one resource: Liu & Layland, JACM 1973), with a ledger of
the work that ran late, for tests to compare with the product's :func:`apps.telemetry.selectors.sla_outcomes`.

Timing rule: work deferred in the interval ``[start, start + dt)`` arrived at ``start`` (the conservative end), so
its deadline is ``start + max_delay``; it is on time when it has run by the end of the interval ending at the
deadline, late when any of it runs in an interval starting at or after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Entry:
    """Deferred IT work of one class: ``kwh`` left of what arrived at ``arrived``, due at ``deadline``."""

    workload: str
    arrived: datetime
    deadline: datetime
    kwh: float


@dataclass
class AgentState:
    """The simulated site's state: its queue, grid power, pooled battery SoC, readings and the SLA ledger.

    ``delays``: each deferrable class's ``max_delay_h`` as a timedelta; ``default`` the class that work of no
    named class (migrated in, or a plan without class actions) is queued under: the tightest one.
    """

    delays: dict[str, timedelta] = field(default_factory=dict)
    default: str | None = None
    queue: list[Entry] = field(default_factory=list)
    grid_kw: float | None = None
    soc_kwh: float = 0.0
    soc_target_kwh: float = 0.0
    readings: list[tuple[datetime, float]] = field(default_factory=list)
    late_kwh: float = 0.0
    late_jobs: set = field(default_factory=set)
    max_lateness_h: float = 0.0

    @property
    def backlog(self) -> list[list]:
        """``[arrival, kWh]`` of every entry (oldest deadline first)."""
        return [[e.arrived, e.kwh] for e in self.queue]

    @property
    def backlog_kwh(self) -> float:
        """IT work waiting, kWh."""
        return sum(e.kwh for e in self.queue)

    def queued_kwh(self, workload: str) -> float:
        """IT work of one class waiting, kWh."""
        return sum(e.kwh for e in self.queue if e.workload == workload)

    def defer(
        self, moment: datetime, kwh: float, workload: str | None = None, *, deadline: datetime | None = None
    ) -> None:
        """Queue ``kwh`` of IT work of ``workload`` (default: the tightest class) that arrived at ``moment``, due
        at ``deadline`` (default: ``moment`` + the class's ``max_delay_h``)."""
        name = workload if workload in self.delays else self.default
        if kwh <= 1e-9 or name is None:
            return
        deadline = deadline if deadline is not None else moment + self.delays[name]
        for e in self.queue:  # one entry per class, arrival and deadline
            if e.workload == name and e.arrived == moment and e.deadline == deadline:
                e.kwh += kwh
                return
        self.queue.append(Entry(name, moment, deadline, kwh))
        self.queue.sort(key=lambda e: (e.deadline, e.arrived))

    def serve(self, kwh: float, *, at: datetime | None = None, workload: str | None = None) -> float:
        """Run up to ``kwh`` of queued work (of ``workload`` only, if given), earliest deadline first, in the
        interval starting ``at`` (for the ledger); returns how much ran."""
        served = 0.0
        for e in list(self.queue):
            if served >= kwh - 1e-12:
                break
            if workload is not None and e.workload != workload:
                continue
            take = min(e.kwh, kwh - served)
            e.kwh -= take
            served += take
            if at is not None and at >= e.deadline and take > 1e-9:
                self.late_kwh += take
                self.late_jobs.add((e.workload, e.arrived))
                self.max_lateness_h = max(
                    self.max_lateness_h, (at - e.deadline).total_seconds() / 3600 + 0.25
                )
            if e.kwh <= 1e-12:
                self.queue.remove(e)
        return served

    def due_kwh(self, by: datetime) -> float:
        """Queued work whose deadline is at or before ``by`` (it must run in the interval ending then)."""
        return sum(e.kwh for e in self.queue if e.deadline <= by)

    def overdue_kwh(self, moment: datetime, max_delay: timedelta | None = None) -> float:
        """Queued work past its deadline at ``moment`` (``max_delay`` is ignored: each entry has its own)."""
        return sum(e.kwh for e in self.queue if e.deadline <= moment)
