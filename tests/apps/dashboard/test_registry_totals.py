"""The overview's registry totals are cached under a fingerprint of the registry (issue #22): a repeat request
skips the four aggregates, and any create, edit, enrolment change or delete shows at once."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.principal import principal_for
from apps.assets.choices import EnrolmentStatus
from apps.assets.models import PVArray, Site
from apps.dashboard.summaries import PortfolioSummary, portfolio_summary
from tests.conftest import World
from tests.factories import BatteryFactory

from .portfolio_data import big_portfolio_bulk


def _figures(s: PortfolioSummary) -> dict:
    out = dataclasses.asdict(s)
    out["queue"] = [site.pk for site in s.queue]
    return out


def _summary_and_queries(world: World) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        summary = portfolio_summary(principal=principal_for(world.users["staff"]))
    return _figures(summary), len(queries)


def _uncached(world: World) -> dict:
    cache.clear()
    return _figures(portfolio_summary(principal=principal_for(world.users["staff"])))


@pytest.mark.django_db
def test_a_repeat_reads_the_cached_totals_and_every_change_shows(world: World) -> None:
    big_portfolio_bulk(40)
    cache.clear()
    first, cold = _summary_and_queries(world)
    again, warm = _summary_and_queries(world)
    assert again == first and warm == cold - 4  # the four aggregates skipped

    site = Site.objects.filter(enrolment_status=EnrolmentStatus.ACTIVE).first()
    assert site is not None
    BatteryFactory(site=site)
    after_battery, _ = _summary_and_queries(world)
    assert after_battery["battery_count"] == first["battery_count"] + 1
    assert after_battery == _uncached(world)

    site.enrolment_status = EnrolmentStatus.SUSPENDED
    site.save()
    _summary_and_queries(world)  # cache the new state
    after_status, _ = _summary_and_queries(world)
    assert after_status["status_counts"]["active"] == first["status_counts"]["active"] - 1
    assert after_status == _uncached(world)

    PVArray.objects.filter(site__enrolment_status=EnrolmentStatus.ACTIVE).first().delete()  # type: ignore[union-attr]
    after_delete, _ = _summary_and_queries(world)
    assert after_delete["pv_count"] == after_status["pv_count"] - 1
    assert after_delete == _uncached(world)
