"""Thin compute-power tasks: one site per task; beat cycles fan out the sites that are due.

- ``compute_model_refit_cycle`` (weekly): refit the utilisation → IT power model of every active site that
  meters both utilisation and IT power (:func:`apps.forecasts.compute_power.compute_model_refit`);
- ``derived_it_forecast_cycle`` (hourly): at 10:00 site time, the day-ahead IT power forecast of each active
  site that reports only utilisation, derived through its model
  (:func:`apps.forecasts.compute_power.it_power_forecast_from_utilization`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task

from apps.core import clock
from apps.forecasts import compute_power


@shared_task(name="apps.greenpower.tasks.compute_model_refit_site", acks_late=True)
def compute_model_refit_site(site_id: int, now: str) -> int | None:
    """Refit one site's compute-power model on the telemetry before ``now`` (ISO 8601); returns the model id, or
    None when the site has too little data (its old model is kept)."""
    stored = compute_power.compute_model_refit(site_id=site_id, now=datetime.fromisoformat(now))
    return None if stored is None else stored.pk


@shared_task(name="apps.greenpower.tasks.compute_model_refit_cycle")
def compute_model_refit_cycle() -> int:
    """Weekly: start the refit of each active site with utilisation and IT power telemetry; returns how many."""
    now = clock.now().isoformat()
    due = compute_power.refit_sites_due()
    for site_id in due:
        compute_model_refit_site.delay(site_id, now)
    return len(due)


@shared_task(name="apps.greenpower.tasks.derived_it_forecast_site", acks_late=True)
def derived_it_forecast_site(site_id: int, issue_time: str) -> int:
    """Day-ahead IT power forecast of one utilisation-only site issued at ``issue_time`` (ISO 8601); returns the
    derived run's id."""
    return compute_power.it_power_forecast_from_utilization(
        site_id=site_id, issue_time=datetime.fromisoformat(issue_time)
    ).pk


@shared_task(name="apps.greenpower.tasks.derived_it_forecast_cycle")
def derived_it_forecast_cycle() -> int:
    """Every hour: start the derived day-ahead run of each utilisation-only site whose local time is 10:00."""
    issue = clock.floor_to(clock.now(), timedelta(hours=1))
    due = compute_power.utilization_only_sites_due(issue_time=issue)
    for site_id in due:
        derived_it_forecast_site.delay(site_id, issue.isoformat())
    return len(due)
