"""Reads for core."""

from __future__ import annotations

from .models import MarketZone


def market_zone_get(*, code: str) -> MarketZone:
    """The market zone with this code (e.g. ``CAISO_NP15``).

    Raises:
        MarketZone.DoesNotExist: unknown code.
    """
    return MarketZone.objects.get(code=code)
