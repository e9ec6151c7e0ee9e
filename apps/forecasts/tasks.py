"""Thin forecast tasks: one series per task; beat cycles fan out the runs that are due.

- ``day_ahead_cycle`` (hourly): day-ahead runs of site load series at 10:00 local;
- ``zone_day_ahead_cycle`` (hourly): day-ahead price and carbon runs of market zones at 10:00 zone time;
- ``intraday_cycle`` (every 15 min): intraday updates of site load series, hourly (every 15 min of simulated
  time while a replay clock runs);
- ``retrain_cycle`` (daily): retrain persisted models older than a week.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task

from apps.core import clock

from . import selectors, services

#: Spacing of intraday updates on the wall clock, and while a replay runs.
INTRADAY_EVERY = timedelta(hours=1)
INTRADAY_EVERY_REPLAY = timedelta(minutes=15)


@shared_task(name="apps.forecasts.tasks.forecast_series", acks_late=True)
def forecast_series(series_id: int, issue_time: str) -> int:
    """Day-ahead forecast of one series issued at ``issue_time`` (ISO 8601); returns the run id."""
    return services.forecast_day_ahead(series_id=series_id, issue_time=datetime.fromisoformat(issue_time)).pk


@shared_task(name="apps.forecasts.tasks.forecast_intraday_series", acks_late=True)
def forecast_intraday_series(series_id: int, issue_time: str) -> int:
    """Intraday update of one load series issued at ``issue_time`` (ISO 8601); returns the run id."""
    return services.forecast_intraday(series_id=series_id, issue_time=datetime.fromisoformat(issue_time)).pk


@shared_task(name="apps.forecasts.tasks.forecast_zone_series", acks_late=True)
def forecast_zone_series(series_id: int, issue_time: str) -> int:
    """Day-ahead price or carbon forecast of one zone series issued at ``issue_time`` (ISO 8601); returns the
    run id."""
    return services.forecast_zone_day_ahead(
        series_id=series_id, issue_time=datetime.fromisoformat(issue_time)
    ).pk


@shared_task(name="apps.forecasts.tasks.day_ahead_cycle")
def day_ahead_cycle() -> int:
    """Every hour: start the day-ahead run of each site load series whose local time is 10:00 now."""
    now = clock.now()
    issue = clock.floor_to(now, timedelta(hours=1))
    due = selectors.load_series_due(issue_time=issue)
    for series_id in due:
        forecast_series.delay(series_id, issue.isoformat())
    return len(due)


@shared_task(name="apps.forecasts.tasks.zone_day_ahead_cycle")
def zone_day_ahead_cycle() -> int:
    """Every hour: start the day-ahead price and carbon runs of each zone whose local time is 10:00 now."""
    issue = clock.floor_to(clock.now(), timedelta(hours=1))
    due = selectors.zone_series_due(issue_time=issue)
    for series_id in due:
        forecast_zone_series.delay(series_id, issue.isoformat())
    return len(due)


@shared_task(name="apps.forecasts.tasks.intraday_cycle")
def intraday_cycle() -> int:
    """Every 15 minutes: start the intraday update of each active site's load series not yet updated at the
    current issue time (the hour, or the quarter-hour while a replay runs)."""
    every = INTRADAY_EVERY_REPLAY if clock.replay_running() else INTRADAY_EVERY
    issue = clock.floor_to(clock.now(), every)
    due = selectors.intraday_series_due(issue_time=issue)
    for series_id in due:
        forecast_intraday_series.delay(series_id, issue.isoformat())
    return len(due)


@shared_task(name="apps.forecasts.tasks.retrain_cycle", acks_late=True)
def retrain_cycle() -> int:
    """Daily: retrain every persisted forecast model a week old or older; returns how many were retrained."""
    return len(services.trained_models_retrain_stale(now=clock.now()))
