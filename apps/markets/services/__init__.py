"""Writes for markets, re-exported so callers keep ``from apps.markets import services``.

- :mod:`.events`: programs and the event life cycle, and the shared rule and permission checks;
- :mod:`.bids`: bids, awards and the aggregator's bidding cycle;
- :mod:`.activations`: activations (posting one notifies dispatch after commit).

Every status change is a conditional UPDATE on the expected status (a step taken twice or concurrently
happens once); illegal steps raise :class:`~apps.core.errors.ConflictError` with the reason (HTTP 409).
Time comes from :func:`apps.core.clock.now`, so a replay runs on simulated time.
"""

from __future__ import annotations

# ConflictError: raised by the status changes; callers catch services.ConflictError.
from apps.core.errors import ConflictError

from .activations import activation_end, activation_post
from .bids import (
    BID_DRAFT_LEAD,
    BID_SUBMIT_LEAD,
    award_post,
    bid_prepare,
    bid_save,
    bid_submit,
    bids_submit_due,
    events_needing_bids,
)
from .events import (
    EPS,
    event_announce,
    event_cancel,
    event_close_gate,
    event_gate_is_closed,
    events_close_due_gates,
    events_complete_finished,
    program_create,
    program_update,
    rules_of,
)

__all__ = [
    "BID_DRAFT_LEAD",
    "BID_SUBMIT_LEAD",
    "EPS",
    "ConflictError",
    "activation_end",
    "activation_post",
    "award_post",
    "bid_prepare",
    "bid_save",
    "bid_submit",
    "bids_submit_due",
    "event_announce",
    "event_cancel",
    "event_close_gate",
    "event_gate_is_closed",
    "events_close_due_gates",
    "events_complete_finished",
    "events_needing_bids",
    "program_create",
    "program_update",
    "rules_of",
]
