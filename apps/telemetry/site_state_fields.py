"""Field checks shared by the site-state validators (:mod:`apps.telemetry.site_state`,
:mod:`apps.telemetry.known_jobs`): each adds its message under the field's path to ``errors`` and returns
``None`` on a bad value."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.assets.models import WorkloadClass

Errors = dict[str, list[str]]


def number(errors: Errors, path: str, value: Any, *, unit: str) -> float | None:
    """A finite, non-negative number (``unit`` named in the message)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.setdefault(path, []).append(f"must be a number ({unit}).")
        return None
    out = float(value)
    if not math.isfinite(out):
        errors.setdefault(path, []).append("must be a finite number.")
        return None
    if out < 0:
        errors.setdefault(path, []).append(f"must not be negative ({out:g} {unit}).")
        return None
    return out


def moment(errors: Errors, path: str, value: Any) -> datetime | None:
    """An aware datetime."""
    if not isinstance(value, datetime):
        errors.setdefault(path, []).append("must be an ISO 8601 date-time with a UTC offset.")
        return None
    if timezone.is_naive(value):
        errors.setdefault(path, []).append(f"'{value.isoformat()}' has no time zone; give its UTC offset.")
        return None
    return value


def workload_class(classes: list[WorkloadClass], ref: Any) -> WorkloadClass | None:
    """The class of ``classes`` that ``ref`` names: an instance, its pk or its name; ``None`` if none."""
    if isinstance(ref, WorkloadClass):
        return next((c for c in classes if c.pk == ref.pk), None)
    if isinstance(ref, int) and not isinstance(ref, bool):
        return next((c for c in classes if c.pk == ref), None)
    if isinstance(ref, str):
        return next((c for c in classes if c.name == ref), None)
    return None
