"""Filters of the markets list endpoints narrow the caller's list; they never widen it past the caller's scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from apps.accounts.principal import principal_for
from apps.core import clock
from apps.markets import services
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.choices import BidStatus, EventStatus
from apps.markets.models import Activation, Event, Program
from apps.markets.rules import IntervalOffer
from tests.conftest import World
from tests.factories import zone

from .conftest import next_slot

STEP = timedelta(minutes=15)


def _event(program: Program, hours_ahead: float, status: str = EventStatus.ANNOUNCED) -> Event:
    start = next_slot(hours_ahead)
    return Event.objects.create(
        program=program,
        start=start,
        end=start + timedelta(hours=1),
        requested_kw=1000,
        gate_closure_at=start - timedelta(hours=1),
        announced_at=clock.now(),
        status=status,
    )


@pytest.fixture
def market(world: World, other_operator):  # type: ignore[no-untyped-def]
    caiso = program_from_template(
        operator=world.operator, zone=zone("CAISO_NP15"), template=CATALOGUE["caiso-pdr-peak"]
    )
    ercot = program_from_template(
        operator=world.operator, zone=zone("ERCOT_HUB"), template=CATALOGUE["ercot-ers-10"]
    )
    theirs = program_from_template(
        operator=principal_for(other_operator).organisation,
        zone=zone("ERCOT_HUB"),
        template=CATALOGUE["ercot-ers-30"],
    )
    events = {
        "caiso_soon": _event(caiso, 4),
        "caiso_later": _event(caiso, 30),
        "ercot_cancelled": _event(ercot, 6, EventStatus.CANCELLED),
        "theirs": _event(theirs, 4),
    }
    return {"caiso": caiso, "ercot": ercot, "theirs": theirs, **events}


def _ids(client: APIClient, url: str, **params: object) -> set[int]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_event_filters_narrow_the_operators_events(api_as, market) -> None:  # type: ignore[no-untyped-def]
    operator = api_as("operator")
    url = "/api/v1/market/events/"
    everything = _ids(operator, url)
    assert everything == {market[k].pk for k in ("caiso_soon", "caiso_later", "ercot_cancelled")}
    assert _ids(operator, url, zone="ERCOT_HUB") == {market["ercot_cancelled"].pk}
    assert _ids(operator, url, status=EventStatus.ANNOUNCED) == {
        market["caiso_soon"].pk,
        market["caiso_later"].pk,
    }
    assert _ids(operator, url, program=market["caiso"].pk) == {
        market["caiso_soon"].pk,
        market["caiso_later"].pk,
    }
    soon = market["caiso_soon"]
    window = {
        "window_start": soon.start.isoformat(),
        "window_end": (soon.end + timedelta(hours=3)).isoformat(),
    }
    assert _ids(operator, url, **window) == {soon.pk, market["ercot_cancelled"].pk}
    assert _ids(operator, url, zone="CAISO_NP15", **window) == {soon.pk}


def test_event_filters_keep_the_operator_scope(api_as, market) -> None:  # type: ignore[no-untyped-def]
    operator = api_as("operator")
    # another operator's zone and program: the filter applies inside the caller's own events only
    assert market["ercot_cancelled"].pk in _ids(operator, "/api/v1/market/events/", zone="ERCOT_HUB")
    assert market["theirs"].pk not in _ids(operator, "/api/v1/market/events/", zone="ERCOT_HUB")
    assert _ids(operator, "/api/v1/market/events/", program=market["theirs"].program_id) == set()
    # the public event list shows every program's events; its filters narrow it the same way
    public = _ids(api_as("owner_a"), "/api/v1/events/", zone="ERCOT_HUB")
    assert public == {market["ercot_cancelled"].pk, market["theirs"].pk}


def test_a_malformed_filter_is_a_400_naming_it(api_as, market) -> None:  # type: ignore[no-untyped-def]
    response = api_as("operator").get("/api/v1/market/events/", {"window_start": "yesterday"})
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["window_start"]


def test_bid_filters_narrow_the_aggregators_bids(world: World, api_as, market) -> None:  # type: ignore[no-untyped-def]
    bids = {}
    for key in ("caiso_soon", "caiso_later", "theirs"):
        event = market[key]
        offers = [
            IntervalOffer(event.start + i * STEP, event.start + (i + 1) * STEP, 500, 100) for i in range(4)
        ]
        bids[key] = services.bid_save(
            event=event, bidder_id=world.aggregator.pk, offers=offers, submit=key == "caiso_later"
        )
    staff = api_as("staff")
    assert _ids(staff, "/api/v1/bids/") == {b.pk for b in bids.values()}
    assert _ids(staff, "/api/v1/bids/", event=market["caiso_soon"].pk) == {bids["caiso_soon"].pk}
    assert _ids(staff, "/api/v1/bids/", status=BidStatus.SUBMITTED) == {bids["caiso_later"].pk}
    assert _ids(staff, "/api/v1/bids/", program=market["caiso"].pk) == {
        bids["caiso_soon"].pk,
        bids["caiso_later"].pk,
    }
    # a site owner sees no bids whatever it filters by
    assert _ids(api_as("owner_a"), "/api/v1/bids/", event=market["caiso_soon"].pk) == set()


def test_activation_filters_narrow_by_program_and_window(world: World, api_as, market) -> None:  # type: ignore[no-untyped-def]
    soon, later = market["caiso_soon"], market["caiso_later"]
    first = Activation.objects.create(
        event=soon, operator=world.operator, activation_id="a1", start=soon.start, kw=500
    )
    second = Activation.objects.create(
        event=later, operator=world.operator, activation_id="a2", start=later.start, end=later.end, kw=500
    )
    operator = api_as("operator")
    url = "/api/v1/market/activations/"
    assert _ids(operator, url) == {first.pk, second.pk}
    assert _ids(operator, url, event=soon.pk) == {first.pk}
    assert _ids(operator, url, window_end=(soon.end + timedelta(hours=1)).isoformat()) == {first.pk}
    # an open activation (no end yet) runs on: it is in every window after its start
    assert _ids(operator, url, window_start=(later.end + timedelta(hours=1)).isoformat()) == {first.pk}
    assert _ids(api_as("operator"), url, program=market["theirs"].pk) == set()
