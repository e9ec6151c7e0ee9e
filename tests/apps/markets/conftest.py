"""Fixtures for markets: a program of the operator persona, a second operator, time travel via the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from apps.accounts.choices import OrganisationKind, Role
from apps.core import clock
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.models import Program
from tests.conftest import World
from tests.factories import MembershipFactory, OrganisationFactory, zone


@pytest.fixture
def program(world: World) -> Program:
    return program_from_template(
        operator=world.operator, zone=zone("CAISO_NP15"), template=CATALOGUE["caiso-pdr-peak"]
    )


@pytest.fixture
def other_operator(world: World):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(name="Operator 2", slug="operator-2", kind=OrganisationKind.MARKET_OPERATOR)
    return MembershipFactory(organisation=org, role=Role.ADMIN, user__username="operator2").user


@pytest.fixture
def travel():  # type: ignore[no-untyped-def]
    """``travel(to)`` moves the product clock to ``to`` (simulated, speed 1); the wall clock is restored after."""

    def go(to: datetime) -> None:
        clock.replay_start(sim_start=to, speed=1.0)

    yield go
    clock.replay_stop()


def next_slot(hours: float = 4) -> datetime:
    """A 15-minute-aligned time ``hours`` from now."""
    return clock.floor_to(clock.now() + timedelta(hours=hours), timedelta(minutes=15))
