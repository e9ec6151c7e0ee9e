"""The fast (sound lower bound, vectorised) flexibility envelope method; definition and proof sketch in
:mod:`flexibility.envelope`, whose :func:`~flexibility.envelope.envelope` calls :func:`fast`.

Resources are laid out as dense ``(slot, site)`` arrays (the k-th deferrable workload / battery of each site),
and every window start ``a`` of one duration ``D`` is handled at once as an axis of length ``A = T − D + 1``,
``chunk`` sites at a time (memory ~ chunk × A × T × 8 bytes per array).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flexibility.arrays import SiteArrays, site_arrays
from flexibility.baseline import Baseline, baseline
from flexibility.lp_inputs import Batteries, Flex, batteries, cumulative_lower_kwh, flex_workloads
from flexibility.problem import Problem

_BIG = 1e12
_TOL = 1e-6


def _window_min(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """min over the masked steps: values (S, A, T) or (S, 1, T), mask (A, T) -> (S, A); inf if none."""
    return np.where(mask[None], values, np.inf).min(axis=-1)


def _greedy_use(capacity: np.ndarray, need: np.ndarray, mask: np.ndarray, dt: float) -> np.ndarray:
    """Power drawn (S, A, T) when ``need`` kWh (S, A) is taken as early as possible from ``capacity`` kW
    (S, A, T) on the masked steps."""
    cap = np.where(mask[None], capacity, 0.0) * dt
    used = np.minimum(np.cumsum(cap, axis=-1), need[..., None])
    return np.diff(used, axis=-1, prepend=0.0) / dt


def _slots(owner: np.ndarray) -> np.ndarray:
    """Rank of each resource among its site's resources (``owner`` = site index per resource)."""
    order = np.argsort(owner, kind="stable")
    rank = np.zeros(owner.size, dtype=np.int64)
    if owner.size:
        starts = np.searchsorted(owner[order], owner[order])
        rank[order] = np.arange(owner.size) - starts
    return rank


@dataclass(frozen=True, eq=False)
class _Deferrable:
    """Deferrable workloads per (slot, site): baseline kW, cumulative A(t) and lower bound kWh ``(K, n, T)``,
    ``max_kw`` ``(K, n)`` (capped at a large finite number); empty slots have zero baseline."""

    b: np.ndarray
    cum: np.ndarray
    low: np.ndarray
    max_kw: np.ndarray


@dataclass(frozen=True, eq=False)
class _Batts:
    """Batteries per (slot, site), each ``(K, n)``: power, efficiencies, initial / floor / max / final SoC."""

    power: np.ndarray
    eta_c: np.ndarray
    eta_d: np.ndarray
    soc0: np.ndarray
    floor: np.ndarray
    smax: np.ndarray
    final: np.ndarray


@dataclass(frozen=True, eq=False)
class _Window:
    """Every start ``a`` of one window of ``D`` steps: masks ``(A, T)`` for in / before / after the window."""

    D: int
    nA: int
    t: np.ndarray
    a: np.ndarray
    win: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    end_idx: np.ndarray
    dt: float

    @classmethod
    def of(cls, D: int, T: int, dt: float) -> _Window:
        """The masks for window length ``D`` over ``T`` steps of ``dt`` hours."""
        nA, t = T - D + 1, np.arange(T)
        a = np.arange(nA)[:, None]
        win = (t >= a) & (t < a + D)
        return cls(D, nA, t, a, win, t < a, t >= a + D, (a[:, 0] + D - 1)[None, :, None], dt)


def _deferrable(fl: Flex, fidx: np.ndarray, lower: np.ndarray, base_kw: np.ndarray, n: int, T: int):
    rank = _slots(fl.origin[fidx])
    K = int(rank.max()) + 1 if fidx.size else 0
    b, cum, low = np.zeros((K, n, T)), np.zeros((K, n, T)), np.zeros((K, n, T))
    mk = np.full((K, n), np.inf)
    for k, f in enumerate(fidx):
        s, r = fl.origin[f], rank[k]
        # the flexible share: 1 − min_power_fraction, none with a ramp limit (envelope docstring)
        share = 0.0 if np.isfinite(fl.ramp_kw[f]) else 1.0 - fl.min_fraction[f]
        b[r, s], cum[r, s], low[r, s] = share * base_kw[f], share * fl.cum_kwh[f], share * lower[f]
        mk[r, s] = fl.max_kw[f] - (1.0 - share) * base_kw[f].max(initial=0.0)
    return _Deferrable(b, cum, low, np.minimum(mk, _BIG))


def _battery_slots(bt: Batteries, n: int) -> _Batts:
    rank = _slots(bt.site)
    K = int(rank.max()) + 1 if bt.site.size else 0
    z = (K, n)
    out = _Batts(
        np.zeros(z), np.ones(z), np.ones(z), np.zeros(z), np.zeros(z), np.zeros(z), np.full(z, -np.inf)
    )
    for bi in range(bt.site.size):
        s, r = bt.site[bi], rank[bi]
        out.power[r, s], out.eta_c[r, s], out.eta_d[r, s] = bt.power_kw[bi], bt.eta_c[bi], bt.eta_d[bi]
        out.soc0[r, s], out.floor[r, s] = bt.soc0_kwh[bi], bt.floor_kwh[bi]
        out.smax[r, s], out.final[r, s] = bt.soc_max_kwh[bi], bt.final_min_kwh[bi]
    return out


