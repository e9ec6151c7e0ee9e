"""Validation of the known jobs in a site's state report (issue #21), for
:func:`apps.telemetry.services.site_state_report`: every bad field named by its path
(``known_jobs[3].deadline``), nothing built on any error.

A known job: ``job_id`` (non-empty, at most 200 characters, unique in the report), ``workload_class`` (the site's:
an instance, pk or name), either ``energy_kwh`` (≥ 0) or ``power_kw`` (≥ 0) with ``duration_h`` (> 0) — not
both —, ``submitted_at`` (aware), ``earliest_start`` (aware, ≥ submission; default the submission) and
``deadline`` (optional, aware, ≥ the earliest start plus the duration).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from apps.assets.models import WorkloadClass

from .site_state_fields import Errors, moment, number, workload_class
from .state_models import KnownJob


def _energy(
    errors: Errors, path: str, row: Mapping[str, Any]
) -> tuple[float | None, float | None, float | None]:
    """(energy kWh, power kW, duration h) of a row; errors for a missing or doubly given size."""
    has_energy = row.get("energy_kwh") is not None
    has_power = row.get("power_kw") is not None or row.get("duration_h") is not None
    if has_energy and has_power:
        errors.setdefault(f"{path}.energy_kwh", []).append(
            "give either energy_kwh or power_kw with duration_h, not both."
        )
        return None, None, None
    if has_energy:
        return number(errors, f"{path}.energy_kwh", row.get("energy_kwh"), unit="kWh"), None, None
    if not has_power:
        errors.setdefault(f"{path}.energy_kwh", []).append("give energy_kwh, or power_kw with duration_h.")
        return None, None, None
    power = number(errors, f"{path}.power_kw", row.get("power_kw"), unit="kW")
    duration = number(errors, f"{path}.duration_h", row.get("duration_h"), unit="h")
    if duration is not None and duration <= 0:
        errors.setdefault(f"{path}.duration_h", []).append("must be positive (hours).")
        duration = None
    if power is None or duration is None:
        return None, None, None
    return power * duration, power, duration


def known_job(
    errors: Errors, path: str, row: Mapping[str, Any], classes: list[WorkloadClass], seen: set[str]
) -> KnownJob | None:
    """The unsaved :class:`KnownJob` of one report row, or ``None`` (its errors added under ``path``)."""
    job_id = row.get("job_id")
    if not isinstance(job_id, str) or not job_id or len(job_id) > 200:
        errors.setdefault(f"{path}.job_id", []).append(
            "must be a non-empty string of at most 200 characters."
        )
        job_id = None
    elif job_id in seen:
        errors.setdefault(f"{path}.job_id", []).append(f"'{job_id}' is reported twice.")
        job_id = None
    else:
        seen.add(job_id)
    ref = row.get("workload_class")
    workload = workload_class(classes, ref)
    if workload is None:
        errors.setdefault(f"{path}.workload_class", []).append(
            f"{ref!r} is not a workload class of this site."
        )
    energy, power, duration = _energy(errors, path, row)
    submitted = moment(errors, f"{path}.submitted_at", row.get("submitted_at"))
    earliest = row.get("earliest_start")
    earliest = submitted if earliest is None else moment(errors, f"{path}.earliest_start", earliest)
    if submitted is not None and earliest is not None and earliest < submitted:
        errors.setdefault(f"{path}.earliest_start", []).append(
            f"{earliest.isoformat()} is before the job's submission at {submitted.isoformat()}."
        )
        return None
    deadline = row.get("deadline")
    if deadline is not None:
        deadline = moment(errors, f"{path}.deadline", deadline)
        if deadline is None:
            return None
        finish = earliest + timedelta(hours=duration or 0.0) if earliest is not None else None
        if finish is not None and deadline < finish:
            errors.setdefault(f"{path}.deadline", []).append(
                f"{deadline.isoformat()} is before the job can finish ({finish.isoformat()}: earliest start "
                "plus its duration)."
            )
            return None
    if job_id is None or workload is None or energy is None or submitted is None or earliest is None:
        return None
    return KnownJob(
        workload_class=workload,
        job_id=job_id,
        energy_kwh=energy,
        power_kw=power,
        duration_h=duration,
        submitted_at=submitted,
        earliest_start=earliest,
        deadline=deadline,
    )
