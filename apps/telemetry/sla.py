"""The SLA rule on reported queues (pure: no database): which deferred work ran late, by how much, how late.

Input: the site states reported over a window, each with the queued entries that were already at or past their
deadline at the state's time (the only ones the rule needs). The rule (:func:`sla_from_reports`):

- an entry is identified by its ``job_id``, else by ``(workload class, arrived_at, deadline)``;
- it is **late** when it is still in a report at or after its deadline (energy left at the deadline cannot run
  by the deadline). It counts in the window ``[start, end)`` that holds its deadline, so that adjacent windows
  never count it twice;
- its **late kWh** is its energy in the first report at or after the deadline (what then ran late or still
  waits); each late entry is one **late job**;
- its **lateness** is the time of the last report it appears in minus its deadline, or ``end − deadline`` when
  it is still in the site's last report of the window (it is still waiting at the end). The resolution is the
  report interval: work that finished between two reports is dated by the earlier one;
- **waiting past deadline** is the energy of the entries at or past their deadline in each site's last report
  of the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

EntryKey = tuple


@dataclass(frozen=True)
class LateEntry:
    """One queued entry in one report, at or past its deadline: ``energy_kwh`` left at ``reported_at``."""

    site_id: int
    state_id: int
    reported_at: datetime
    key: EntryKey
    energy_kwh: float
    deadline: datetime


@dataclass(frozen=True)
class SlaOutcome:
    """SLA figures over ``[start, end)`` (see the module docstring): ``late_kwh`` (kWh), ``late_jobs`` (count),
    ``max_lateness_h`` (h, 0 with none late), ``waiting_past_deadline_kwh`` (kWh), and the same per site
    (``per_site``: site pk → :class:`SlaOutcome` whose own ``per_site`` is empty)."""

    late_kwh: float = 0.0
    late_jobs: int = 0
    max_lateness_h: float = 0.0
    waiting_past_deadline_kwh: float = 0.0
    per_site: dict[int, SlaOutcome] = field(default_factory=dict)


def entry_key(*, job_id: str, workload_class_id: int, arrived_at: datetime, deadline: datetime) -> EntryKey:
    """The identity of a queued entry across reports: its job id, else (class, arrival, deadline)."""
    return ("job", job_id) if job_id else ("entry", workload_class_id, arrived_at, deadline)


def _site_outcome(
    entries: list[LateEntry], last_state_id: int | None, start: datetime, end: datetime
) -> SlaOutcome:
    first: dict[EntryKey, LateEntry] = {}
    last: dict[EntryKey, LateEntry] = {}
    for entry in sorted(entries, key=lambda e: (e.reported_at, e.state_id)):
        first.setdefault(entry.key, entry)
        last[entry.key] = entry
    late = [e for e in first.values() if start <= e.deadline < end and e.energy_kwh > 1e-9]
    lateness = []
    for entry in late:
        final = last[entry.key]
        until = end if final.state_id == last_state_id else final.reported_at
        lateness.append((until - entry.deadline).total_seconds() / 3600.0)
    waiting = sum(e.energy_kwh for e in entries if e.state_id == last_state_id)
    return SlaOutcome(
        late_kwh=sum(e.energy_kwh for e in late),
        late_jobs=len(late),
        max_lateness_h=max(lateness, default=0.0),
        waiting_past_deadline_kwh=waiting,
    )


def sla_from_reports(
    *,
    entries: Iterable[LateEntry],
    last_state_ids: dict[int, int],
    start: datetime,
    end: datetime,
) -> SlaOutcome:
    """The SLA figures over ``[start, end)`` from the past-deadline ``entries`` of the reports in the window and
    each site's last report in it (``last_state_ids``: site pk → state pk). Sites in ``last_state_ids`` without
    entries get zero figures."""
    by_site: dict[int, list[LateEntry]] = {site_id: [] for site_id in last_state_ids}
    for entry in entries:
        by_site.setdefault(entry.site_id, []).append(entry)
    per_site = {
        site_id: _site_outcome(items, last_state_ids.get(site_id), start, end)
        for site_id, items in sorted(by_site.items())
    }
    return SlaOutcome(
        late_kwh=sum(o.late_kwh for o in per_site.values()),
        late_jobs=sum(o.late_jobs for o in per_site.values()),
        max_lateness_h=max((o.max_lateness_h for o in per_site.values()), default=0.0),
        waiting_past_deadline_kwh=sum(o.waiting_past_deadline_kwh for o in per_site.values()),
        per_site=per_site,
    )
