"""What the pages show: portfolio figures on the overview (only active sites count), the enrolment queue,
the site page's assets and chart, and honest empty states for what later capabilities fill in."""

from __future__ import annotations

import json
import re

from apps.accounts.principal import principal_for
from apps.assets.choices import EnrolmentStatus
from apps.assets.models import EnrolmentTransition
from apps.dashboard.summaries import portfolio_summary
from apps.markets.choices import EventStatus
from tests.conftest import World
from tests.factories import (
    BatteryFactory,
    OrganisationFactory,
    PVArrayFactory,
    SiteFactory,
    WorkloadClassFactory,
    zone,
)

from .markets_data import event, program


def chart_spec(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no json_script {chart_id}"
    return json.loads(match.group(1))


def portfolio(world: World) -> None:
    active_a = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE, it_capacity_kw=12000)
    active_b = SiteFactory(
        owner=world.owner_b,
        enrolment_status=EnrolmentStatus.ACTIVE,
        it_capacity_kw=6000,
        market_zone=zone("PJM_DOM"),
    )
    SiteFactory(
        owner=world.owner_b, enrolment_status=EnrolmentStatus.SUBMITTED, it_capacity_kw=3000, name="Queued B"
    )
    SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.DRAFT, it_capacity_kw=99999)
    BatteryFactory(site=active_a, energy_capacity_kwh=4000, max_discharge_kw=2000)
    BatteryFactory(site=active_b, energy_capacity_kwh=1000, max_discharge_kw=500)
    PVArrayFactory(site=active_a, dc_capacity_kwp=800, ac_limit_kw=650)
    BatteryFactory(site=SiteFactory(owner=world.owner_a, name="draft with battery"), energy_capacity_kwh=7777)