def _feasible(
    arr: SiteArrays, base: Baseline, fl: Flex, fidx, base_kw: np.ndarray, bt: Batteries
) -> np.ndarray:
    """Sites whose baseline is feasible: import limit, ``max_kw`` ≥ baseline, ``soc_initial`` within bounds."""
    ok = np.all(base.grid_kw <= arr.import_limit_kw[:, None] + _TOL, axis=1)
    for f in fidx:
        if base_kw[f].max(initial=0) > fl.max_kw[f] + _TOL:
            ok[fl.origin[f]] = False
    bad_batt = (bt.soc0_kwh < bt.floor_kwh - _TOL) | (bt.soc0_kwh > bt.soc_max_kwh + _TOL)
    ok[bt.site[bad_batt]] = False
    return ok


def _down_deferrable(
    w: _Window, dfr: _Deferrable, sl: slice, H: np.ndarray, pue: np.ndarray, tot: np.ndarray
) -> None:
    """Add the constant reduction ρ of each deferrable slot in the window, IT kW × PUE, to ``tot`` ``(S, A)``;
    catch-up after the window is drawn from the import headroom ``H`` (both updated in place)."""
    t, a, dt, D, S = w.t, w.a, w.dt, w.D, H.shape[0]
    p_ = pue[:, None, None]
    for k in range(dfr.b.shape[0]):
        b, Ac, Lw, M = (
            dfr.b[k, sl][:, None, :],
            dfr.cum[k, sl][:, None, :],
            dfr.low[k, sl][:, None, :],
            dfr.max_kw[k, sl],
        )
        slack = Ac - Lw
        lim1 = _window_min(b, w.win)
        denom = np.where(w.win, (t - a + 1) * dt, 1.0)
        lim2 = _window_min(slack / denom[None], w.win)
        c = np.where(w.post[None], np.clip(np.minimum(M[:, None, None] - b, H / p_), 0.0, None), 0.0)
        Ccum = np.cumsum(c * dt, axis=-1)
        Cbefore = np.take_along_axis(Ccum, np.broadcast_to(w.end_idx, (S, w.nA, 1)), axis=-1)[..., 0]
        lim3 = (_window_min(slack + Ccum, w.post) - Cbefore) / (D * dt)
        rho = np.clip(np.minimum(np.minimum(lim1, lim2), lim3), 0.0, None)
        H -= p_ * _greedy_use(c, rho * D * dt, w.post, dt)
        tot += pue[:, None] * rho


def _down_batteries(w: _Window, bs: _Batts, sl: slice, H: np.ndarray, tot: np.ndarray) -> None:
    """Add the constant discharge q of each battery slot in the window to ``tot`` ``(S, A)``: charge greedily
    before it from the headroom ``H``, recharge to the final SoC after it (both updated in place)."""
    dt, D, S = w.dt, w.D, H.shape[0]
    for k in range(bs.power.shape[0]):
        P, ec, ed = bs.power[k, sl][:, None], bs.eta_c[k, sl][:, None], bs.eta_d[k, sl][:, None]
        s_init, F, smax, fin = (bs.soc0[k, sl][:, None], bs.floor[k, sl][:, None], bs.smax[k, sl][:, None],
                                bs.final[k, sl][:, None])  # fmt: skip
        cap = np.minimum(P[..., None], H)
        charge_kwh = np.maximum(smax - s_init, 0.0) / ec  # grid energy to fill up
        use = _greedy_use(cap, np.broadcast_to(charge_kwh, (S, w.nA)), w.pre, dt)
        H -= use
        s_a = s_init + ec * use.sum(axis=-1) * dt
        k_post = (np.where(w.post[None], np.minimum(P[..., None], H), 0.0)).sum(axis=-1) * dt
        q = np.minimum(P, (s_a - F) * ed / (D * dt))
        q = np.minimum(q, np.where(np.isfinite(fin), (s_a + ec * k_post - fin) * ed / (D * dt), np.inf))
        q = np.clip(q, 0.0, None)
        need = np.clip(fin - (s_a - q * D * dt / ed), 0.0, None) / ec
        H -= _greedy_use(np.minimum(P[..., None], H), need, w.post, dt)
        tot += q


def _up_deferrable(w: _Window, dfr: _Deferrable, sl: slice, pue: np.ndarray, tot: np.ndarray) -> None:
    """Add the constant increase ρ of each deferrable slot in the window (work pulled forward), × PUE, to
    ``tot`` ``(S, A)`` (in place)."""
    t, a, dt, D, T = w.t, w.a, w.dt, w.D, w.t.size
    for k in range(dfr.b.shape[0]):
        b, M = dfr.b[k, sl][:, None, :], dfr.max_kw[k, sl]
        slack = dfr.cum[k, sl] - dfr.low[k, sl]  # (S, T)
        lim1 = _window_min(M[:, None, None] - b, w.win)
        prev = np.where(a[:, 0] >= 1, slack[:, np.clip(a[:, 0] - 1, 0, T - 1)], 0.0)  # (S, A)
        lim2 = prev / (D * dt)
        rem = (a + D - 1 - t) * dt  # (A, T)
        inner = w.win & (rem > 0)
        lim3 = _window_min(slack[:, None, :] / np.where(inner, rem, 1.0)[None], inner)
        rho = np.clip(np.minimum(np.minimum(lim1, lim2), lim3), 0.0, None)
        tot += pue[:, None] * rho


