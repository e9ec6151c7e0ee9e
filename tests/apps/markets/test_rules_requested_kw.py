"""The rule on an event's requested power (apps.markets.rules.event_request_errors), hand-checked, and that the
service applies it for every caller (not only the API)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.principal import principal_for
from apps.markets import services
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.models import Event
from apps.markets.rules import ProgramRules, event_request_errors
from tests.conftest import World
from tests.factories import zone

from .conftest import next_slot

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


@pytest.mark.parametrize("kw", [100, 100 - 1e-9, 150.5, 1e6])
def test_at_least_the_minimum_bid_is_accepted(kw: float) -> None:
    assert event_request_errors(RULES, requested_kw=kw) == {}


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        (
            99.9,
            "99.9 kW is below the program's minimum bid of 100 kW (rule min_bid_kw): no admissible bid could",
        ),
        (0, "an event must request more than 0 kW (0 kW given)."),
        (-5, "an event must request more than 0 kW (-5 kW given)."),
        (math.inf, "inf is not a finite number of kW."),
        (math.nan, "nan is not a finite number of kW."),
    ],
)
def test_below_the_minimum_or_not_a_power_is_refused_naming_the_rule(kw: float, reason: str) -> None:
    errors = event_request_errors(RULES, requested_kw=kw)
    assert list(errors) == ["requested_kw"] and errors["requested_kw"].startswith(reason)


def test_a_program_without_minimum_still_needs_a_positive_request() -> None:
    free = ProgramRules(**{**RULES.__dict__, "min_bid_kw": 0.0})
    assert event_request_errors(free, requested_kw=1) == {}
    assert "more than 0 kW" in event_request_errors(free, requested_kw=0)["requested_kw"]


def test_the_service_refuses_for_every_caller(world: World) -> None:
    program = program_from_template(operator=world.operator, zone=zone(), template=CATALOGUE["ercot-ers-10"])
    start = next_slot(4)
    with pytest.raises(ValidationError) as caught:
        services.event_announce(
            principal=principal_for(world.users["operator"]),
            program=program,
            start=start,
            end=start + timedelta(hours=1),
            requested_kw=program.min_bid_kw / 2,
        )
    assert set(caught.value.message_dict) == {"requested_kw"}
    assert "min_bid_kw" in caught.value.message_dict["requested_kw"][0]
    assert not Event.objects.exists()
