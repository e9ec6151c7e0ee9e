"""The overview's flexibility tile: the chart and the figures now are the markets selector's, per zone and for
the portfolio; staff only (the tile sits on a staff page and the selector refuses everyone else)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from apps.accounts.principal import principal_for
from apps.assets.choices import EnrolmentStatus
from apps.core import clock
from apps.markets.flexibility_view import portfolio_flexibility, portfolio_flexibility_refresh
from tests.conftest import World
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory, zone


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def _spec(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no spec {chart_id}"
    return json.loads(match.group(1))


def test_overview_shows_the_selectors_flexibility(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    for code, kwh in (("CAISO_NP15", 3000.0), ("ERCOT_HUB", 1000.0)):
        site = SiteFactory(
            owner=world.owner_a, market_zone=zone(code), enrolment_status=EnrolmentStatus.ACTIVE
        )
        WorkloadClassFactory(site=site, share_pct=40, max_delay_h=4.0)
        BatteryFactory(site=site, energy_capacity_kwh=kwh, max_charge_kw=kwh / 2, max_discharge_kw=kwh / 2)
    portfolio_flexibility_refresh(at=clock.now())  # what the beat task does
    html = page_as("staff").get("/overview/").content.decode()
    expected = portfolio_flexibility(principal=principal_for(world.users["staff"]))  # the cached figures
    assert expected is not None
    spec = _spec(html, "chart-flexibility")
    assert "empty" not in spec and spec["step_s"] == 3600 and len(spec["t"]) == 24
    by_name = {s["name"]: s["values"] for s in spec["series"]}
    assert by_name["Down: reduction holdable for 1 h"] == pytest.approx(expected.total.down_kw, abs=1e-3)
    assert by_name["Up: increase holdable for 1 h"] == pytest.approx(expected.total.up_kw, abs=1e-3)
    assert spec["t"][0] == int(expected.hours[0].timestamp() * 1000)
    assert expected.total.down_now_kw > 0
    for z in expected.zones:
        row = re.search(rf'<tr data-zone="{z.scope}">(.*?)</tr>', html, re.S)
        assert row and f"{z.down_now_kw / 1000:,.1f} MW" in row.group(1)
    assert f'data-kpi="flex-down-now">{expected.total.down_now_kw / 1000:,.1f} MW<' in html
    assert "No flexibility view yet" not in html
    assert f"computed at {expected.computed_at:%Y-%m-%d %H:%M} UTC" in html


def test_overview_on_a_cold_cache_says_it_is_being_computed(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE)
    html = page_as("staff").get("/overview/").content.decode()
    assert "No flexibility view yet: it is being computed" in html
    assert _spec(html, "chart-flexibility")["empty"] == "Being computed in the background."
    assert 'data-table="flexibility"' not in html


def test_overview_without_active_sites_says_so(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED)
    portfolio_flexibility_refresh(at=clock.now())
    html = page_as("staff").get("/overview/").content.decode()
    assert _spec(html, "chart-flexibility")["empty"] == "No active site: no flexibility to offer."
    assert 'data-table="flexibility"' not in html


@pytest.mark.parametrize("persona", ["owner_a", "operator"])
def test_others_cannot_open_the_overview(world: World, page_as, persona: str) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE)
    response = page_as(persona).get("/overview/")
    assert response.status_code == 403
    assert "chart-flexibility" not in response.content.decode()


def test_the_table_shows_the_charts_peak(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(
        owner=world.owner_a, market_zone=zone("CAISO_NP15"), enrolment_status=EnrolmentStatus.ACTIVE
    )
    WorkloadClassFactory(site=site, share_pct=40, max_delay_h=4.0)
    BatteryFactory(site=site, energy_capacity_kwh=2000.0, max_charge_kw=1000.0, max_discharge_kw=1000.0)
    portfolio_flexibility_refresh(at=clock.now())  # what the beat task does
    html = page_as("staff").get("/overview/").content.decode()
    spec = _spec(html, "chart-flexibility")
    by_name = {s["name"]: s["values"] for s in spec["series"]}
    up_peak = max(v for v in by_name["Up: increase holdable for 1 h"] if v is not None)
    down_peak = max(v for v in by_name["Down: reduction holdable for 1 h"] if v is not None)
    assert f'data-kpi="flex-up-peak">{up_peak / 1000:,.1f} MW<' in html
    assert f'data-kpi="flex-down-peak">{down_peak / 1000:,.1f} MW<' in html
