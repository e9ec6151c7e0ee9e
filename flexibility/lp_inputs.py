"""The problem's LP-relevant parts gathered into flat numpy arrays: flexible workloads and their placements
(:class:`Flex`), batteries merged per site (:class:`Batteries`) and green contracts and targets
(:class:`GreenLayout`). :mod:`flexibility.model` lays the LP columns and rows out over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flexibility.problem import Problem, Workload


@dataclass(frozen=True, eq=False)
class Flex:
    """Flexible (deferrable and/or migratable) workloads and where they may run.

    Attributes:
        origin: ``(n_flex,)`` origin site index; workloads: the :class:`Workload` objects.
        delay: ``(n_flex,)`` max_delay_steps (0 for migratable-only); max_kw: ``(n_flex,)`` (inf when none).
        cum_kwh: ``(n_flex, T)`` cumulative baseline energy A(t) (work as it arrives; queued work excluded).
        baseline_kw: ``(n_flex, T)`` the baseline (arrivals) in kW.
        queued_kwh: ``(n_flex,)`` work already waiting at the start (backlog + queue), kWh.
        due_kwh: ``(n_flex, T)`` queued work due by the end of step t, kWh (cumulative; last = ``queued_kwh``).
        spread_kw: ``(n_flex, T)`` the queued work run evenly until each entry is due, kW.
        min_fraction: ``(n_flex,)`` ``min_power_fraction`` (0 when none).
        ramp_kw: ``(n_flex,)`` largest change of the origin power per step, kW (ramp × 60 × Δt; inf when none).
        initial_kw: ``(n_flex,)`` power just before the horizon (NaN when unknown).
        overhead: ``(n_flex,)`` ``migration_overhead``; lead: ``(n_flex,)`` ``migration_lead_steps``.
        place_flex, place_site: ``(n_place,)`` workload index and site index of each placement
            (the origin placement comes first for each workload).
    """

    origin: np.ndarray
    workloads: tuple[Workload, ...]
    delay: np.ndarray
    max_kw: np.ndarray
    cum_kwh: np.ndarray
    baseline_kw: np.ndarray
    place_flex: np.ndarray
    place_site: np.ndarray
    queued_kwh: np.ndarray
    due_kwh: np.ndarray
    spread_kw: np.ndarray
    min_fraction: np.ndarray
    ramp_kw: np.ndarray
    initial_kw: np.ndarray
    overhead: np.ndarray
    lead: np.ndarray

    def lower_kwh(self) -> np.ndarray:
        """The lower bound of S(t), ``(n_flex, T)``: :func:`cumulative_lower_kwh` with the queued work."""
        return cumulative_lower_kwh(self.cum_kwh, self.delay, self.due_kwh)

    def upper_kwh(self) -> np.ndarray:
        """The upper bound of S(t), ``(n_flex, T)``: A(t) + queued work (available from step 0)."""
        return self.cum_kwh + self.queued_kwh[:, None]

    def lead_flex(self) -> np.ndarray:
        """Indices of the workloads with a ``migration_lead_steps`` > 0 and somewhere else to run."""
        has_remote = np.zeros(self.origin.size, dtype=bool)
        has_remote[self.place_flex[self.remote]] = True
        return np.flatnonzero((self.lead > 0) & has_remote)

    def origin_place(self) -> np.ndarray:
        """``(n_flex,)`` index of each workload's origin placement (placements are grouped by workload)."""
        return np.searchsorted(self.place_flex, np.arange(self.origin.size))

    @property
    def remote(self) -> np.ndarray:
        """``(n_place,)`` True for a placement away from the workload's origin."""
        return self.place_site != self.origin[self.place_flex]

    @property
    def place_coef(self) -> np.ndarray:
        """``(n_place,)`` IT power per kW of work served: 1 at the origin, 1 + ``migration_overhead`` elsewhere."""
        return np.where(self.remote, 1.0 + self.overhead[self.place_flex], 1.0)


