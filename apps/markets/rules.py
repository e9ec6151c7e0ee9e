"""Program rules as pure checks: event windows and bids against a program's rules.

Each function returns ``{field path: reason}`` (empty when valid) so the API can name every refused field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

EPS = 1e-6


@dataclass(frozen=True)
class ProgramRules:
    """The subset of a program's rules that bids and event windows are checked against."""

    min_bid_kw: float
    bid_granularity_kw: float
    notice_minutes: int
    min_duration_minutes: int
    max_duration_minutes: int
    gate_closure_lead_minutes: int
    settlement_interval_minutes: int
    price_cap_per_mwh: float | None


@dataclass(frozen=True)
class IntervalOffer:
    start: datetime
    end: datetime
    quantity_kw: float
    price_per_mwh: float


def event_window_errors(
    rules: ProgramRules, *, start: datetime, end: datetime, now: datetime
) -> dict[str, str]:
    """Check an event window: aligned to the settlement interval, duration within the program's bounds,
    announced with at least the notice time, and its gate closure still ahead."""
    errors: dict[str, str] = {}
    step = timedelta(minutes=rules.settlement_interval_minutes)
    epoch = datetime(1970, 1, 1, tzinfo=start.tzinfo)
    if (start - epoch) % step or (end - epoch) % step:
        errors["start"] = (
            f"start and end must be aligned to the {rules.settlement_interval_minutes}-minute settlement interval."
        )
    duration = (end - start).total_seconds() / 60
    if duration <= 0:
        errors["end"] = "end must be after start."
    elif not rules.min_duration_minutes <= duration <= rules.max_duration_minutes:
        errors["end"] = (
            f"duration {duration:g} min is outside the program's {rules.min_duration_minutes}–"
            f"{rules.max_duration_minutes} min."
        )
    if start - now < timedelta(minutes=rules.notice_minutes):
        errors.setdefault("start", f"events need {rules.notice_minutes} min notice; start is too soon.")
    elif start - timedelta(minutes=rules.gate_closure_lead_minutes) <= now:
        errors.setdefault("start", "the gate closure of this event would already have passed.")
    return errors


def bid_errors(
    rules: ProgramRules, offers: Sequence[IntervalOffer], *, event_start: datetime, event_end: datetime
) -> dict[str, str]:
    """Check a bid's intervals against the rules: inside the event window, one per settlement interval, no
    duplicates, each quantity either 0 or ≥ the minimum bid and a multiple of the granularity, prices ≤ cap."""
    errors: dict[str, str] = {}
    if not offers:
        return {"intervals": "a bid needs at least one interval."}
    step = timedelta(minutes=rules.settlement_interval_minutes)
    seen: set[datetime] = set()
    for i, offer in enumerate(offers):
        path = f"intervals[{i}]"
        if offer.start < event_start or offer.end > event_end:
            errors[f"{path}.start"] = "interval lies outside the event window."
        elif offer.end - offer.start != step or (offer.start - event_start) % step:
            errors[f"{path}.start"] = (
                f"intervals must be the program's {rules.settlement_interval_minutes}-minute settlement intervals."
            )
        elif offer.start in seen:
            errors[f"{path}.start"] = "duplicate interval."
        seen.add(offer.start)
        q = offer.quantity_kw
        if q < 0:
            errors[f"{path}.quantity_kw"] = "quantity must not be negative."
        elif q > EPS and q < rules.min_bid_kw - EPS:
            errors[f"{path}.quantity_kw"] = f"{q:g} kW is below the minimum bid of {rules.min_bid_kw:g} kW."
        elif abs(q / rules.bid_granularity_kw - round(q / rules.bid_granularity_kw)) > 1e-6:
            errors[f"{path}.quantity_kw"] = (
                f"{q:g} kW is not a multiple of the {rules.bid_granularity_kw:g} kW granularity."
            )
        if rules.price_cap_per_mwh is not None and offer.price_per_mwh > rules.price_cap_per_mwh + EPS:
            errors[f"{path}.price_per_mwh"] = (
                f"price {offer.price_per_mwh:g} exceeds the cap of {rules.price_cap_per_mwh:g} per MWh."
            )
    return errors


def event_request_errors(rules: ProgramRules, *, requested_kw: float) -> dict[str, str]:
    """Check the power an event asks for: a finite number of kW, more than 0, and at least the program's minimum
    bid (``min_bid_kw``: a smaller call could not be met by any bid the program admits, see :func:`bid_errors`).

    Programs carry no upper bound on an event's request (no cap field on ``Program``), so none is checked here.
    """
    if not math.isfinite(requested_kw):
        return {"requested_kw": f"{requested_kw} is not a finite number of kW."}
    if requested_kw <= 0:
        return {"requested_kw": f"an event must request more than 0 kW ({requested_kw:g} kW given)."}
    if requested_kw < rules.min_bid_kw - EPS:
        return {
            "requested_kw": (
                f"{requested_kw:g} kW is below the program's minimum bid of {rules.min_bid_kw:g} kW "
                "(rule min_bid_kw): no admissible bid could answer it."
            )
        }
    return {}
