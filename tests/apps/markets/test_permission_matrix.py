"""Permission matrix of the markets API: every endpoint × method × persona."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apps.core import clock
from apps.markets import services
from apps.markets.catalogue import CATALOGUE, program_from_template
from apps.markets.choices import EventStatus
from apps.markets.models import Activation, Event
from apps.markets.rules import IntervalOffer
from tests.conftest import PERSONAS, World
from tests.factories import zone

from .conftest import next_slot

Setup = Callable[[World], tuple[str, dict[str, Any] | None]]
STEP = timedelta(minutes=15)


def _event(world: World, status: str = EventStatus.ANNOUNCED, with_bid: bool = False) -> Event:
    program = program_from_template(
        operator=world.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
    )
    start = next_slot(4)
    event = Event.objects.create(
        program=program,
        start=start,
        end=start + timedelta(hours=1),
        requested_kw=1000,
        gate_closure_at=start - timedelta(hours=1),
        announced_at=clock.now(),
        status=EventStatus.ANNOUNCED,
    )
    if with_bid:
        offers = [IntervalOffer(start + i * STEP, start + (i + 1) * STEP, 500, 100) for i in range(4)]
        services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers, submit=False)
    if status != EventStatus.ANNOUNCED:
        Event.objects.filter(pk=event.pk).update(
            status=status, gate_closure_at=clock.now() - timedelta(minutes=1)
        )
        event.refresh_from_db()
    return event


def program_body() -> dict[str, Any]:
    return {
        "zone": "ERCOT_HUB",
        "code": "new-prog",
        "name": "New",
        "product": "peak_shaving",
        "min_bid_kw": 100,
    }


def ev(
    status: str = EventStatus.ANNOUNCED, suffix: str = "", body: Any = None, with_bid: bool = False
) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        event = _event(world, status, with_bid)
        payload = body(event) if callable(body) else body
        return f"/api/v1/market/events/{event.pk}/{suffix}", payload

    return setup


def award_body(event: Event) -> dict[str, Any]:
    bid = event.bids.get()
    bid.status = "submitted"
    bid.save()
    return {
        "bid": bid.pk,
        "clearing_price_per_mwh": 90,
        "intervals": [{"start": event.start.isoformat(), "awarded_kw": 400}],
    }


def activation(world: World) -> Activation:
    event = _event(world, EventStatus.ACTIVE)
    return Activation.objects.create(
        event=event, operator=world.operator, activation_id="a1", start=event.start, kw=10
    )


def activation_end(world: World) -> tuple[str, dict[str, Any] | None]:
    act = activation(world)
    return f"/api/v1/market/activations/{act.pk}/end/", {
        "end": (act.start + timedelta(minutes=30)).isoformat()
    }


def program_detail(body: dict[str, Any] | None = None) -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        program = program_from_template(
            operator=world.operator, zone=zone(), template=CATALOGUE["ercot-ers-10"]
        )
        return f"/api/v1/market/programs/{program.pk}/", body

    return setup


def bid_detail(suffix: str = "") -> Setup:
    def setup(world: World) -> tuple[str, dict[str, Any] | None]:
        event = _event(world, with_bid=True)
        return f"/api/v1/bids/{event.bids.get().pk}/{suffix}", None

    return setup


OPERATOR_ONLY_READ = (403, 403, 403, 200, 401)
OPERATOR_ONLY_WRITE = (403, 403, 403, 200, 401)

MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("market-program-list", "get"): (lambda w: ("/api/v1/market/programs/", None), OPERATOR_ONLY_READ),
    ("market-program-list", "post"): (
        lambda w: ("/api/v1/market/programs/", program_body()),
        (403, 403, 403, 201, 401),
    ),
    ("market-program-detail", "get"): (program_detail(), OPERATOR_ONLY_READ),
    ("market-program-detail", "put"): (program_detail(program_body()), OPERATOR_ONLY_WRITE),
    ("market-program-detail", "patch"): (program_detail({"min_bid_kw": 200}), OPERATOR_ONLY_WRITE),
    ("market-event-list", "get"): (lambda w: ("/api/v1/market/events/", None), OPERATOR_ONLY_READ),
    ("market-event-list", "post"): (
        lambda w: (
            "/api/v1/market/events/",
            {
                "program": program_from_template(
                    operator=w.operator, zone=zone(), template=CATALOGUE["caiso-pdr-peak"]
                ).pk,
                "start": next_slot(4).isoformat(),
                "end": (next_slot(4) + timedelta(hours=1)).isoformat(),
                "requested_kw": 500,
            },
        ),
        (403, 403, 403, 201, 401),
    ),
    ("market-event-detail", "get"): (ev(), OPERATOR_ONLY_READ),
    ("market-event-cancel", "post"): (ev(suffix="cancel/", body={"reason": "grid ok"}), OPERATOR_ONLY_WRITE),
    ("market-event-close-gate", "post"): (
        ev(suffix="close-gate/"),
        (403, 403, 403, 409, 401),
    ),  # before gate-closure time
    ("market-event-bids", "get"): (ev(EventStatus.GATE_CLOSED, "bids/"), OPERATOR_ONLY_READ),
    ("market-event-awards", "post"): (
        ev(EventStatus.GATE_CLOSED, "awards/", award_body, with_bid=True),
        (403, 403, 403, 201, 401),
    ),
    ("market-event-activations", "post"): (
        ev(
            EventStatus.AWARDED,
            "activations/",
            lambda e: {"activation_id": "z", "start": e.start.isoformat(), "kw": 5},
        ),
        (403, 403, 403, 201, 401),
    ),
    ("market-activation-list", "get"): (lambda w: ("/api/v1/market/activations/", None), OPERATOR_ONLY_READ),
    ("market-activation-detail", "get"): (
        lambda w: (f"/api/v1/market/activations/{activation(w).pk}/", None),
        OPERATOR_ONLY_READ,
    ),
    ("market-activation-end", "post"): (activation_end, (403, 403, 403, 200, 401)),
    ("event-list", "get"): (lambda w: ("/api/v1/events/", None), (200, 200, 200, 200, 401)),
    ("event-detail", "get"): (lambda w: (f"/api/v1/events/{_event(w).pk}/", None), (200, 200, 200, 200, 401)),
    ("bid-list", "get"): (lambda w: ("/api/v1/bids/", None), (200, 200, 200, 200, 401)),
    ("bid-detail", "get"): (
        bid_detail(),
        (200, 404, 404, 404, 401),
    ),  # sealed for the operator before gate closure
    ("bid-submit", "post"): (bid_detail("submit/"), (200, 404, 404, 404, 401)),
}

CASES = [(name, method, persona, i) for (name, method) in MATRIX for i, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("name", "method", "persona", "index"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_permission_matrix(world: World, api_as, name: str, method: str, persona: str, index: int) -> None:  # type: ignore[no-untyped-def]
    setup, expected = MATRIX[(name, method)]
    url, body = setup(world)
    response = getattr(api_as(persona), method)(url, body, format="json")
    assert response.status_code == expected[index], (url, persona, response.content[:300])


# Expected status of the site VEN persona (an OpenADR VEN API client of owner A, bound to one site of A; bearer
# token) for each MATRIX row: like a site owner: no market-operator API; the aggregator's bids stay sealed (404). tests/reliability/test_access_matrix.py runs these and fails for a
# MATRIX row without one.
SITE_VEN: dict[tuple[str, str], int] = {
    ("market-program-list", "get"): 403,
    ("market-program-list", "post"): 403,
    ("market-program-detail", "get"): 403,
    ("market-program-detail", "put"): 403,
    ("market-program-detail", "patch"): 403,
    ("market-event-list", "get"): 403,
    ("market-event-list", "post"): 403,
    ("market-event-detail", "get"): 403,
    ("market-event-cancel", "post"): 403,
    ("market-event-close-gate", "post"): 403,
    ("market-event-bids", "get"): 403,
    ("market-event-awards", "post"): 403,
    ("market-event-activations", "post"): 403,
    ("market-activation-list", "get"): 403,
    ("market-activation-detail", "get"): 403,
    ("market-activation-end", "post"): 403,
    ("event-list", "get"): 200,
    ("event-detail", "get"): 200,
    ("bid-list", "get"): 200,
    ("bid-detail", "get"): 404,
    ("bid-submit", "post"): 404,
}