def _queue_arrays(w: Workload, T: int, dt: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Total queued kWh, the cumulative kWh due by the end of each step ``(T,)`` and the even spread ``(T,)`` kW."""
    due = np.zeros(T)
    spread = np.zeros(T)
    total = 0.0
    for q in w.queued(T):
        if q.energy_kwh <= 0:
            continue
        total += q.energy_kwh
        due[q.due_index(T)] += q.energy_kwh
        d = q.spread_steps(T)
        spread[:d] += q.energy_kwh / (d * dt)
    return total, np.cumsum(due), spread


def flex_workloads(problem: Problem) -> Flex:
    """Collect the flexible workloads of every site and their placements (origin + ``migratable_to``)."""
    idx = problem.site_index()
    T, dt = problem.steps, problem.dt_hours
    wls: list[Workload] = []
    origin: list[int] = []
    queued: list[tuple[float, np.ndarray, np.ndarray]] = []
    pf, ps = [], []
    for si, s in enumerate(problem.sites):
        for w in s.workloads:
            if not w.flexible:
                continue
            f = len(wls)
            origin.append(si)
            wls.append(w)
            queued.append(_queue_arrays(w, T, dt))
            dests = [si] + [idx[d] for d in dict.fromkeys(w.migratable_to) if idx[d] != si]
            pf.extend([f] * len(dests))
            ps.extend(dests)
    nf = len(wls)
    base = np.array([w.baseline_kw for w in wls]).reshape(nf, T)

    def per(values: Sequence[float], dtype: type = np.float64) -> np.ndarray:
        return np.array(values, dtype=dtype)

    return Flex(
        origin=per(origin, np.int64),
        workloads=tuple(wls),
        delay=per([w.max_delay_steps or 0 for w in wls], np.int64),
        max_kw=per([np.inf if w.max_kw is None else w.max_kw for w in wls]),
        cum_kwh=np.cumsum(base, axis=1) * dt,
        baseline_kw=base,
        place_flex=per(pf, np.int64),
        place_site=per(ps, np.int64),
        queued_kwh=per([q[0] for q in queued]),
        due_kwh=np.array([q[1] for q in queued]).reshape(nf, T),
        spread_kw=np.array([q[2] for q in queued]).reshape(nf, T),
        min_fraction=per([w.min_power_fraction for w in wls]),
        ramp_kw=per([np.inf if w.ramp_kw_per_min is None else w.ramp_kw_per_min * 60 * dt for w in wls]),
        initial_kw=per([np.nan if w.initial_kw is None else w.initial_kw for w in wls]),
        overhead=per([w.migration_overhead for w in wls]),
        lead=per([w.migration_lead_steps for w in wls], np.int64),
    )


def cumulative_lower_kwh(
    cum_kwh: np.ndarray, delay: np.ndarray, due_kwh: np.ndarray | None = None
) -> np.ndarray:
    """A(t − d) per workload, ``(n_flex, T)``; 0 where t − d < 0; the last step equals A(T−1).

    With ``due_kwh`` ``(n_flex, T)`` (queued work due by the end of each step, cumulative: Σ_{k: D_k − 1 ≤ t} E_k)
    it is added, so the last step equals A(T−1) + all queued work."""
    T = cum_kwh.shape[1]
    t = np.arange(T)[None, :] - delay[:, None]
    lower = np.where(t >= 0, np.take_along_axis(cum_kwh, np.clip(t, 0, T - 1), axis=1), 0.0)
    if T:
        lower[:, -1] = cum_kwh[:, -1]
    if due_kwh is not None and due_kwh.size:
        lower = lower + due_kwh
    return lower


@dataclass(frozen=True, eq=False)
class Batteries:
    """All batteries, flattened: ``site`` index and parameters, each ``(n_batt,)``.

    Identical batteries at one site are merged into one (``count`` > 1) with ``count`` times the power and
    energy figures. This is exact: the merged constraints are the sum of the individual ones, and any merged
    schedule split evenly satisfies every individual battery (all constraints are linear and homogeneous in
    the battery's size). It removes the symmetry that makes fleets of equal batteries slow to solve.
    """

    site: np.ndarray
    count: np.ndarray
    power_kw: np.ndarray
    eta_c: np.ndarray
    eta_d: np.ndarray
    soc0_kwh: np.ndarray
    floor_kwh: np.ndarray
    soc_max_kwh: np.ndarray
    final_min_kwh: np.ndarray
    cycle_cost_per_mwh: np.ndarray


def batteries(problem: Problem, *, merge: bool = True) -> Batteries:
    """Flatten every site's batteries into :class:`Batteries`, merging identical ones per site if ``merge``."""
    groups: dict[tuple, int] = {}
    for i, s in enumerate(problem.sites):
        for j, b in enumerate(s.batteries):
            key = (i, *b.to_json().values()) if merge else (i, j)
            groups[key] = groups.get(key, 0) + 1
    rows = []
    for key, count in groups.items():
        i = key[0]
        b = (
            next(b for b in problem.sites[i].batteries if (i, *b.to_json().values()) == key)
            if merge
            else problem.sites[i].batteries[key[1]]
        )
        rows.append((i, count, b))
    k = np.array([n for _, n, _ in rows], dtype=np.float64)
    return Batteries(
        site=np.array([i for i, _, _ in rows], dtype=np.int64),
        count=k,
        power_kw=k * np.array([b.power_kw for _, _, b in rows], dtype=np.float64),
        eta_c=np.array([b.charge_efficiency for _, _, b in rows], dtype=np.float64),
        eta_d=np.array([b.discharge_efficiency for _, _, b in rows], dtype=np.float64),
        soc0_kwh=k * np.array([b.soc_initial_kwh for _, _, b in rows], dtype=np.float64),
        floor_kwh=k * np.array([b.soc_floor_kwh for _, _, b in rows], dtype=np.float64),
        soc_max_kwh=k * np.array([b.soc_upper_kwh for _, _, b in rows], dtype=np.float64),
        final_min_kwh=k
        * np.array([-np.inf if b.soc_final_min_kwh is None else b.soc_final_min_kwh for _, _, b in rows]),
        cycle_cost_per_mwh=np.array([b.cycle_cost_per_mwh for _, _, b in rows], dtype=np.float64),
    )


@dataclass(frozen=True, eq=False)
class GreenLayout:
    """Green contracts and targets in the LP.

    Attributes:
        place_contract, place_site: ``(n_gplace,)`` contract index and site index of each matching option.
        profile_kw: ``(n_contracts, T)`` contracted power (profile_kwh / Δt).
        low_carbon_share: ``(n_sites, T)`` the grid's low-carbon share at each site (0 when the zone has none).
        target_site: ``(n_target,)`` sites with a ``min_green_share``; target_share ``(n_target,)``;
        target_price: ``(n_target,)`` shortfall price per MWh (``nan`` = hard constraint).
    """

    place_contract: np.ndarray
    place_site: np.ndarray
    profile_kw: np.ndarray
    low_carbon_share: np.ndarray
    target_site: np.ndarray
    target_share: np.ndarray
    target_price: np.ndarray

    @property
    def active(self) -> bool:
        """True when the problem has any green contract option or target."""
        return bool(self.place_contract.size or self.target_site.size)


def green_layout(problem: Problem, *, enabled: bool = True) -> GreenLayout:
    """Collect green contracts and targets (empty when ``enabled`` is False, e.g. for the envelope)."""
    T, n = problem.steps, len(problem.sites)
    lc = np.zeros((n, T))
    pc: list[int] = []
    ps: list[int] = []
    prof = np.zeros((len(problem.green_contracts) if enabled else 0, T))
    tsite: list[int] = []
    tshare: list[float] = []
    tprice: list[float] = []
    if enabled:
        for i, s in enumerate(problem.sites):
            z = problem.zones[s.zone]
            if z.low_carbon_share is not None:
                lc[i] = z.low_carbon_share
            if s.min_green_share is not None:
                tsite.append(i)
                tshare.append(s.min_green_share)
                price = s.green_shortfall_price_per_mwh
                tprice.append(np.nan if price is None else price)
        for ci, sites in enumerate(problem.contract_sites()):
            prof[ci] = problem.green_contracts[ci].profile_kwh / problem.dt_hours
            pc.extend([ci] * len(sites))
            ps.extend(sites)
    return GreenLayout(
        place_contract=np.array(pc, dtype=np.int64),
        place_site=np.array(ps, dtype=np.int64),
        profile_kw=prof,
        low_carbon_share=lc,
        target_site=np.array(tsite, dtype=np.int64),
        target_share=np.array(tshare, dtype=np.float64),
        target_price=np.array(tprice, dtype=np.float64),
    )
