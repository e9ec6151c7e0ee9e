"""Training jobs (e.g. Microsoft's Philly trace, ``data/jobs``) as IT power, and the workload-aware IT demand
forecast: known work plus a forecast of new arrivals (issue #21).

Jobs are a DataFrame with columns ``submitted`` (tz-aware UTC), ``num_gpus`` and ``runtime_min``. A job's demand
as it arrives runs from its submission for its run time at ``num_gpus × kw_per_gpu``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: kW per V100 GPU including its share of the host: an NVIDIA DGX-1 (8 × V100) is rated 3.5 kW at maximum
#: (NVIDIA DGX-1 data sheet), i.e. 0.44 kW per GPU; 0.4 kW is a typical training draw below the rating.
KW_PER_GPU = 0.4


def jobs_read(
    path: str | Path, *, shift_to: pd.Timestamp | None = None, tz: str = "America/Los_Angeles"
) -> pd.DataFrame:
    """Jobs of a CSV with ``submitted_time`` (naive local wall-clock time in ``tz``), ``num_gpus``,
    ``runtime_min``; sorted by submission, ``submitted`` in UTC, shifted so the first job starts at
    ``shift_to`` when given (to replay the trace in another period).

    Raises:
        ValueError: a missing column or a negative GPU count or run time.
    """
    frame = pd.read_csv(path)
    missing = {"submitted_time", "num_gpus", "runtime_min"} - set(frame.columns)
    if missing:
        raise ValueError(f"jobs file lacks column(s) {sorted(missing)}")
    if (frame["num_gpus"] < 0).any() or (frame["runtime_min"] < 0).any():
        raise ValueError("num_gpus and runtime_min must be non-negative")
    submitted = pd.to_datetime(frame["submitted_time"]).dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    jobs = pd.DataFrame(
        {
            "submitted": submitted.dt.tz_convert("UTC"),
            "num_gpus": frame["num_gpus"],
            "runtime_min": frame["runtime_min"],
        }
    ).dropna()
    jobs = jobs.sort_values("submitted").reset_index(drop=True)
    if shift_to is not None:
        jobs["submitted"] += pd.Timestamp(shift_to).tz_convert("UTC") - jobs["submitted"].iloc[0]
    return jobs


def _power(jobs: pd.DataFrame, index: pd.DatetimeIndex, kw_per_gpu: float) -> np.ndarray:
    """Mean kW over each interval ``[t, t + step)`` of ``index`` of the jobs running from submission."""
    step = index[1] - index[0]
    ns = pd.DatetimeIndex(index).as_unit("ns")
    edges = np.append(ns.asi8, (ns[-1] + step).value).astype(float)
    start = jobs["submitted"].dt.as_unit("ns").astype("int64").to_numpy(float) if len(jobs) else np.zeros(0)
    end = start + jobs["runtime_min"].to_numpy(float) * 60e9
    kw = jobs["num_gpus"].to_numpy(float) * kw_per_gpu
    lo, hi = edges[:-1], edges[1:]
    overlap = np.clip(np.minimum(end[:, None], hi) - np.maximum(start[:, None], lo), 0.0, None)
    return (overlap * kw[:, None]).sum(axis=0) / step.value


def arrival_power_kw(
    jobs: pd.DataFrame, index: pd.DatetimeIndex, kw_per_gpu: float = KW_PER_GPU, scale: float = 1.0
) -> pd.Series:
    """IT demand as it arrives (kW) on the regular UTC grid ``index``: every job runs from its submission for its
    run time at ``num_gpus × kw_per_gpu``, times ``scale`` (to size the trace to a site). For the integrator: a
    simulated site's training demand series."""
    return pd.Series(scale * _power(jobs, index, kw_per_gpu), index=index, name="arrival_power_kw")


def known_work_kw(
    jobs: pd.DataFrame, issue_time: pd.Timestamp, index: pd.DatetimeIndex, kw_per_gpu: float = KW_PER_GPU
) -> np.ndarray:
    """kW on ``index`` of the work known at ``issue_time``: jobs submitted before it, over their remaining run
    time (their declared run time from submission). Shape ``(len(index),)``."""
    return _power(jobs[jobs["submitted"] < issue_time], index, kw_per_gpu)


