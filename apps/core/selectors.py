"""Reads of the shared reference data (market zones)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import MarketZone

# System-job reads (no caller scoping)


def market_zone_get(*, code: str) -> MarketZone | None:
    """The market zone with code ``code``, or ``None``."""
    return MarketZone.objects.filter(pk=code).first()


def market_zone_list() -> QuerySet[MarketZone]:
    """Every market zone, by code."""
    return MarketZone.objects.order_by("code")
