"""Real training-job arrivals for the simulated sites (issue #21): the shipped Philly slice (``data/jobs``,
Microsoft's Philly cluster, CC BY 4.0, see its SOURCE.md) drives each simulated site's training workload class.

Mapping, deterministic:

- the trace's first :data:`WARMUP_DAYS` days are dropped (jobs submitted before the slice's first day are not
  in it, so its power ramps up from zero); the remaining whole days form a period of ``n`` days that is tiled
  (repeated, jobs shifted by ``n`` days) over the simulated window, each site starting
  ``site.pk × SITE_OFFSET_DAYS`` days into it, so sites do not run the same jobs at the same time;
- a job's demand as it arrives runs from its submission for its run time at ``num_gpus ×``
  :data:`forecasting.jobs.KW_PER_GPU` (:func:`forecasting.jobs.arrival_power_kw`);
- scaled to the site: the period's mean power becomes the training class's share of the site's mean IT load
  (``share_pct`` × the mean of the site's uncontrolled load), so the class carries the same energy as before,
  in the trace's shape; the scaled power is clipped at the class's IT room (``share_pct`` × IT capacity: the
  trace's peak is 1.8 × its mean, so a few peak hours lose a little work, stated rather than hidden by
  scaling the whole trace down — which would leave the class less work than the plans and bids count on).

The site's uncontrolled IT load then is the other classes' share of the PDU trace plus the jobs' power.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from apps.assets.choices import WorkloadKind
from apps.assets.models import Site
from forecasting.jobs import KW_PER_GPU, arrival_power_kw, jobs_read

JOBS_FILE = Path(settings.BASE_DIR) / "data" / "jobs" / "philly_2017_oct_nov_jobs.csv"
#: days at the start of the slice dropped as warm-up (its power ramps up from zero over the first week)
WARMUP_DAYS = 7
#: each site starts this many days (× its primary key) later into the tiled trace
SITE_OFFSET_DAYS = 5
#: jobs per chunk when computing power (memory: chunk × steps floats)
_CHUNK = 200


@cache
def _period() -> tuple[pd.DataFrame, int]:
    """The trace's jobs after the warm-up, submission relative to the period start (Timedelta), and ``n`` days."""
    jobs = jobs_read(JOBS_FILE)
    first = jobs["submitted"].iloc[0].floor("D") + pd.Timedelta(days=WARMUP_DAYS)
    last = jobs["submitted"].iloc[-1].floor("D")
    n_days = int((last - first) / pd.Timedelta(days=1))
    if n_days < 1:
        raise ValueError(f"{JOBS_FILE} covers fewer than {WARMUP_DAYS + 1} days")
    kept = jobs[(jobs["submitted"] >= first) & (jobs["submitted"] < first + pd.Timedelta(days=n_days))]
    out = pd.DataFrame(
        {
            "offset": kept["submitted"] - first,
            "num_gpus": kept["num_gpus"].to_numpy(),
            "runtime_min": kept["runtime_min"].to_numpy(),
        }
    ).reset_index(drop=True)
    return out, n_days


