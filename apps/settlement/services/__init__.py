"""Writes of settlement: settle an event (versioned, idempotent) and find the events due for settling.

The public names are re-exported here, so callers keep ``from apps.settlement import services`` and
``services.event_settle(...)``.
"""

from __future__ import annotations

from ..inputs import baseline_terms_of, event_metering_complete
from .due import METERING_GRACE, RESETTLE_WINDOW, events_due_for_settlement
from .settle import event_settle, run_store

__all__ = [
    "METERING_GRACE",
    "RESETTLE_WINDOW",
    "baseline_terms_of",
    "event_metering_complete",
    "event_settle",
    "events_due_for_settlement",
    "run_store",
]
