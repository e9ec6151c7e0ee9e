"""The activity pages in a real browser: the site page's operation charts, an event page, the event list, the
revenue page and the forecast accuracy page draw non-empty charts at desktop and phone width for staff, and an
owner's event page shows only its own site. Screenshots of each go to test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.models import Organisation
from tests.apps.dashboard.activity_data import Activity, settled_event, trending_load
from tests.conftest import World

from .conftest import PHONE, screenshot
from .test_dashboard import drawn_chart, fits_width

pytestmark = pytest.mark.slow


@pytest.fixture
def activity(demo) -> Activity:  # type: ignore[no-untyped-def]
    """The settled two-owner event of the dashboard tests, between the demo's organisations, and a forecast."""
    northwind = demo.sites["sj1"].owner
    helios = demo.sites["ash1"].owner
    world = World(
        aggregator=Organisation.objects.get(kind="aggregator"),
        owner_a=northwind,
        owner_b=helios,
        operator=Organisation.objects.get(kind="market_operator"),
        users={},
    )
    made = settled_event(world)
    trending_load(made.site_a)
    return made


def _pages(activity: Activity) -> dict[str, tuple[str, list[str]]]:
    return {
        "site-operation": (f"/sites/{activity.site_a.pk}/?period=7d", ["chart-load", "chart-grid"]),
        "event": (
            f"/events/{activity.event.pk}/",
            ["chart-intervals", "chart-baseline", "chart-contribution"],
        ),
        "events": ("/events/", ["chart-events"]),
        "revenue": ("/revenue/", ["chart-revenue-month-USD", "chart-revenue-site-USD"]),
        "forecasts": ("/forecasts/", ["chart-accuracy", "chart-accuracy-daily"]),
    }


def test_staff_open_every_activity_page_with_drawn_charts(activity, open_page) -> None:  # type: ignore[no-untyped-def]
    desktop = open_page("staff")
    phone = open_page("staff", PHONE)
    for name, (url, chart_ids) in _pages(activity).items():
        desktop.goto(url)
        for chart_id in chart_ids:
            chart = drawn_chart(desktop, chart_id)
            assert chart["width"] > 300 and chart["ink"] > 2000, (name, chart_id, chart)
        screenshot(desktop, f"{name}-desktop")
        phone.goto(url)
        drawn_chart(phone, chart_ids[0])
        assert fits_width(phone), name
        screenshot(phone, f"{name}-phone")
    option = desktop.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"chart-accuracy\"]')).getOption()"
    )
    # one category per scored series, named by site and series (IT demand and IT power served differ)
    (category,) = option["xAxis"][0]["data"]
    assert category.startswith("DC A · ") and len(option["series"]) == 3
    assert desktop.js_errors == phone.js_errors == []


def test_owner_event_page_shows_only_its_site(activity, open_page) -> None:  # type: ignore[no-untyped-def]
    owner = open_page("owner_a")
    owner.goto(f"/events/{activity.event.pk}/")
    assert drawn_chart(owner, "chart-intervals")["ink"] > 2000
    assert "DC A" in owner.inner_text("main") and "DC B" not in owner.content()
    option: Any = owner.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"chart-contribution\"]')).getOption()"
    )
    assert [s["name"] for s in option["series"]] == ["DC A"]
    screenshot(owner, "event-owner-desktop")
    owner.goto("/revenue/")
    assert "DC B" not in owner.content()
    assert owner.goto("/forecasts/").status == 403
    assert owner.js_errors == []
