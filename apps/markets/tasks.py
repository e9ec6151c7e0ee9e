"""Thin periodic tasks of the market life cycle: close due gates, complete finished events."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="apps.markets.tasks.close_due_gates")
def close_due_gates() -> int:
    """Close the gate of every announced event whose gate-closure time has passed."""
    return services.events_close_due_gates()


@shared_task(name="apps.markets.tasks.complete_finished_events")
def complete_finished_events() -> int:
    """Complete active events whose window has ended."""
    return services.events_complete_finished()
