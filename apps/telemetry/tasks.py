"""Thin telemetry tasks (beat): keep the monthly partitions of the raw points ahead of time, and drop raw
partitions past the retention setting (:mod:`apps.telemetry.partitions`)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core import clock

from . import partitions


@shared_task(name="apps.telemetry.tasks.telemetry_partitions_ensure")
def telemetry_partitions_ensure() -> list[str]:
    """Create the raw-point partitions of this month and the next ``VPP_TELEMETRY_PARTITIONS_AHEAD`` months
    (and the DEFAULT one) if missing; returns the names created. Idempotent."""
    return partitions.partitions_ensure(now=clock.now(), months_ahead=settings.VPP_TELEMETRY_PARTITIONS_AHEAD)


@shared_task(name="apps.telemetry.tasks.telemetry_raw_retention")
def telemetry_raw_retention() -> list[str]:
    """Drop the raw-point partitions whose month ended more than ``VPP_RAW_RETENTION_DAYS`` ago (nothing when
    the setting is unset: keep everything); rollups stay. Returns the names dropped."""
    days = settings.VPP_RAW_RETENTION_DAYS
    if days is None:
        return []
    return partitions.raw_partitions_drop(now=clock.now(), retention_days=days)
