"""A site's workload classes as LP workloads: each class's share of the IT load, with every constraint its owner
declared (:class:`apps.assets.models.WorkloadClass`) and, from the site's live state, the work it has queued.

Field by field (the LP's semantics in :class:`flexibility.Workload`):

- ``max_delay_h`` → ``max_delay_steps``: whole steps, rounded down, less the step the work arrives in (work
  arriving during a step may have arrived at its start, and its deadline counts from there: a deadline is
  never stretched), and less :data:`DEADLINE_GUARD_STEPS` of slack;
- ``migratable_to`` → the targets that are in the problem (deferrable or not: a class that is only migratable
  is served elsewhere as it arrives);
- ``min_power_fraction`` → the class runs at least that share of what arrives, every step;
- ``ramp_kw_per_min`` → the limit on how fast the scheduler changes its power (classes it moves only; the
  enrolment refuses one on a fixed class);
- ``migration_overhead_kwh_per_kwh``, ``migration_lead_time_h`` → extra energy at the receiving site and the
  steps migrated work takes to get there (lead rounded up);
- queued work of the class (live state) → the workload's queue, each entry due at the step that ends at or
  before its deadline plus less than one step (rounded up: a 15-minute plan cannot do better), less the guard;
  entries past their deadline due at once.

Each class's baseline is its ``share_pct`` of the IT demand forecast, unless the live state lists jobs of the
class that the site knows (running or submitted): then the known jobs plus new ones refilling what finishes, at
the class's share (:func:`forecasting.jobs.class_demand_kw`), and the other classes share the rest. Deferrable
classes may run up to 1.5× their share of the site's IT capacity (catching up); the rest of the IT load is an
inflexible ``other``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

import flexibility
from apps.assets.models import Site
from apps.forecasts.workload_aware import known_jobs_kw
from forecasting.jobs import class_demand_kw

#: Plans finish deferred work this many steps before its deadline: slack for forecast error, so that work the
#: site must run at its deadline does not meet an IT load that turned out higher than forecast
#: (``VPP_DEADLINE_GUARD_STEPS``).
DEADLINE_GUARD_STEPS = 3

#: A deferrable class may run at up to this multiple of its share of the site's IT capacity (catching up).
CATCH_UP_CAPACITY_FACTOR = 1.5


def deadline_guard_steps() -> int:
    """The deadline guard in plan steps (``VPP_DEADLINE_GUARD_STEPS``, default :data:`DEADLINE_GUARD_STEPS`)."""
    from django.conf import settings

    return int(getattr(settings, "VPP_DEADLINE_GUARD_STEPS", DEADLINE_GUARD_STEPS))


def _queue(state: Any | None, class_id: int, start: datetime, resolution_s: int) -> list[dict]:
    """The class's queued work as LP queue entries ``{"energy_kwh", "due_step"}`` (due the guard's steps before
    its deadline)."""
    entries = []
    guard = deadline_guard_steps()
    for entry in getattr(state, "queue", ()) or ():
        if entry.workload_class_id != class_id or entry.energy_kwh <= 0:
            continue
        due = math.ceil((entry.deadline - start).total_seconds() / resolution_s) - guard
        entries.append({"energy_kwh": float(entry.energy_kwh), "due_step": int(due)})
    return entries


def class_baselines_kw(
    site: Site,
    it_kw: np.ndarray,
    start: datetime,
    resolution_s: int,
    state: Any | None = None,
    *,
    all_jobs: Sequence[Any] | None = None,
) -> dict[str, np.ndarray]:
    """Each workload class's expected IT demand (class name → kW per step ``(steps,)``) within the site's IT
    demand forecast ``it_kw`` ``(steps,)`` over the horizon from ``start``: its ``share_pct``, or, for a class
    whose known jobs the live ``state`` lists, :func:`forecasting.jobs.class_demand_kw` (module docstring).
    ``all_jobs`` (perfect foresight: every job the site ran over the horizon, known-job entries) replaces the
    state's jobs, and each class that has some is those jobs exactly. What is left of ``it_kw`` is the IT load
    in no class."""
    classes = list(site.workload_classes.all())
    shares = {wc.name: wc.share_pct / 100.0 for wc in classes}
    jobs = all_jobs if all_jobs is not None else getattr(state, "known_jobs", ()) or ()
    if not jobs:
        return {name: it_kw * share for name, share in shares.items()}
    index = pd.date_range(pd.Timestamp(start), periods=len(it_kw), freq=pd.Timedelta(seconds=resolution_s))
    names = {wc.pk: wc.name for wc in classes}
    by_class: dict[str, list] = {}
    for job in jobs:
        if job.workload_class_id in names:
            by_class.setdefault(names[job.workload_class_id], []).append(job)
    known = {name: known_jobs_kw(entries, index) for name, entries in by_class.items()}
    return class_demand_kw(it_kw, shares, known, complete=all_jobs is not None)


def workload_models(
    site: Site,
    it_kw: np.ndarray,
    start: datetime,
    resolution_s: int,
    members: set[int],
    state: Any | None = None,
    all_jobs: Sequence[Any] | None = None,
) -> tuple[flexibility.Workload, ...]:
    """One LP workload per workload class of ``site`` (its share of ``it_kw``, kW per step ``(steps,)``), with
    the constraints of the module docstring, and an inflexible ``other`` for the rest of the IT load.

    ``members``: primary keys of the sites in the problem (migration targets outside it are dropped); ``state``:
    the site's live state (:class:`apps.telemetry.selectors.LiveState`) or ``None``; ``all_jobs``: every job
    the site ran over the horizon (perfect foresight, :func:`class_baselines_kw`).
    """
    key = str(site.pk)
    workloads = []
    baselines = class_baselines_kw(site, it_kw, start, resolution_s, state, all_jobs=all_jobs)
    for wc in site.workload_classes.all():
        share = wc.share_pct / 100.0
        deferrable = bool(wc.max_delay_h)
        targets = tuple(str(t.pk) for t in wc.migratable_to.all() if t.pk in members)
        flexible = deferrable or bool(targets)
        extra: dict[str, Any] = {}
        if flexible:
            extra["min_power_fraction"] = float(wc.min_power_fraction or 0.0)
            if wc.ramp_kw_per_min is not None:
                extra["ramp_kw_per_min"] = float(wc.ramp_kw_per_min)
        if targets:
            extra["migration_overhead"] = float(wc.migration_overhead_kwh_per_kwh or 0.0)
            extra["migration_lead_steps"] = math.ceil((wc.migration_lead_time_h or 0.0) * 3600 / resolution_s)
        if deferrable:
            queue = _queue(state, wc.pk, start, resolution_s)
            if queue:
                extra["queue"] = queue
        workloads.append(
            flexibility.Workload.from_json(
                {
                    "id": f"{key}:{wc.name}",
                    "baseline_kw": baselines[wc.name],
                    "max_delay_steps": max(
                        int((wc.max_delay_h or 0.0) * 3600 // resolution_s) - 1 - deadline_guard_steps(), 0
                    )
                    if deferrable
                    else None,
                    "max_kw": site.it_capacity_kw * min(1.0, CATCH_UP_CAPACITY_FACTOR * share)
                    if deferrable
                    else None,
                    "migratable_to": list(targets),
                    **extra,
                },
                len(it_kw),
                f"site {site.name} ({key}).workload {wc.name}",
            )
        )
    other = it_kw - sum(baselines.values(), np.zeros(len(it_kw)))
    if (other > 1e-9).any():
        workloads.append(flexibility.Workload(id=f"{key}:other", baseline_kw=np.clip(other, 0.0, None)))
    return tuple(workloads)