def test_overview_figures_count_only_active_sites(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    portfolio(world)
    summary = portfolio_summary(principal=principal_for(world.users["staff"]))
    assert summary.active_sites == 2 and summary.active_it_kw == 18000
    assert [(z.zone, z.active_kw, z.pipeline_kw) for z in summary.zones] == [
        ("CAISO_NP15", 12000, 3000),
        ("PJM_DOM", 6000, 0),
    ]
    assert (summary.battery_energy_kwh, summary.battery_discharge_kw, summary.battery_count) == (
        5000,
        2500,
        2,
    )
    assert (summary.pv_dc_kwp, summary.pv_ac_kw, summary.pv_count) == (800, 650, 1)
    assert summary.status_counts == {
        "draft": 2,
        "submitted": 1,
        "approved": 0,
        "rejected": 0,
        "active": 2,
        "suspended": 0,
    }

    html = page_as("staff").get("/overview/").content.decode()
    zones = chart_spec(html, "chart-zones")
    assert zones["categories"] == ["CAISO_NP15", "PJM_DOM"]
    assert zones["series"][0] == {"name": "Active", "values": [12.0, 6.0]}
    assert "empty" not in zones
    status = chart_spec(html, "chart-status")
    assert status["series"][0]["values"] == [2, 1, 0, 0, 2, 0]
    assert 'data-kpi="enrolled-mw">18.0 MW<' in html
    assert 'data-kpi="battery-mwh">5.0 MWh<' in html
    assert "Queued B" in html
    for honest in ("No upcoming or active events.", "Nothing dispatched yet.", "No settled events yet."):
        assert honest in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/dashboard/charts.js" in html


def test_queue_lists_submitted_sites_oldest_first(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    first = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED, name="First")
    second = SiteFactory(owner=world.owner_b, enrolment_status=EnrolmentStatus.SUBMITTED, name="Second")
    SiteFactory(owner=world.owner_b, enrolment_status=EnrolmentStatus.APPROVED, name="Already approved")
    summary = portfolio_summary(principal=principal_for(world.users["staff"]))
    assert [s.pk for s in summary.queue] == [first.pk, second.pk]
    html = page_as("staff").get("/overview/").content.decode()
    queue = html[html.index('id="queue"') :]
    assert "First" in queue and "Second" in queue and "Already approved" not in queue
    assert 'name="reason"' in queue and "required" in queue


def test_empty_portfolio_says_so(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    html = page_as("staff").get("/overview/").content.decode()
    assert chart_spec(html, "chart-zones")["empty"] == "No site is active or in enrolment yet."
    assert "No site is waiting for approval." in html


def test_site_page_shows_assets_shares_and_history(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.SUBMITTED, it_capacity_kw=10000)
    WorkloadClassFactory(site=site, name="inference", kind="inference", share_pct=40, max_delay_h=None)
    WorkloadClassFactory(site=site, name="training", share_pct=35)
    BatteryFactory(site=site, name="UPS-1")
    PVArrayFactory(site=site, name="Roof-1")
    EnrolmentTransition.objects.create(
        site=site, from_status="draft", to_status="submitted", actor="user:owner_a", reason=""
    )
    html = page_as("staff").get(f"/sites/{site.pk}/").content.decode()
    shares = chart_spec(html, "chart-shares")
    assert shares["slices"] == [
        {"name": "inference", "value": 40.0},
        {"name": "training", "value": 35.0},
        {"name": "Not declared", "value": 25.0},
    ]
    for text in ("UPS-1", "Roof-1", "4,000", "by user:owner_a", "Owner A", "/approve/", "/reject/"):
        assert text in html, text
    owner_html = page_as("owner_a").get(f"/sites/{site.pk}/").content.decode()
    assert "/approve/" not in owner_html and "Submitted for approval" in owner_html


def test_staff_site_list_filters_by_status(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    SiteFactory(owner=world.owner_a, name="Alpha", enrolment_status=EnrolmentStatus.ACTIVE)
    SiteFactory(owner=world.owner_b, name="Beta", enrolment_status=EnrolmentStatus.DRAFT)
    client = page_as("staff")
    everything = client.get("/sites/").content.decode()
    assert "Alpha" in everything and "Beta" in everything
    active = client.get("/sites/?status=active").content.decode()
    assert "Alpha" in active and "Beta" not in active
    assert "Beta" in client.get("/sites/?status=bogus").content.decode()


def test_navigation_differs_per_persona(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    staff = page_as("staff").get("/overview/").content.decode()
    owner = page_as("owner_a").get("/portal/").content.decode()
    operator = page_as("operator").get("/operator/").content.decode()
    assert 'href="/overview/"' in staff and 'href="/portal/"' not in staff
    assert 'href="/portal/sites/new/"' in owner and 'href="/overview/"' not in owner
    assert 'href="/operator/"' in operator and 'href="/sites/"' not in operator
    for html in (staff, owner, operator):
        assert 'action="/logout/"' in html and 'href="/account/password/"' in html


def test_login_logout_and_password_change(world: World, client) -> None:  # type: ignore[no-untyped-def]
    user = world.users["owner_a"]
    user.set_password("old-password-123")
    user.save()
    response = client.post("/login/", {"username": "owner_a", "password": "wrong"})
    assert (
        response.status_code == 200
        and "Please enter a correct username and password" in response.content.decode()
    )
    response = client.post(
        "/login/", {"username": "owner_a", "password": "old-password-123", "next": "/portal/"}
    )
    assert response["Location"] == "/portal/"
    response = client.post(
        "/account/password/",
        {
            "old_password": "old-password-123",
            "new_password1": "n3w-Secret-pass",
            "new_password2": "n3w-Secret-pass",
        },
    )
    assert response["Location"] == "/account/password/done/"
    assert client.get("/portal/").status_code == 200  # still logged in after the change
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/portal/").status_code == 302
    assert client.login(username="owner_a", password="n3w-Secret-pass")


def test_logout_refuses_get(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    assert page_as("owner_a").get("/logout/").status_code == 405


def test_forbidden_page_explains_why(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    response = page_as("owner_a").get("/overview/")
    assert response.status_code == 403
    assert "This page is for the aggregator&#x27;s staff." in response.content.decode()


def test_overview_and_operator_home_list_open_events(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    mine = program(world.operator, "pdr", "Proxy demand response")
    other_operator = OrganisationFactory(kind="market_operator")
    theirs = program(other_operator, "ers", "Emergency response service")
    event(mine, hours_from_now=5, kw=7500)
    event(mine, hours_from_now=-1, status=EventStatus.ACTIVE)  # running now
    event(mine, hours_from_now=-5, status=EventStatus.ACTIVE)  # already over
    event(mine, hours_from_now=3, status=EventStatus.CANCELLED)
    event(theirs, hours_from_now=2)
    staff = page_as("staff").get("/overview/").content.decode()
    events = staff[staff.index('id="events"') : staff.index('id="activity-title"')]
    assert events.count("<tr>") == 1 + 3  # header + the two open events of each operator
    assert "7,500 kW" in events and "Emergency response service" in events and "Cancelled" not in events
    assert "No upcoming or active events." not in staff

    operator = page_as("operator").get("/operator/").content.decode()
    assert "Proxy demand response" in operator and "Emergency response service" not in operator
    assert '<td class="num">2</td>' in operator  # open events of its program