def workload_aware_forecast(
    *,
    known_kw: np.ndarray,
    history: pd.Series,
    index: pd.DatetimeIndex,
    days: int = 28,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
) -> pd.DataFrame:
    """IT demand forecast = known work + a forecast of new arrivals.

    Args:
        known_kw: (steps,) kW of the work known at issue over ``index`` (queue entries: energy / remaining time,
            or :func:`known_work_kw`).
        history: past new-arrival kW (demand not known at the issue time of its day-ahead window), UTC-indexed,
            at the grid step; only values before ``index[0]`` are used.
        index: (steps,) target interval starts (UTC).
        days: the new-arrival model is the empirical quantile, per UTC time of day, over the last ``days`` days.

    Returns:
        DataFrame on ``index`` with columns p10, p50, p90 (kW), non-decreasing per row.

    Raises:
        ValueError: ``known_kw`` and ``index`` differ in length, or no history before ``index[0]``.
    """
    known = np.asarray(known_kw, dtype=float)
    if known.shape != (len(index),):
        raise ValueError(f"known_kw has shape {known.shape}, expected ({len(index)},)")
    past = history[
        (history.index < index[0]) & (history.index >= index[0] - pd.Timedelta(days=days))
    ].dropna()
    if past.empty:
        raise ValueError(f"no new-arrival history before {index[0]}")
    tod = past.groupby(past.index.hour * 60 + past.index.minute)
    table = tod.quantile(list(quantiles)).unstack()
    keys = index.hour * 60 + index.minute
    fresh = table.reindex(keys).fillna(0.0).to_numpy(float)
    q = np.sort(known[:, None] + fresh, axis=1)
    return pd.DataFrame(q, index=index, columns=["p10", "p50", "p90"])


def class_demand_kw(
    total_kw: np.ndarray,
    shares: Mapping[str, float],
    known_kw: Mapping[str, np.ndarray],
    *,
    complete: bool = False,
) -> dict[str, np.ndarray]:
    """Each workload class's expected IT demand (kW, ``(steps,)`` each) within a site's forecast ``total_kw``
    ``(steps,)``, where some classes report the jobs they know.

    A class with known work ``K(t)`` (kW of its known jobs over the horizon, e.g. from
    ``apps.forecasts.workload_aware.known_jobs_kw``) expects ``K(t) + s·D(t)·(1 − S(t))``: the known jobs still
    running, plus new jobs refilling what the finished ones freed at the class's long-run level ``s·D(t)``
    (its share ``s`` of the total). ``S(t) = K(t) / max_{u ≤ t} K(u)`` is the share of the known work still
    running. This is the mean occupancy of an M/G/∞ queue started from its running jobs, whose remaining run
    times follow the equilibrium excess distribution (Takács; Kleinrock, *Queueing Systems* vol. 1, §5.9).
    Near the start the known jobs dominate; far out the class returns to its share. The result is clipped to
    ``[0, total]``.

    The rest of the total (never below 0) goes to the classes without known work, and to the IT load in no
    class (share ``1 − Σ shares``), in proportion to their shares. This is how a site shares its IT load
    (``apps.simulation.arrivals.split_arrivals``). Without any known work, every class gets ``share × total``.
    With ``complete`` the known work is all of its class's work over the horizon (perfect foresight: every job
    that ran), so the class is ``K(t)`` itself, with nothing refilled.

    Args:
        total_kw: the site's IT demand forecast (kW per step).
        shares: class name → share of the IT load (fraction, ≥ 0, summing to ≤ 1).
        known_kw: class name → its known work (kW per step, same shape); classes absent or all zero have none.

    Raises:
        ValueError: a known-work array of another shape, or a class in ``known_kw`` missing from ``shares``.
    """
    total = np.clip(np.asarray(total_kw, dtype=float), 0.0, None)
    own: dict[str, np.ndarray] = {}
    left = total.copy()
    for name, known in known_kw.items():
        if name not in shares:
            raise ValueError(f"known work of class {name!r}, which has no share")
        k = np.clip(np.asarray(known, dtype=float), 0.0, None)
        if k.shape != total.shape:
            raise ValueError(f"known work of class {name!r} has shape {k.shape}, expected {total.shape}")
        if not k.any():
            continue
        peak = np.maximum.accumulate(k)
        still = np.divide(k, peak, out=np.zeros_like(k), where=peak > 0)
        expected = k if complete else k + shares[name] * total * (1.0 - still)
        own[name] = np.minimum(expected, left)
        left = left - own[name]
    rest_share = max(1.0 - sum(shares[name] for name in own), 1e-9)
    return own | {name: left * s / rest_share for name, s in shares.items() if name not in own}
