"""The task that computes the staff overview's flexibility figure ahead of the viewers (issue #22).

Sent by the beat every 15 minutes (``markets-flexibility-refresh`` in :mod:`vpp.celery`) and by
:func:`apps.markets.flexibility_view.portfolio_flexibility` when a page finds the cached figure of an earlier
slot or of other inputs. Idempotent: it overwrites the cached figure of its slot.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from apps.core import clock

from .flexibility_view import portfolio_flexibility_refresh


@shared_task(name="apps.markets.tasks.refresh_portfolio_flexibility", acks_late=True)
def refresh_portfolio_flexibility(at: str | None = None) -> str:
    """Compute and cache the portfolio's flexibility for the slot of ``at`` (ISO 8601; the product clock's now
    when omitted, as from the beat); returns the slot start (ISO 8601)."""
    moment = datetime.fromisoformat(at) if at else clock.now()
    return portfolio_flexibility_refresh(at=moment).slot_start.isoformat()
