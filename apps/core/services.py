"""Writes for core reference data."""

from __future__ import annotations

from .models import MarketZone

#: The market zones of the bundled real data: code, name, IANA time zone, currency.
MARKET_ZONES = [
    ("CAISO_NP15", "CAISO NP15 (Northern California)", "America/Los_Angeles", "USD"),
    ("ERCOT_HUB", "ERCOT Hub Average (Texas)", "America/Chicago", "USD"),
    ("PJM_DOM", "PJM Dominion zone (Virginia)", "America/New_York", "USD"),
    ("NYISO_CAPITL", "NYISO Capital zone (Albany)", "America/New_York", "USD"),
    ("DE_LU", "Germany-Luxembourg bidding zone", "Europe/Berlin", "EUR"),
]


def market_zones_ensure() -> int:
    """Create any missing market zone of :data:`MARKET_ZONES` (a flushed test database loses the rows the data
    migration seeded); returns how many were created."""
    existing = set(MarketZone.objects.values_list("code", flat=True))
    missing = [
        MarketZone(code=c, name=n, timezone=tz, currency=cur)
        for c, n, tz, cur in MARKET_ZONES
        if c not in existing
    ]
    MarketZone.objects.bulk_create(missing)
    return len(missing)
