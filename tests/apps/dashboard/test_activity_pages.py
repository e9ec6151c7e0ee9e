"""The activity pages read the dispatch, settlement and forecast records, each scoped to the caller: the site
page's operation charts, the event list and event page, the revenue page and the forecast accuracy page.

Figures come from the hand-computed settlement scenario (see activity_data.py): owner A's site delivered 300 kW
and is paid 28.80, owner B's 100 kW and 8.00, the market paid 48.00 in all.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from apps.accounts.principal import principal_for
from apps.dashboard import accuracy
from apps.telemetry.choices import IT_DEMAND_SERIES
from tests.conftest import World
from tests.factories import MembershipFactory, OrganisationFactory

from .activity_data import (
    FORECAST_BIAS_KW,
    TREND_KW_PER_DAY,
    Activity,
    settled_event,
    trending_load,
)


@pytest.fixture
def activity(world: World) -> Activity:
    return settled_event(world)


def chart(html: str, chart_id: str) -> dict[str, Any]:
    """The JSON spec of ``chart_id`` embedded in a page."""
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no chart {chart_id}"
    return json.loads(match.group(1))


def series_named(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in spec["series"] if s["name"] == name)


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


# --- site page ------------------------------------------------------------------------------------------------


def test_site_page_draws_actuals_forecast_band_and_setpoints(
    world: World, activity: Activity, page_as
) -> None:  # type: ignore[no-untyped-def]
    trending_load(activity.site_a)
    html = page(page_as("staff"), f"/sites/{activity.site_a.pk}/?period=7d")
    load = chart(html, "chart-load")
    forecast = series_named(load, "IT power served (metered) forecast (p50, p10–p90 band)")
    actual = series_named(load, "IT power served (metered)")
    both = [
        (a, f, lo, hi)
        for a, f, lo, hi in zip(
            actual["values"], forecast["values"], forecast["lower"], forecast["upper"], strict=True
        )
        if a is not None and f is not None
    ]
    assert len(both) == 2 * 96  # two forecast days at 15 minutes
    assert all(
        f - a == pytest.approx(FORECAST_BIAS_KW) and hi - lo == pytest.approx(400.0) for a, f, lo, hi in both
    )
    grid = chart(html, "chart-grid")
    setpoint = series_named(grid, "Setpoint: planned grid power")
    assert [v for v in setpoint["values"] if v is not None] == [700.0] * 4  # the event's four intervals
    metered = series_named(grid, "Grid power (metered)")
    assert 700.0 in metered["values"] and 1000.0 in metered["values"]
    assert grid["markArea"] and grid["markArea"][0][1] - grid["markArea"][0][0] == 3_600_000  # the 1-h event


def test_site_page_period_resamples_a_long_window(world: World, activity: Activity, page_as) -> None:  # type: ignore[no-untyped-def]
    html = page(page_as("owner_a"), f"/sites/{activity.site_a.pk}/?period=1y")
    grid = chart(html, "chart-grid")
    assert grid["step_s"] == 86400 and len(grid["t"]) <= 366
    assert 'aria-current="true">1y' in html
    # an unknown period falls back to the default rather than failing
    assert (
        chart(page(page_as("owner_a"), f"/sites/{activity.site_a.pk}/?period=bogus"), "chart-grid")["step_s"]
        == 900
    )


def test_site_page_without_telemetry_says_so(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import SiteFactory

    site = SiteFactory(owner=world.owner_a, enrolment_status="active")
    html = page(page_as("owner_a"), f"/sites/{site.pk}/")
    assert "Nothing metered at this site yet." in html and "chart-load" not in html


# --- events --------------------------------------------------------------------------------------------------


def test_event_list_shows_each_caller_its_own_figures(world: World, activity: Activity, page_as) -> None:  # type: ignore[no-untyped-def]
    event = activity.event.pk
    staff = page(page_as("staff"), "/events/")
    row = re.search(rf'<tr data-event="{event}">(.*?)</tr>', staff, re.S).group(1)  # type: ignore[union-attr]
    assert "400 kWh" in row and "48.00 USD" in row and "1 / 2 delivered" in row
    owner_a = re.search(rf'<tr data-event="{event}">(.*?)</tr>', page(page_as("owner_a"), "/events/"), re.S)
    assert owner_a and "300 kWh" in owner_a.group(1) and "28.80 USD" in owner_a.group(1)
    assert "48.00" not in owner_a.group(1) and "1 / 1 delivered" in owner_a.group(1)
    owner_b = re.search(rf'<tr data-event="{event}">(.*?)</tr>', page(page_as("owner_b"), "/events/"), re.S)
    assert owner_b and "100 kWh" in owner_b.group(1) and "8.00 USD" in owner_b.group(1)
    assert chart(staff, "chart-events")["series"][1]["values"] == [400.0]


def test_event_page_for_staff_shows_the_portfolio(world: World, activity: Activity, page_as) -> None:  # type: ignore[no-untyped-def]
    html = page(page_as("staff"), f"/events/{activity.event.pk}/")
    intervals = chart(html, "chart-intervals")
    assert [s["name"] for s in intervals["series"]] == ["Requested", "Bid", "Awarded", "Called", "Delivered"]
    assert [v for v in series_named(intervals, "Delivered")["values"] if v is not None] == [400.0] * 5
    baseline = chart(html, "chart-baseline")
    assert set(series_named(baseline, "Baseline")["values"]) == {1500.0}
    assert set(series_named(baseline, "Metered")["values"]) == {1100.0}
    contribution = chart(html, "chart-contribution")
    assert {s["name"]: s["values"] for s in contribution["series"]} == {
        "DC A": [300.0] * 4,
        "DC B": [100.0] * 4,
    }
    assert "48.00 USD" in html and "DC A" in html and "DC B" in html
    assert (
        "badge-delivery-acknowledged" in html
        and "badge-delivery-failed" in html
        and "connection refused" in html
    )


def test_event_page_for_an_owner_shows_only_its_sites_part(world: World, activity: Activity, page_as) -> None:  # type: ignore[no-untyped-def]
    html = page(page_as("owner_a"), f"/events/{activity.event.pk}/")
    assert "DC A" in html and "DC B" not in html
    assert "48.00" not in html and "Net market revenue" not in html and "connection refused" not in html
    intervals = chart(html, "chart-intervals")
    assert [s["name"] for s in intervals["series"]] == ["Awarded share", "Called share", "Delivered"]
    assert [v for v in series_named(intervals, "Awarded share")["values"] if v is not None] == [300.0] * 5
    assert set(series_named(chart(html, "chart-baseline"), "Metered")["values"]) == {700.0}
    assert [s["name"] for s in chart(html, "chart-contribution")["series"]] == ["DC A"]
    assert 'data-kpi="payout">28.80 USD' in html
    other = page(page_as("owner_b"), f"/events/{activity.event.pk}/")
    assert "DC B" in other and "DC A" not in other and 'data-kpi="payout">8.00 USD' in other


def test_an_owner_without_a_part_in_the_event_gets_404(world: World, activity: Activity) -> None:
    outsider = MembershipFactory(organisation=OrganisationFactory(kind="site_owner")).user
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/events/{activity.event.pk}/").status_code == 404
    assert f'data-event="{activity.event.pk}"' not in page(client, "/events/")
    assert "Nothing settled yet" in page(client, "/revenue/")


def test_unsettled_event_shows_the_planned_split(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import SiteFactory

    from .activity_data import dispatched_event

    site = SiteFactory(owner=world.owner_a, name="DC Planned", enrolment_status="active")
    event = dispatched_event(world, site)
    html = page(page_as("staff"), f"/events/{event.pk}/")
    assert "Not settled yet" in html and "DC Planned" in html and "not settled yet" in html
    assert "Planned reduction per site" in html


# --- revenue -------------------------------------------------------------------------------------------------


def test_revenue_page_is_scoped_to_the_callers_sites(world: World, activity: Activity, page_as) -> None:  # type: ignore[no-untyped-def]
    staff = page(page_as("staff"), "/revenue/")
    assert 'data-kpi="revenue-USD">48.00 USD' in staff and 'data-kpi="payout-USD">36.80 USD' in staff
    by_site = chart(staff, "chart-revenue-site-USD")
    assert by_site["categories"] == ["DC A", "DC B"]
    assert series_named(by_site, "Owner payout")["values"] == [28.8, 8.0]
    assert series_named(by_site, "Aggregator fee")["values"] == [7.2, 4.0]
    by_month = chart(staff, "chart-revenue-month-USD")
    assert by_month["categories"] == ["2026-07"] and by_month["series"][0]["values"] == [48.0]
    assert f"?owner={world.owner_a.pk}" in staff and f"?owner={world.owner_b.pk}" in staff

    owner_a = page(page_as("owner_a"), "/revenue/")
    assert 'data-kpi="payout-USD">28.80 USD' in owner_a and "DC B" not in owner_a and "48.00" not in owner_a
    assert chart(owner_a, "chart-revenue-site-USD")["categories"] == ["DC A"]
    assert "/api/v1/settlement/statements/2026-07/page/" in owner_a and "?owner=" not in owner_a
    owner_b = page(page_as("owner_b"), "/revenue/")
    assert 'data-kpi="payout-USD">8.00 USD' in owner_b and "DC A" not in owner_b and "28.80" not in owner_b


# --- forecast accuracy ---------------------------------------------------------------------------------------


def test_forecast_accuracy_against_baselines(world: World, activity: Activity) -> None:
    forecast_index = trending_load(activity.site_a)
    summary = accuracy.forecast_accuracy(principal=principal_for(world.users["staff"]))
    (result,) = summary.series
    assert result.series.site_id == activity.site_a.pk and result.intervals == len(forecast_index)
    assert result.scores["forecast"].mae == pytest.approx(FORECAST_BIAS_KW)
    assert result.scores["seasonal_naive"].mae == pytest.approx(7 * TREND_KW_PER_DAY)
    assert result.scores["persistence"].mae == pytest.approx(2 * TREND_KW_PER_DAY)
    assert result.skill_pct == pytest.approx(100 * (1 - FORECAST_BIAS_KW / (7 * TREND_KW_PER_DAY)))
    # a point forecast's pinball loss over p10/p50/p90 is half its MAE; the stored quantiles (p50 + 5, p10 − 195,
    # p90 + 205 around the actual) lose 0.1 × 195, 0.5 × 5 and 0.1 × 205 (Koenker & Bassett's ρ_τ)
    assert result.scores["persistence"].pinball == pytest.approx(TREND_KW_PER_DAY)
    assert result.scores["forecast"].pinball == pytest.approx((19.5 + 2.5 + 20.5) / 3)
    assert len(result.daily_mape) == 2


def test_served_it_power_is_not_scored_as_a_forecast_when_demand_is(world: World, activity: Activity) -> None:
    """The IT power a site served follows the plan: with a demand series beside it, only the demand is scored."""
    trending_load(activity.site_a)
    trending_load(activity.site_a, name=IT_DEMAND_SERIES)
    summary = accuracy.forecast_accuracy(principal=principal_for(world.users["staff"]))
    assert [r.label for r in summary.series] == ["DC A · IT demand as it arrives (kW)"]
    assert summary.series[0].series.name == IT_DEMAND_SERIES


def test_forecast_accuracy_page(world: World, activity: Activity, page_as) -> None:  # type: ignore[no-untyped-def]
    trending_load(activity.site_a)
    html = page(page_as("staff"), "/forecasts/?days=7")
    mape = chart(html, "chart-accuracy")
    assert mape["categories"] == ["DC A · IT power served, metered (kW)"]
    assert [s["name"] for s in mape["series"]] == list(accuracy.LABELS.values())
    assert mape["series"][1]["values"][0] > mape["series"][2]["values"][0] > mape["series"][0]["values"][0]
    assert chart(html, "chart-accuracy-daily")["step_s"] == 86400
    assert "DC A · IT power served, metered (kW)" in html and 'aria-current="true">7 days' in html
    assert page_as("owner_a").get("/forecasts/").status_code == 403


# --- overview links ------------------------------------------------------------------------------------------


def test_overview_and_portal_link_the_activity_pages(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    overview = page(page_as("staff"), "/overview/")
    for url in ("/events/", "/revenue/", "/forecasts/"):
        assert f'href="{url}"' in overview
    portal = page(page_as("owner_a"), "/portal/")
    assert 'href="/events/"' in portal and 'href="/revenue/"' in portal and 'href="/forecasts/"' not in portal
