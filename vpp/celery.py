"""The Celery app: configured from Django settings (``CELERY_*``), tasks autodiscovered from every app.

Queues: ``default`` for ordinary work, ``dispatch`` (high priority, its own workers in production),
``forecasts`` for the per-series forecast and retraining tasks the beat cycles fan out (CPU-bound model fits:
add workers on this queue to scale forecasting out; every worker must list it, e.g. ``-Q default,dispatch,forecasts``),
``lp`` (blocks of the portfolio LP, :mod:`apps.markets.fanout`; its own workers, ``celery -A vpp worker -Q lp``).
The beat schedule lives here so that every periodic task is visible in one place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vpp.settings.local")

app = Celery("vpp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _prepare_embedded_broker() -> None:
    """Create the folders of kombu's filesystem transport and the file result backend (zero-config mode)."""
    from django.conf import settings

    if not str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        return
    options: dict[str, Any] = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
    Path(str(settings.CELERY_RESULT_BACKEND).removeprefix("file://")).mkdir(parents=True, exist_ok=True)


app.on_after_configure.connect(lambda sender, **kwargs: _prepare_embedded_broker(), weak=False)

app.conf.task_routes = {
    "apps.dispatch.tasks.*": {"queue": "dispatch"},
    "apps.forecasts.tasks.forecast_*": {"queue": "forecasts"},
    "apps.forecasts.tasks.retrain_series": {"queue": "forecasts"},
    "apps.forecasts.tasks.select_model_series": {"queue": "forecasts"},
    "apps.markets.lp_tasks.*": {"queue": "lp"},  # portfolio LP blocks (apps/markets/fanout.py), own workers
}

# Periodic tasks. Each carries ``expires`` so that a late run is dropped rather than executed stale.
app.conf.beat_schedule = {
    "core-heartbeat": {
        "task": "apps.core.tasks.heartbeat",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "markets-close-due-gates": {
        "task": "apps.markets.tasks.close_due_gates",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "markets-bidding-cycle": {
        "task": "apps.markets.tasks.bidding_cycle",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "dispatch-closed-loop": {
        "task": "apps.dispatch.tasks.closed_loop",
        "schedule": 60.0,
        "options": {"expires": 55, "queue": "dispatch"},
    },
    "dispatch-replan": {  # the intraday re-plan (MPC) every 15 minutes, claimed per interval
        "task": "apps.dispatch.tasks.replan",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 600, "queue": "dispatch"},
    },
    "forecasts-day-ahead-cycle": {
        "task": "apps.forecasts.tasks.day_ahead_cycle",
        "schedule": crontab(minute=0),
        "options": {"expires": 3000},
    },
    "forecasts-zone-day-ahead-cycle": {
        "task": "apps.forecasts.tasks.zone_day_ahead_cycle",
        "schedule": crontab(minute=0),
        "options": {"expires": 3000},
    },
    "forecasts-intraday-cycle": {
        "task": "apps.forecasts.tasks.intraday_cycle",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 840},
    },
    "forecasts-retrain-cycle": {
        "task": "apps.forecasts.tasks.retrain_cycle",
        "schedule": crontab(minute=30, hour=2),
        "options": {"expires": 3600},
    },
    "forecasts-model-selection-cycle": {
        "task": "apps.forecasts.tasks.model_selection_cycle",
        "schedule": crontab(minute=0, hour=3),
        "options": {"expires": 3600},
    },
    "markets-flexibility-refresh": {
        "task": "apps.markets.tasks.refresh_portfolio_flexibility",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 840},
    },
    "markets-complete-finished-events": {
        "task": "apps.markets.tasks.complete_finished_events",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "settlement-settle-finished-events": {
        "task": "apps.settlement.tasks.settle_finished_events",
        "schedule": 900.0,
        "options": {"expires": 840},
    },
    "greenpower-compute-model-refit-cycle": {
        "task": "apps.greenpower.tasks.compute_model_refit_cycle",
        "schedule": crontab(minute=45, hour=3, day_of_week=1),
        "options": {"expires": 3600},
    },
    "telemetry-partitions-ensure": {
        "task": "apps.telemetry.tasks.telemetry_partitions_ensure",
        "schedule": crontab(minute=15, hour="*/6"),
        "options": {"expires": 3600},
    },
    "telemetry-raw-retention": {
        "task": "apps.telemetry.tasks.telemetry_raw_retention",
        "schedule": crontab(minute=40, hour=4),
        "options": {"expires": 3600},
    },
    "greenpower-derived-it-forecast-cycle": {
        "task": "apps.greenpower.tasks.derived_it_forecast_cycle",
        "schedule": crontab(minute=0),
        "options": {"expires": 3000},
    },
}