def site_jobs(site: Site, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The trace's jobs as submitted to ``site`` over ``[start − longest run, end)`` (UTC), tiled.

    Returns:
        DataFrame with ``job_id`` (str: site, copy and row of the trace), ``submitted`` (tz-aware UTC),
        ``num_gpus`` and ``runtime_min``, sorted by submission.
    """
    period, n_days = _period()
    length = pd.Timedelta(days=n_days)
    origin = pd.Timestamp(start).tz_convert("UTC").floor("D") - pd.Timedelta(days=site.pk * SITE_OFFSET_DAYS)
    longest = pd.Timedelta(minutes=float(period["runtime_min"].max()))
    first_copy = int(np.floor((pd.Timestamp(start) - longest - origin) / length))
    last_copy = int(np.ceil((pd.Timestamp(end) - origin) / length))
    frames = []
    for copy in range(first_copy, last_copy + 1):
        submitted = origin + copy * length + period["offset"]
        frame = period.assign(
            submitted=submitted, job_id=[f"philly-{site.pk}-{copy}-{i}" for i in period.index]
        )
        frames.append(frame)
    jobs = pd.concat(frames, ignore_index=True)
    jobs = jobs[
        (jobs["submitted"] < end)
        & (jobs["submitted"] + pd.to_timedelta(jobs["runtime_min"], "min") > start - longest)
    ]
    return (
        jobs[["job_id", "submitted", "num_gpus", "runtime_min"]]
        .sort_values("submitted")
        .reset_index(drop=True)
    )


def _jobs_power_kw(jobs: pd.DataFrame, index: pd.DatetimeIndex) -> np.ndarray:
    """Unscaled kW of ``jobs`` over each interval of ``index``, computed in chunks of jobs."""
    total = np.zeros(len(index))
    for lo in range(0, len(jobs), _CHUNK):
        total += arrival_power_kw(jobs.iloc[lo : lo + _CHUNK], index, KW_PER_GPU).to_numpy()
    return total


def training_class(site: Site):
    """The site's deferrable training workload class, or ``None``."""
    return next(
        (w for w in site.workload_classes.all() if w.kind == WorkloadKind.TRAINING and w.max_delay_h),
        None,
    )


def jobs_scale(site: Site, uncontrolled_it_kw: pd.Series) -> float:
    """The factor on the trace's kW for ``site``: the period's mean power becomes the training class's share of
    the mean of ``uncontrolled_it_kw`` (kW); 0 without a training class."""
    wc = training_class(site)
    if wc is None:
        return 0.0
    period, n_days = _period()
    index = pd.date_range("2000-01-01", periods=n_days * 96, freq="15min", tz="UTC")
    tiled = pd.concat(
        [
            period.assign(submitted=index[0] + k * pd.Timedelta(days=n_days) + period["offset"])
            for k in (-1, 0)
        ]
    )
    power = _jobs_power_kw(tiled, index)
    share = wc.share_pct / 100.0
    return share * float(uncontrolled_it_kw.mean()) / max(float(power.mean()), 1e-9)


def training_arrivals_kw(site: Site, uncontrolled_it_kw: pd.Series) -> pd.Series | None:
    """The training class's demand as it arrives (kW) on the index of ``uncontrolled_it_kw`` (the site's
    PDU-trace IT load, kW, regular UTC grid): the site's tiled Philly jobs, scaled (:func:`jobs_scale`) and
    clipped at the class's IT room; ``None`` without a deferrable training class."""
    wc = training_class(site)
    if wc is None:
        return None
    index = pd.DatetimeIndex(uncontrolled_it_kw.index)
    jobs = site_jobs(site, index[0], index[-1] + (index[1] - index[0]))
    power = _jobs_power_kw(jobs, index) * jobs_scale(site, uncontrolled_it_kw)
    room = wc.share_pct / 100.0 * site.it_capacity_kw
    return pd.Series(np.clip(power, 0.0, room), index=index, name="training_kw")


def known_jobs(site: Site, uncontrolled_it_kw: pd.Series) -> pd.DataFrame:
    """The site's tiled jobs over the index of ``uncontrolled_it_kw`` with their scaled IT power: columns
    ``job_id``, ``workload_class`` (the training class's name), ``submitted`` (UTC), ``power_kw`` (kW, the
    :func:`jobs_scale` of ``num_gpus × KW_PER_GPU``; not clipped per job, so at the few clipped peaks the
    known jobs add up to more than the class runs: 1.1–1.6 % of the demo sites' training energy),
    ``runtime_min``; empty without a training class. What the simulated site reports as its known jobs
    (:class:`apps.simulation.agent.SiteAgent`)."""
    wc = training_class(site)
    columns = ["job_id", "workload_class", "submitted", "power_kw", "runtime_min"]
    if wc is None:
        return pd.DataFrame(columns=columns)
    index = pd.DatetimeIndex(uncontrolled_it_kw.index)
    jobs = site_jobs(site, index[0], index[-1] + (index[1] - index[0]))
    scale = jobs_scale(site, uncontrolled_it_kw)
    jobs = jobs.assign(workload_class=wc.name, power_kw=jobs["num_gpus"] * KW_PER_GPU * scale)
    return jobs[columns]


def with_jobs(site: Site, uncontrolled_it_kw: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    """The site's uncontrolled IT load with its training class driven by the jobs: (total kW, {class name: its
    arrivals kW}). The other classes keep their share of ``uncontrolled_it_kw``; without a training class the
    load is returned unchanged with no overrides."""
    wc = training_class(site)
    training = training_arrivals_kw(site, uncontrolled_it_kw)
    if wc is None or training is None:
        return uncontrolled_it_kw, {}
    total = uncontrolled_it_kw * (1.0 - wc.share_pct / 100.0) + training
    return total.rename(uncontrolled_it_kw.name), {wc.name: training}


def split_arrivals(classes: list, own_kw: dict[str, float], total_it_kw: float) -> dict[str, float]:
    """Each workload class's arriving IT kW of ``total_it_kw``: a class in ``own_kw`` (its own arrivals, kW)
    takes them (at most what is left of the total), the rest is shared among the other classes, and the IT
    load in no class, in proportion to their ``share_pct``."""
    own = {}
    left = max(total_it_kw, 0.0)
    for name, kw in own_kw.items():
        own[name] = min(max(kw, 0.0), left)
        left -= own[name]
    overridden = sum(w.share_pct for w in classes if w.name in own) / 100.0
    rest_share = max(1.0 - overridden, 1e-9)
    return own | {w.name: left * w.share_pct / 100.0 / rest_share for w in classes if w.name not in own}


def known_jobs_rows(
    jobs: pd.DataFrame | None, now: datetime, delays: dict[str, timedelta]
) -> list[dict[str, Any]]:
    """The known jobs at ``now`` as state-report rows (:mod:`apps.telemetry.known_jobs`) of ``jobs``
    (:func:`known_jobs`): those submitted at or before it and not finished (run time from submission), each
    due its class's ``delays`` (max delay) after it could finish."""
    if jobs is None or jobs.empty:
        return []
    moment = pd.Timestamp(now)
    end = jobs["submitted"] + pd.to_timedelta(jobs["runtime_min"], unit="min")
    rows = []
    for job in jobs[(jobs["submitted"] <= moment) & (end > moment)].itertuples(index=False):
        submitted = job.submitted.to_pydatetime()
        duration = timedelta(minutes=float(job.runtime_min))
        rows.append(
            {
                "job_id": job.job_id,
                "workload_class": job.workload_class,
                "power_kw": float(job.power_kw),
                "duration_h": duration.total_seconds() / 3600,
                "submitted_at": submitted,
                "earliest_start": submitted,
                "deadline": submitted + duration + delays.get(job.workload_class, timedelta()),
            }
        )
    return rows
