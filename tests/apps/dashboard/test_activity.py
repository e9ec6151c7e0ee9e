"""The overview's dispatch and revenue tiles read the dispatch and settlement records."""

from __future__ import annotations

from datetime import UTC, datetime

from django.test import Client

from apps.dispatch.models import DispatchPlan
from tests.conftest import World


def _staff(world: World) -> Client:
    client = Client()
    client.force_login(world.users["staff"])
    return client


def test_tiles_say_nothing_happened_yet(world: World) -> None:
    page = _staff(world).get("/overview/").content.decode()
    assert "Nothing dispatched yet." in page and "No settled events yet." in page


def test_dispatch_tile_counts_plans(world: World) -> None:
    DispatchPlan.objects.create(
        kind="schedule",
        version=1,
        requested_kw=0,
        planned_kw=0,
        valid_from=datetime(2022, 9, 6, 7, tzinfo=UTC),
    )
    page = _staff(world).get("/overview/").content.decode()
    assert "1 day-ahead schedule and 0 activation plans" in page
    assert "2022-09-06 07:00 UTC" in page
