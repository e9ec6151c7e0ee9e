"""Thin forecast tasks: one series per task; beat cycles fan out the runs that are due as a Celery group.

Scale-out (issue #22): each cycle lists the due series in one query and sends one message per series as a
``group`` on the ``forecasts`` queue (routed in :mod:`vpp.celery`), so any number of workers split them (prefetch
1: a worker takes the next series when it is free). A per-series task claims its run first
(:func:`apps.forecasts.services.forecast_run_claim`, a unique insert or a conditional UPDATE), so a duplicate
message or a second worker never forecasts a series twice for the same belief time; the fitted model is read
from the database (:class:`~apps.forecasts.models.TrainedModel`), never from process memory.

- ``day_ahead_cycle`` (hourly): day-ahead runs of site load series at 10:00 local;
- ``zone_day_ahead_cycle`` (hourly): day-ahead price and carbon runs of market zones at 10:00 zone time;
- ``intraday_cycle`` (every 15 min): intraday updates of site load series, hourly (every 15 min of simulated
  time while a replay clock runs);
- ``retrain_cycle`` (daily): retrain persisted models older than a week, one ``retrain_series`` task each;
- ``model_selection_cycle`` (daily): re-select the model of every series forecast day-ahead whose selection is a
  week old or missing, one ``select_model_series`` task each (progress in the admin's model selections).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import Task, group, shared_task

from apps.core import clock

from . import selection, selectors, services

#: Spacing of intraday updates on the wall clock, and while a replay runs.
INTRADAY_EVERY = timedelta(hours=1)
INTRADAY_EVERY_REPLAY = timedelta(minutes=15)


@shared_task(name="apps.forecasts.tasks.forecast_series", acks_late=True)
def forecast_series(series_id: int, issue_time: str) -> int:
    """Day-ahead forecast of one series issued at ``issue_time`` (ISO 8601); returns the run id."""
    return services.forecast_day_ahead(
        series_id=series_id, issue_time=datetime.fromisoformat(issue_time), once=True
    ).pk


@shared_task(name="apps.forecasts.tasks.forecast_intraday_series", acks_late=True)
def forecast_intraday_series(series_id: int, issue_time: str) -> int:
    """Intraday update of one load series issued at ``issue_time`` (ISO 8601); returns the run id."""
    return services.forecast_intraday(
        series_id=series_id, issue_time=datetime.fromisoformat(issue_time), once=True
    ).pk


@shared_task(name="apps.forecasts.tasks.forecast_zone_series", acks_late=True)
def forecast_zone_series(series_id: int, issue_time: str) -> int:
    """Day-ahead price or carbon forecast of one zone series issued at ``issue_time`` (ISO 8601); returns the
    run id."""
    return services.forecast_zone_day_ahead(
        series_id=series_id, issue_time=datetime.fromisoformat(issue_time), once=True
    ).pk


def fan_out(task: Task, series_ids: list[int], issue_time: datetime) -> int:
    """Send ``task(series_id, issue_time)`` for every series as one Celery group (its queue from the routes of
    :mod:`vpp.celery`: ``forecasts``); returns how many were sent."""
    if series_ids:
        group(task.si(series_id, issue_time.isoformat()) for series_id in series_ids).apply_async()
    return len(series_ids)


@shared_task(name="apps.forecasts.tasks.day_ahead_cycle")
def day_ahead_cycle() -> int:
    """Every hour: start the day-ahead run of each site load series whose local time is 10:00 now."""
    now = clock.now()
    issue = clock.floor_to(now, timedelta(hours=1))
    return fan_out(forecast_series, selectors.load_series_due(issue_time=issue), issue)


@shared_task(name="apps.forecasts.tasks.zone_day_ahead_cycle")
def zone_day_ahead_cycle() -> int:
    """Every hour: start the day-ahead price and carbon runs of each zone whose local time is 10:00 now."""
    issue = clock.floor_to(clock.now(), timedelta(hours=1))
    return fan_out(forecast_zone_series, selectors.zone_series_due(issue_time=issue), issue)


@shared_task(name="apps.forecasts.tasks.intraday_cycle")
def intraday_cycle() -> int:
    """Every 15 minutes: start the intraday update of each active site's load series not yet updated at the
    current issue time (the hour, or the quarter-hour while a replay runs)."""
    every = INTRADAY_EVERY_REPLAY if clock.replay_running() else INTRADAY_EVERY
    issue = clock.floor_to(clock.now(), every)
    return fan_out(forecast_intraday_series, selectors.intraday_series_due(issue_time=issue), issue)


@shared_task(name="apps.forecasts.tasks.retrain_series", acks_late=True)
def retrain_series(series_id: int, model_name: str, at: str) -> int | None:
    """Retrain one series' model at ``at`` (ISO 8601) unless it is fresh already; returns the new model's id."""
    model = services.trained_model_retrain(
        series_id=series_id, model_name=model_name, at=datetime.fromisoformat(at)
    )
    return model.pk if model else None


@shared_task(name="apps.forecasts.tasks.retrain_cycle")
def retrain_cycle() -> int:
    """Daily: send one ``retrain_series`` task (a group on the ``forecasts`` queue) for every persisted model a
    week old or older; returns how many were sent."""
    now = clock.now()
    stale = services.trained_models_stale(now=now)
    if stale:
        group(retrain_series.si(series_id, name, now.isoformat()) for series_id, name in stale).apply_async()
    return len(stale)


@shared_task(name="apps.forecasts.tasks.select_model_series", acks_late=True)
def select_model_series(series_id: int, at: str) -> int:
    """Select the model of one series at ``at`` (ISO 8601); returns the selection's id."""
    return selection.model_selection_run(series_id=series_id, at=datetime.fromisoformat(at)).pk


@shared_task(name="apps.forecasts.tasks.model_selection_cycle")
def model_selection_cycle() -> int:
    """Daily: send one ``select_model_series`` task (a group on the ``forecasts`` queue) for every series due a
    model selection; returns how many were sent."""
    now = clock.now()
    return fan_out(select_model_series, selectors.model_selections_due(now=now), now)
