"""The event page's closed-loop table says what a check found from its stored figures: a shortfall beyond the
re-dispatch tolerance is never "within tolerance", even in the last interval where nothing can be re-dispatched."""

from __future__ import annotations

from apps.dispatch.models import DeliveryCheck
from apps.dispatch.selectors import check_outcome


def _check(planned_kw: float, metered_kw: float | None, shortfall_kw: float, action: str) -> DeliveryCheck:
    return DeliveryCheck(
        planned_kw=planned_kw, metered_kw=metered_kw, shortfall_kw=shortfall_kw, action=action
    )


def test_a_large_shortfall_in_the_last_interval_is_reported_as_a_shortfall() -> None:
    # the regulation hour of the replay: 2,514 kW short, stored with the action "within tolerance"
    outcome = check_outcome(_check(2000.0, -514.0, 2514.0, "within tolerance"))
    assert outcome == "short by 2,514 kW; last interval: nothing left to re-dispatch"


def test_tolerance_is_five_percent_or_100_kw() -> None:
    assert (
        check_outcome(_check(4000.0, 3800.0, 200.0, "within tolerance")) == "within tolerance"
    )  # 5 % of 4,000
    assert (
        check_outcome(_check(1000.0, 920.0, 80.0, "within tolerance")) == "within tolerance"
    )  # 100 kW floor
    assert check_outcome(_check(1000.0, 850.0, 150.0, "within tolerance")).startswith("short by 150 kW")


def test_a_re_dispatch_and_missing_meter_data_are_named() -> None:
    redispatched = check_outcome(_check(4000.0, 3000.0, 1000.0, "re-dispatched as plan v2"))
    assert redispatched == "short by 1,000 kW; re-dispatched as plan v2"
    assert check_outcome(_check(4000.0, None, 0.0, "no meter data yet")) == "no meter data yet"
