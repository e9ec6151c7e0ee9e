"""Thin settlement tasks: the beat job finds the events due and settles each in its own task."""

from __future__ import annotations

from celery import shared_task

from apps.core import clock

from . import services


@shared_task(name="apps.settlement.tasks.settle_finished_events")
def settle_finished_events() -> int:
    """Queue a settlement for every event that ended and is metered (or past the grace period)."""
    due = services.events_due_for_settlement(now=clock.now())
    for event_id in due:
        settle_event.delay(event_id)
    return len(due)


@shared_task(name="apps.settlement.tasks.settle_event", acks_late=True)
def settle_event(event_id: int) -> int:
    """Settle one event (idempotent: unchanged inputs write nothing); returns the current run's version."""
    run, _ = services.event_settle(event_id=event_id)
    return run.version
