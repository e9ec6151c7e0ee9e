"""The problem's LP-relevant parts gathered into flat numpy arrays: flexible workloads and their placements
(:class:`Flex`), batteries merged per site (:class:`Batteries`) and green contracts and targets
(:class:`GreenLayout`). :mod:`flexibility.model` lays the LP columns and rows out over them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flexibility.problem import Problem, Workload


@dataclass(frozen=True, eq=False)
class Flex:
    """Flexible (deferrable and/or migratable) workloads and where they may run.

    Attributes:
        origin: ``(n_flex,)`` origin site index; workloads: the :class:`Workload` objects.
        delay: ``(n_flex,)`` max_delay_steps (0 for migratable-only); max_kw: ``(n_flex,)`` (inf when none).
        cum_kwh: ``(n_flex, T)`` cumulative baseline energy A(t) (work as it arrives; the backlog excluded).
        backlog_kwh: ``(n_flex,)`` work already waiting at the start, kWh; backlog_due: ``(n_flex,)`` its due
            step D in ``[1, T]`` (it must have run by the end of step D − 1).
        place_flex, place_site: ``(n_place,)`` workload index and site index of each placement
            (the origin placement comes first for each workload).
    """

    origin: np.ndarray
    workloads: tuple[Workload, ...]
    delay: np.ndarray
    max_kw: np.ndarray
    cum_kwh: np.ndarray
    place_flex: np.ndarray
    place_site: np.ndarray
    backlog_kwh: np.ndarray
    backlog_due: np.ndarray

    def lower_kwh(self) -> np.ndarray:
        """The lower bound of S(t), ``(n_flex, T)``: :func:`cumulative_lower_kwh` with the backlogs."""
        return cumulative_lower_kwh(self.cum_kwh, self.delay, self.backlog_kwh, self.backlog_due)

    def upper_kwh(self) -> np.ndarray:
        """The upper bound of S(t), ``(n_flex, T)``: A(t) + B (the backlog is available from step 0)."""
        return self.cum_kwh + self.backlog_kwh[:, None]


def flex_workloads(problem: Problem) -> Flex:
    """Collect the flexible workloads of every site and their placements (origin + ``migratable_to``)."""
    idx = problem.site_index()
    origin: list[int] = []
    wls: list[Workload] = []
    delay: list[int] = []
    maxkw: list[float] = []
    base: list[np.ndarray] = []
    backlog: list[float] = []
    due: list[int] = []
    pf, ps = [], []
    for si, s in enumerate(problem.sites):
        for w in s.workloads:
            if not w.flexible:
                continue
            f = len(wls)
            origin.append(si)
            wls.append(w)
            delay.append(w.max_delay_steps or 0)
            maxkw.append(np.inf if w.max_kw is None else w.max_kw)
            base.append(w.baseline_kw)
            backlog.append(w.backlog_kwh)
            due.append(w.backlog_due(problem.steps))
            dests = [si] + [idx[d] for d in dict.fromkeys(w.migratable_to) if idx[d] != si]
            pf.extend([f] * len(dests))
            ps.extend(dests)
    T = problem.steps
    cum = np.cumsum(np.array(base).reshape(len(wls), T), axis=1) * problem.dt_hours
    return Flex(
        origin=np.array(origin, dtype=np.int64),
        workloads=tuple(wls),
        delay=np.array(delay, dtype=np.int64),
        max_kw=np.array(maxkw, dtype=np.float64),
        cum_kwh=cum,
        place_flex=np.array(pf, dtype=np.int64),
        place_site=np.array(ps, dtype=np.int64),
        backlog_kwh=np.array(backlog, dtype=np.float64),
        backlog_due=np.array(due, dtype=np.int64),
    )


def cumulative_lower_kwh(
    cum_kwh: np.ndarray,
    delay: np.ndarray,
    backlog_kwh: np.ndarray | None = None,
    backlog_due: np.ndarray | None = None,
) -> np.ndarray:
    """A(t − d) per workload, ``(n_flex, T)``; 0 where t − d < 0; the last step equals A(T−1).

    With ``backlog_kwh`` B and ``backlog_due`` D (each ``(n_flex,)``) the work already waiting is added from
    step D − 1 on (it must have run by the end of that step), so the last step equals A(T−1) + B."""
    T = cum_kwh.shape[1]
    t = np.arange(T)[None, :] - delay[:, None]
    lower = np.where(t >= 0, np.take_along_axis(cum_kwh, np.clip(t, 0, T - 1), axis=1), 0.0)
    if T:
        lower[:, -1] = cum_kwh[:, -1]
    if backlog_kwh is not None and backlog_due is not None and backlog_kwh.size:
        due = np.arange(T)[None, :] >= (backlog_due[:, None] - 1)
        lower = lower + np.where(due, backlog_kwh[:, None], 0.0)
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
