"""Reads of the shared reference data (market zones)."""

from __future__ import annotations

from django.db.models import QuerySet

from .errors import DomainError
from .models import MarketZone

# System-job reads (no caller scoping)


def market_zone_get(*, code: str) -> MarketZone | None:
    """The market zone with code ``code``, or ``None``."""
    return MarketZone.objects.filter(pk=code).first()


def market_zone_require(*, code: str) -> MarketZone:
    """The market zone with code ``code``.

    Raises:
        DomainError: no such zone (``field="zone"``); ``manage.py migrate`` seeds the known zones.
    """
    zone = market_zone_get(code=code)
    if zone is None:
        raise DomainError(
            f"unknown market zone {code!r} (manage.py migrate seeds the known zones).", field="zone"
        )
    return zone


def market_zone_list() -> QuerySet[MarketZone]:
    """Every market zone, by code."""
    return MarketZone.objects.order_by("code")
