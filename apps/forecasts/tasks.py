"""Thin forecast tasks: one series per task; the beat cycle fans out the day-ahead runs at 10:00 local."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task

from apps.core import clock

from . import selectors, services


@shared_task(name="apps.forecasts.tasks.forecast_series", acks_late=True)
def forecast_series(series_id: int, issue_time: str) -> int:
    """Day-ahead forecast of one series issued at ``issue_time`` (ISO 8601); returns the run id."""
    return services.forecast_day_ahead(series_id=series_id, issue_time=datetime.fromisoformat(issue_time)).pk


@shared_task(name="apps.forecasts.tasks.day_ahead_cycle")
def day_ahead_cycle() -> int:
    """Every hour: start the day-ahead run of each site load series whose local time is 10:00 now."""
    now = clock.now()
    issue = clock.floor_to(now, timedelta(hours=1))
    due = selectors.load_series_due(issue_time=issue)
    for series_id in due:
        forecast_series.delay(series_id, issue.isoformat())
    return len(due)
