"""The full event life cycle through the API as the market-operator persona, and every illegal step (409)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.markets import services
from apps.markets.models import Activation, Bid, Event
from apps.markets.rules import IntervalOffer
from tests.conftest import World

from .conftest import next_slot

STEP = timedelta(minutes=15)


def announce(client, program, start, hours: int = 2, kw: float = 3000):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/market/events/",
        {
            "program": program.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=hours)).isoformat(),
            "requested_kw": kw,
        },
        format="json",
    )


def offers(event: Event, kw: float = 1000, price: float = 150) -> list[IntervalOffer]:
    starts = []
    t = event.start
    while t < event.end:
        starts.append(t)
        t += STEP
    return [IntervalOffer(s, s + STEP, kw, price) for s in starts]


@pytest.fixture
def op(api_as):  # type: ignore[no-untyped-def]
    return api_as("operator")


def test_full_life_cycle(world: World, op, program, travel) -> None:  # type: ignore[no-untyped-def]
    start = next_slot(4)
    created = announce(op, program, start)
    assert created.status_code == 201, created.content
    event = Event.objects.get(pk=created.json()["id"])
    assert event.gate_closure_at == start - timedelta(minutes=program.gate_closure_lead_minutes)
    assert event.status == "announced"

    bid = services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers(event), submit=True)
    # sealed before gate closure
    assert op.get(f"/api/v1/market/events/{event.pk}/bids/").status_code == 409

    travel(event.gate_closure_at + timedelta(seconds=1))
    closed = op.post(f"/api/v1/market/events/{event.pk}/close-gate/")
    assert closed.status_code == 200 and closed.json()["status"] == "gate_closed"
    bids = op.get(f"/api/v1/market/events/{event.pk}/bids/").json()
    assert [b["id"] for b in bids] == [bid.pk] and len(bids[0]["intervals"]) == 8

    award = op.post(
        f"/api/v1/market/events/{event.pk}/awards/",
        {
            "bid": bid.pk,
            "clearing_price_per_mwh": 180.0,
            "intervals": [{"start": o.start.isoformat(), "awarded_kw": 800} for o in offers(event)],
        },
        format="json",
    )
    assert award.status_code == 201, award.content
    event.refresh_from_db()
    bid.refresh_from_db()
    assert event.status == "awarded" and bid.status == "partially_accepted"

    travel(start)
    act = op.post(
        f"/api/v1/market/events/{event.pk}/activations/",
        {"activation_id": "act-1", "start": start.isoformat(), "kw": 800},
        format="json",
    )
    assert act.status_code == 201, act.content
    event.refresh_from_db()
    assert event.status == "active"

    ended = op.post(
        f"/api/v1/market/activations/{act.json()['id']}/end/",
        {"end": (start + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert ended.status_code == 200 and ended.json()["status"] == "ended"

    travel(event.end + timedelta(seconds=1))
    assert services.events_complete_finished() == 1
    event.refresh_from_db()
    assert event.status == "completed"


def test_bid_after_gate_closure_is_409(world: World, op, program, travel) -> None:  # type: ignore[no-untyped-def]
    event = Event.objects.get(pk=announce(op, program, next_slot(4)).json()["id"])
    travel(event.gate_closure_at)
    with pytest.raises(services.ConflictError, match="bids are no longer accepted"):
        services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers(event), submit=True)
    assert not Bid.objects.exists()


def test_award_before_gate_closure_is_409(world: World, op, program) -> None:  # type: ignore[no-untyped-def]
    event = Event.objects.get(pk=announce(op, program, next_slot(4)).json()["id"])
    bid = services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers(event), submit=True)
    r = op.post(
        f"/api/v1/market/events/{event.pk}/awards/",
        {
            "bid": bid.pk,
            "clearing_price_per_mwh": 100,
            "intervals": [{"start": event.start.isoformat(), "awarded_kw": 500}],
        },
        format="json",
    )
    assert r.status_code == 409 and "before gate closure" in r.json()["detail"]


def test_award_above_the_bid_is_409(world: World, op, program, travel) -> None:  # type: ignore[no-untyped-def]
    event = Event.objects.get(pk=announce(op, program, next_slot(4)).json()["id"])
    bid = services.bid_save(
        event=event, bidder_id=world.aggregator.pk, offers=offers(event, kw=1000), submit=True
    )
    travel(event.gate_closure_at)
    r = op.post(
        f"/api/v1/market/events/{event.pk}/awards/",
        {
            "bid": bid.pk,
            "clearing_price_per_mwh": 100,
            "intervals": [{"start": event.start.isoformat(), "awarded_kw": 1000.5}],
        },
        format="json",
    )
    assert r.status_code == 409 and "above the bid" in r.json()["detail"]
    event.refresh_from_db()
    assert event.status in ("announced", "gate_closed") and not hasattr(Bid.objects.get(pk=bid.pk), "award")


def test_activation_of_event_not_awarded_is_409(world: World, op, program, travel) -> None:  # type: ignore[no-untyped-def]
    start = next_slot(4)
    event = Event.objects.get(pk=announce(op, program, start).json()["id"])
    travel(event.gate_closure_at)
    r = op.post(
        f"/api/v1/market/events/{event.pk}/activations/",
        {"activation_id": "x", "start": start.isoformat(), "kw": 100},
        format="json",
    )
    assert r.status_code == 409 and "only awarded events" in r.json()["detail"]
    assert not Activation.objects.exists()


def test_duplicate_activation_id_is_one_activation(world: World, op, program, travel) -> None:  # type: ignore[no-untyped-def]
    start = next_slot(4)
    event = Event.objects.get(pk=announce(op, program, start).json()["id"])
    bid = services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers(event), submit=True)
    travel(event.gate_closure_at)
    op.post(
        f"/api/v1/market/events/{event.pk}/awards/",
        {
            "bid": bid.pk,
            "clearing_price_per_mwh": 100,
            "intervals": [{"start": o.start.isoformat(), "awarded_kw": 1000} for o in offers(event)],
        },
        format="json",
    )
    body = {"activation_id": "same", "start": start.isoformat(), "kw": 1000}
    assert op.post(f"/api/v1/market/events/{event.pk}/activations/", body, format="json").status_code == 201
    again = op.post(f"/api/v1/market/events/{event.pk}/activations/", body, format="json")
    assert again.status_code == 409 and "duplicate activation id" in again.json()["detail"]
    assert Activation.objects.count() == 1


def test_award_twice_and_cancel_active_are_409(world: World, op, program, travel) -> None:  # type: ignore[no-untyped-def]
    start = next_slot(4)
    event = Event.objects.get(pk=announce(op, program, start).json()["id"])
    bid = services.bid_save(event=event, bidder_id=world.aggregator.pk, offers=offers(event), submit=True)
    travel(event.gate_closure_at)
    body = {
        "bid": bid.pk,
        "clearing_price_per_mwh": 100,
        "intervals": [{"start": event.start.isoformat(), "awarded_kw": 100}],
    }
    assert op.post(f"/api/v1/market/events/{event.pk}/awards/", body, format="json").status_code == 201
    assert op.post(f"/api/v1/market/events/{event.pk}/awards/", body, format="json").status_code == 409
    travel(start)
    op.post(
        f"/api/v1/market/events/{event.pk}/activations/",
        {"activation_id": "a", "start": start.isoformat(), "kw": 100},
        format="json",
    )
    r = op.post(f"/api/v1/market/events/{event.pk}/cancel/", {"reason": "late"}, format="json")
    assert r.status_code == 409 and "cannot cancel an event that is active" in r.json()["detail"]


def test_gate_cannot_close_early(world: World, op, program) -> None:  # type: ignore[no-untyped-def]
    event = Event.objects.get(pk=announce(op, program, next_slot(4)).json()["id"])
    r = op.post(f"/api/v1/market/events/{event.pk}/close-gate/")
    assert r.status_code == 409
    event.refresh_from_db()
    assert event.status == "announced"


@pytest.mark.parametrize(("offset_h", "hours", "field"), [(0.5, 2, "start"), (4, 5, "end"), (4, 0, "end")])
def test_event_window_rules(world: World, op, program, offset_h: float, hours: int, field: str) -> None:  # type: ignore[no-untyped-def]
    r = announce(op, program, next_slot(offset_h), hours=hours)
    assert r.status_code == 400
    assert field in {e["field"] for e in r.json()["errors"]}
    assert not Event.objects.exists()


def test_operators_are_scoped(world: World, op, program, other_operator, api_as) -> None:  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    event = Event.objects.get(pk=announce(op, program, next_slot(4)).json()["id"])
    other = APIClient()
    other.force_login(other_operator)
    assert other.get(f"/api/v1/market/events/{event.pk}/").status_code == 404
    assert other.get(f"/api/v1/market/programs/{program.pk}/").status_code == 404
    assert other.get("/api/v1/market/events/").json()["results"] == []
    assert announce(other, program, next_slot(4)).status_code == 400  # not its program
    assert Event.objects.count() == 1
    # the aggregator and owners see events (public), owners see no bids
    assert api_as("staff").get(f"/api/v1/events/{event.pk}/").status_code == 200
    assert api_as("owner_a").get("/api/v1/bids/").json()["results"] == []
    assert api_as("owner_a").get("/api/v1/market/events/").status_code == 403
