"""Pure helpers shared by loading and calculation: the settlement intervals of an event, each site's planned
share of the award, and the resolution the regulation score is computed on (numpy/pandas only, no ORM)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd


def event_index(start: datetime, end: datetime, interval_minutes: int) -> pd.DatetimeIndex:
    """Starts of the settlement intervals of ``[start, end)`` every ``interval_minutes``."""
    step = pd.Timedelta(minutes=interval_minutes)
    return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=step, inclusive="left")


SetpointRow = tuple[int, datetime, float, float, int, int]


def planned_weights(
    rows: list[SetpointRow], index: pd.DatetimeIndex, *, fallback_site_ids: list[int]
) -> dict[int, np.ndarray]:
    """Each participating site's share (0…1) of the award per interval: its planned reduction (dispatch setpoint
    baseline − target, ≥ 0) in the newest plan version covering the interval, over the sum of all sites'.

    ``rows``: ``(site_id, start, baseline_kw, target_kw, plan version, activation id)`` by start. Without any
    (an event awarded but never activated), ``fallback_site_ids`` (the zone's active sites) share equally. An
    interval no plan covers takes the shares of the nearest earlier covered interval (or the first covered one).
    """
    newest: dict[pd.Timestamp, tuple[tuple[int, int], dict[int, float]]] = {}
    for site_id, start, base, target, version, activation_id in rows:
        key = pd.Timestamp(start)
        rank = (activation_id, version)
        current = newest.get(key)
        if current is None or rank > current[0]:
            newest[key] = (rank, {})
            current = newest[key]
        if rank == current[0]:
            current[1][site_id] = current[1].get(site_id, 0.0) + max(base - target, 0.0)
    if not newest:
        sites = fallback_site_ids
        return {s: np.full(len(index), 1.0 / len(sites)) for s in sites} if sites else {}
    site_ids = sorted({s for _, shares in newest.values() for s in shares})
    weights = {s: np.zeros(len(index)) for s in site_ids}
    covered = sorted(newest)
    for i, t in enumerate(index):
        earlier = [c for c in covered if c <= t]
        shares = newest[earlier[-1] if earlier else covered[0]][1]
        total = sum(shares.values())
        for s in site_ids:
            if total > 0:
                weights[s][i] = shares.get(s, 0.0) / total
            elif s in shares:
                weights[s][i] = 1.0 / len(shares)
    return weights


def regulation_resolution_s(*, step_s: int, meter_resolutions_s: list[int]) -> int:
    """The resolution (s) the regulation score is computed on: the coarsest native meter resolution, at most the
    settlement interval ``step_s``, and the interval itself when that does not divide it."""
    res_s = min(max(meter_resolutions_s), step_s) if meter_resolutions_s else step_s
    return step_s if step_s % res_s else res_s
