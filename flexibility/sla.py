"""Pre-solve service-level check: queued and arriving work that cannot meet its deadlines whatever the LP does.

:func:`sla_shortfalls` serves every deferrable workload as fast as it can (the fluid-queue earliest finish of
:func:`flexibility.checks.fastest_cumulative_kwh`, at ``max_kw`` and, for work that cannot migrate, at most the
IT room of its site, :func:`flexibility.workload_rows.it_room_kw`) and reports the energy still behind its
deadlines. Each workload is given its site's whole room, so the figure is a lower bound of the real lateness
(sites share the room between their workloads, and ramps are ignored): a reported shortfall is certain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flexibility.arrays import site_arrays
from flexibility.checks import fastest_cumulative_kwh
from flexibility.lp_inputs import flex_workloads
from flexibility.problem import Problem, as_problem
from flexibility.workload_rows import it_room_kw

_TOL = 1e-6


@dataclass(frozen=True)
class SlaShortfall:
    """Work of ``workload`` at ``site`` that cannot meet its deadlines: ``late_kwh`` (kWh) is the largest amount
    behind a deadline at the end of any step, first behind at step ``first_step``."""

    site: str
    workload: str
    late_kwh: float
    first_step: int


def sla_shortfalls(problem: Problem | Mapping[str, Any]) -> list[SlaShortfall]:
    """The deferrable workloads whose deadlines (``max_delay_steps``, ``backlog_kwh``, ``queue``) cannot all be
    met even served as fast as their ``max_kw`` and their site's IT room allow, in site and workload order;
    empty when every deadline can be met on its own.

    late_kwh = max_t (lower(t) − S_fast(t)), lower(t) = A(t − d) + Σ_{k: D_k − 1 ≤ t} E_k (the LP's lower bound),
    S_fast the earliest-finish cumulative service of arrivals A(t) plus all queued work at step 0.

    Raises:
        FlexibilityInputError: a malformed problem (names the field).
    """
    p = as_problem(problem)
    fl = flex_workloads(p)
    defer = np.array([w.deferrable for w in fl.workloads], dtype=bool)
    if not defer.any():
        return []
    a = site_arrays(p)
    cap = np.repeat(fl.max_kw[:, None], p.steps, axis=1)
    n_places = np.bincount(fl.place_flex, minlength=fl.origin.size)
    cap_sites = np.flatnonzero(np.isfinite(a.it_capacity_kw))
    if cap_sites.size:
        room = np.full((len(p.sites), p.steps), np.inf)
        room[cap_sites] = it_room_kw(p, a, fl, cap_sites)
        stay = n_places == 1
        cap[stay] = np.minimum(cap[stay], room[fl.origin[stay]])
    fast = fastest_cumulative_kwh(fl.cum_kwh + fl.queued_kwh[:, None], cap, p.dt_hours)
    behind = fl.lower_kwh() - fast
    out = []
    for f in np.flatnonzero(defer):
        late = behind[f] > _TOL * max(1.0, float(np.abs(fast[f]).max(initial=0.0)))
        if late.any():
            out.append(
                SlaShortfall(
                    site=p.sites[fl.origin[f]].id,
                    workload=fl.workloads[f].id,
                    late_kwh=float(behind[f].max()),
                    first_step=int(np.argmax(late)),
                )
            )
    return out
