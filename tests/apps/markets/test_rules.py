"""Program rules on bids and event windows, hand-checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.markets.rules import IntervalOffer, ProgramRules, bid_errors, event_window_errors

RULES = ProgramRules(
    min_bid_kw=100,
    bid_granularity_kw=10,
    notice_minutes=120,
    min_duration_minutes=60,
    max_duration_minutes=240,
    gate_closure_lead_minutes=60,
    settlement_interval_minutes=15,
    price_cap_per_mwh=1000,
)
T0 = datetime(2022, 9, 6, 1, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


def offer(i: int, kw: float = 500, price: float = 200) -> IntervalOffer:
    return IntervalOffer(T0 + i * STEP, T0 + (i + 1) * STEP, kw, price)


def test_valid_bid_has_no_errors() -> None:
    assert bid_errors(RULES, [offer(i) for i in range(4)], event_start=T0, event_end=T0 + 4 * STEP) == {}


def test_zero_quantity_allowed_but_below_minimum_refused() -> None:
    errors = bid_errors(RULES, [offer(0, 0), offer(1, 90)], event_start=T0, event_end=T0 + 4 * STEP)
    assert set(errors) == {"intervals[1].quantity_kw"}
    assert "below the minimum bid of 100" in errors["intervals[1].quantity_kw"]


@pytest.mark.parametrize(("kw", "ok"), [(100, True), (105, False), (110, True), (1000.0000001, True)])
def test_granularity(kw: float, ok: bool) -> None:
    errors = bid_errors(RULES, [offer(0, kw)], event_start=T0, event_end=T0 + STEP)
    assert (errors == {}) is ok


def test_price_cap_window_and_duplicates() -> None:
    bad = [offer(0, price=1000.5), offer(0), offer(5), IntervalOffer(T0 + STEP, T0 + 3 * STEP, 100, 1)]
    errors = bid_errors(RULES, bad, event_start=T0, event_end=T0 + 4 * STEP)
    assert set(errors) == {
        "intervals[0].price_per_mwh",
        "intervals[1].start",
        "intervals[2].start",
        "intervals[3].start",
    }
    assert "duplicate" in errors["intervals[1].start"]
    assert "outside the event window" in errors["intervals[2].start"]


def test_empty_bid() -> None:
    assert bid_errors(RULES, [], event_start=T0, event_end=T0 + STEP) == {
        "intervals": "a bid needs at least one interval."
    }


@pytest.mark.parametrize(
    ("start_offset", "hours", "field"),
    [
        (timedelta(hours=3), 1, None),
        (timedelta(hours=1), 1, "start"),  # less than 120 min notice
        (timedelta(hours=3, minutes=5), 1, "start"),  # misaligned
        (timedelta(hours=3), 5, "end"),  # longer than 240 min
        (timedelta(hours=3), 0.5, "end"),  # shorter than 60 min
    ],
)
def test_event_window(start_offset: timedelta, hours: float, field: str | None) -> None:
    now = T0
    start = now + start_offset
    errors = event_window_errors(RULES, start=start, end=start + timedelta(hours=hours), now=now)
    assert (field in errors) if field else errors == {}