def _up_batteries(w: _Window, bs: _Batts, sl: slice, X: np.ndarray, tot: np.ndarray) -> None:
    """Add the constant charge q of each battery slot in the window to ``tot`` ``(S, A)``, after emptying it
    before the window into the room ``X`` (IT load + export limit; both updated in place)."""
    dt, D = w.dt, w.D
    for k in range(bs.power.shape[0]):
        P, ec, ed = bs.power[k, sl][:, None], bs.eta_c[k, sl][:, None], bs.eta_d[k, sl][:, None]
        s_init, F, smax, fin = (bs.soc0[k, sl][:, None], bs.floor[k, sl][:, None], bs.smax[k, sl][:, None],
                                bs.final[k, sl][:, None])  # fmt: skip
        cap = np.minimum(P[..., None], X)
        d_pre = np.where(w.pre[None], cap, 0.0).sum(axis=-1) * dt / ed  # SoC that can be emptied
        s_low = np.maximum(F, s_init - d_pre)
        q = np.clip(np.minimum(P, (smax - s_low) / (ec * D * dt)), 0.0, None)
        q = np.where(fin > s_init + _TOL, 0.0, q)
        need_soc = np.clip(s_init + ec * q * D * dt - smax, 0.0, None)
        X -= _greedy_use(cap, need_soc * ed, w.pre, dt)
        tot += q


def fast(p: Problem, steps: list[int], chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Down and up flexibility, each ``(len(steps), 1 + n_sites, T)`` kW (portfolio first; NaN for sites whose
    baseline is infeasible and for starts where the window does not fit), for windows of ``steps`` steps."""
    n, T, dt = len(p.sites), p.steps, p.dt_hours
    arr = site_arrays(p)
    base = baseline(p, arr)
    fl = flex_workloads(p)
    bt = batteries(p, merge=False)
    deferrable = np.array([w.deferrable for w in fl.workloads], dtype=bool)
    fidx = np.flatnonzero(deferrable) if fl.origin.size else np.zeros(0, dtype=np.int64)
    lower = cumulative_lower_kwh(fl.cum_kwh, fl.delay) if fl.origin.size else np.zeros((0, T))
    base_kw = np.diff(fl.cum_kwh, axis=1, prepend=0.0) / dt if fl.origin.size else np.zeros((0, T))
    ok = _feasible(arr, base, fl, fidx, base_kw, bt)
    dfr = _deferrable(fl, fidx, lower, base_kw, n, T)
    bs = _battery_slots(bt, n)
    L = np.minimum(arr.import_limit_kw, _BIG)
    E = np.minimum(arr.export_limit_kw, _BIG)
    down = np.full((len(steps), 1 + n, T), np.nan)
    up = np.full((len(steps), 1 + n, T), np.nan)
    for i, D in enumerate(steps):
        w = _Window.of(D, T, dt)
        for s0 in range(0, n, chunk):
            sl = slice(s0, min(n, s0 + chunk))
            S, pue = sl.stop - sl.start, arr.pue[sl]
            g = base.grid_kw[sl][:, None, :]  # (S,1,T)
            H0 = np.clip(L[sl][:, None, None] - g, 0.0, None)
            H = np.broadcast_to(H0, (S, w.nA, T)).copy()
            tot = np.zeros((S, w.nA))
            _down_deferrable(w, dfr, sl, H, pue, tot)
            _down_batteries(w, bs, sl, H, tot)
            cap_down = _window_min(g + E[sl][:, None, None], w.win)
            down[i, 1 + sl.start : 1 + sl.stop, : w.nA] = np.where(
                ok[sl][:, None], np.clip(np.minimum(tot, cap_down), 0.0, None), np.nan
            )
            X = np.broadcast_to(
                (pue[:, None] * arr.fixed_it_kw[sl] + E[sl][:, None])[:, None, :], (S, w.nA, T)
            ).copy()
            tot = _window_min(base.pv_used_kw[sl][:, None, :], w.win)
            _up_deferrable(w, dfr, sl, pue, tot)
            _up_batteries(w, bs, sl, X, tot)
            up[i, 1 + sl.start : 1 + sl.stop, : w.nA] = np.where(
                ok[sl][:, None], np.clip(np.minimum(tot, _window_min(H0, w.win)), 0.0, None), np.nan
            )
        down[i, 0, : w.nA] = np.nansum(down[i, 1:, : w.nA], axis=0)
        up[i, 0, : w.nA] = np.nansum(up[i, 1:, : w.nA], axis=0)
    return down, up
