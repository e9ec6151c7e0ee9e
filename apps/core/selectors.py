"""Reads of the shared reference data (market zones)."""

from __future__ import annotations

from .models import MarketZone

# System-job reads (no caller scoping)


def market_zone_get(*, code: str) -> MarketZone | None:
    """The market zone with code ``code``, or ``None``."""
    return MarketZone.objects.filter(pk=code).first()
