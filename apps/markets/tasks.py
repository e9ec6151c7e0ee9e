"""Thin periodic tasks of the market life cycle: close due gates, complete finished events."""

from __future__ import annotations

from celery import shared_task

from . import services
from .flexibility_tasks import refresh_portfolio_flexibility  # noqa: F401  (registers the task)
from .lp_tasks import solve_lp_blocks  # noqa: F401 - the lp queue's task (apps/markets/fanout.py)


@shared_task(name="apps.markets.tasks.close_due_gates")
def close_due_gates() -> int:
    """Close the gate of every announced event whose gate-closure time has passed."""
    return services.events_close_due_gates()


@shared_task(name="apps.markets.tasks.complete_finished_events")
def complete_finished_events() -> int:
    """Complete active events whose window has ended."""
    return services.events_complete_finished()


@shared_task(name="apps.markets.tasks.bidding_cycle")
def bidding_cycle() -> dict[str, int]:
    """Draft bids for events whose gate closes soon, and submit the drafts that are due."""
    drafted = 0
    for event_id in services.events_needing_bids():
        prepare_bid.delay(event_id)
        drafted += 1
    return {"drafting": drafted, "submitted": services.bids_submit_due()}


@shared_task(name="apps.markets.tasks.prepare_bid", acks_late=True)
def prepare_bid(event_id: int) -> int | None:
    """Draft the aggregator's bid for one event (idempotent)."""
    bid = services.bid_prepare(event_id=event_id)
    return bid.pk if bid else None
