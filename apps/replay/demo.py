"""Demo data the replay adds on top of the demo portfolio (:mod:`apps.assets.demo_portfolio`) to show features
the portfolio alone does not: a solar power purchase agreement of Northwind for San Jose DC1, so that the green
ledger's hourly-matched share (24/7 CFE score) differs from the annual-matching share — midday hours deliver
more than the site draws, and that surplus counts for annual matching but not hour by hour."""

from __future__ import annotations

import math
from datetime import date

from django.db import transaction

from apps.accounts.models import Organisation
from apps.assets.models import Site
from apps.greenpower.choices import ContractKind
from apps.greenpower.models import GreenContract
from apps.markets.models import Program
from apps.settlement.models import BaselineTerms

PPA_NAME = "Solar PPA, Central Valley (demo)"
#: Peak contracted energy of the PPA in one hour (kWh), at local solar noon.
PPA_PEAK_KWH = 14000.0
#: Local solar day of the PPA profile in UTC hours (California in summer, UTC−7: 07:00–19:00 local).
PPA_FIRST_UTC_HOUR, PPA_HOURS = 14, 12


def ppa_profile_kwh() -> list[float]:
    """24 hourly volumes (kWh, by UTC hour of day): a half-sine over the local solar day, 0 at night."""
    profile = [0.0] * 24
    for k in range(PPA_HOURS):
        hour = (PPA_FIRST_UTC_HOUR + k) % 24
        profile[hour] = round(PPA_PEAK_KWH * math.sin(math.pi * (k + 0.5) / PPA_HOURS), 1)
    return profile


def demo_green_contracts_seed() -> GreenContract | None:
    """Create the demo PPA if missing (idempotent; ``None`` when the demo portfolio is not seeded)."""
    owner = Organisation.objects.filter(slug="northwind").first()
    site = Site.objects.filter(owner=owner, name="San Jose DC1").first() if owner else None
    if owner is None or site is None:
        return None
    with transaction.atomic():
        contract, created = GreenContract.objects.get_or_create(
            owner=owner,
            name=PPA_NAME,
            defaults={
                "kind": ContractKind.PPA,
                "zone_id": site.market_zone_id,
                "price_per_mwh": 55.0,
                "currency": site.market_zone.currency,
                "term_start": date(2022, 1, 1),
                "term_end": date(2022, 12, 31),
                "take_or_pay": True,
                "hourly_profile_kwh": ppa_profile_kwh(),
            },
        )
        if created:
            contract.sites.set([site])
    return contract


def demo_baseline_terms_seed() -> int:
    """Give each demo program whose rule book sets a high-X-of-Y baseline its X and Y (idempotent): NYISO's EDRP
    measures against the Customer Baseline Load, the average of the 5 highest of the 10 most recent like days
    (NYISO EDRP Manual). Returns how many programs got terms."""
    created = 0
    for program in Program.objects.filter(code__startswith="nyiso-edrp"):
        _, made = BaselineTerms.objects.get_or_create(program=program, defaults={"high_x": 5, "high_y": 10})
        created += int(made)
    return created
