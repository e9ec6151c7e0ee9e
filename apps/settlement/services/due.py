"""Which events the beat job settles now (:func:`events_due_for_settlement`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.accounts.selectors import aggregator_organisation
from apps.core import clock
from apps.markets.selectors import event_list_awarded_ended_between

from ..inputs import event_metering_complete

#: After this long past the event's end, settle with whatever meter data there is.
METERING_GRACE = timedelta(hours=48)
#: Events that ended within this window are re-settled by the beat job, so late meter data makes a new version.
RESETTLE_WINDOW = timedelta(days=14)


def events_due_for_settlement(*, now: datetime | None = None) -> list[int]:
    """Ids of events to (re-)settle now: ended at least one settlement interval ago and within
    :data:`RESETTLE_WINDOW`, not cancelled, awarded to the aggregator, and either fully metered or past
    :data:`METERING_GRACE`. Every due event is re-settled on each call; ``event_settle`` compares the input
    fingerprint, so an unchanged event costs a recomputation and writes nothing."""
    now = now or clock.now()
    aggregator = aggregator_organisation()
    if aggregator is None:
        return []
    due = []
    for event in event_list_awarded_ended_between(bidder=aggregator, start=now - RESETTLE_WINDOW, end=now):
        step = timedelta(minutes=event.program.settlement_interval_minutes)
        if event.end + step > now:
            continue
        if event_metering_complete(event=event) or now - event.end >= METERING_GRACE:
            due.append(event.pk)
    return due
