"""Market programs and events for the dashboard tests (plain model rows: the markets app owns their writes)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import Organisation
from apps.markets.choices import EventStatus, Product
from apps.markets.models import Event, Program
from tests.factories import zone


def program(operator: Organisation, code: str = "pdr", name: str = "Proxy demand response") -> Program:
    return Program.objects.create(
        operator=operator,
        zone=zone("CAISO_NP15"),
        code=code,
        name=name,
        product=Product.PEAK_SHAVING,
        min_bid_kw=100,
    )


def event(
    prog: Program, *, hours_from_now: float, status: str = EventStatus.ANNOUNCED, kw: float = 5000
) -> Event:
    start = timezone.now() + timedelta(hours=hours_from_now)
    return Event.objects.create(
        program=prog,
        start=start,
        end=start + timedelta(hours=2),
        requested_kw=kw,
        gate_closure_at=start - timedelta(hours=1),
        status=status,
        announced_at=timezone.now() - timedelta(hours=1),
    )
