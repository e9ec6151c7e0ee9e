"""The dashboard in a real browser: staff see the overview with drawn charts, an owner enrols a site through
the form flow and staff approve it, an owner cannot open another owner's site, pages fit a phone."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from apps.dashboard.charts import Line, timeseries_chart

from .conftest import DESKTOP, PHONE, SCREENSHOTS, screenshot

pytestmark = pytest.mark.slow

#: Pixels of a chart's canvas that are not background: a drawn chart has thousands, an empty one none.
INK_PIXELS = """(el) => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return {width: 0, height: 0, ink: 0};
  const ctx = canvas.getContext('2d');
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) ink++;
  }
  const box = canvas.getBoundingClientRect();
  return {width: box.width, height: box.height, ink: ink};
}"""


def drawn_chart(page: Any, chart_id: str) -> dict[str, float]:
    selector = f'[data-chart="{chart_id}"]'
    page.wait_for_selector(f'{selector}[data-rendered="chart"] canvas')
    page.wait_for_timeout(600)  # let the entry animation finish before reading pixels
    return page.eval_on_selector(selector, INK_PIXELS)


def fits_width(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_staff_see_the_overview_with_drawn_charts(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    from apps.core import clock
    from apps.markets.flexibility_view import portfolio_flexibility_refresh

    portfolio_flexibility_refresh(at=clock.now())  # the background task fills the cached figure
    page = open_page("staff")
    assert page.url.endswith("/overview/")
    for chart_id in ("chart-zones", "chart-status", "chart-flexibility"):
        chart = drawn_chart(page, chart_id)
        assert chart["width"] > 300 and chart["height"] > 200, chart
        assert chart["ink"] > 2000, chart
    flex = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"chart-flexibility\"]')).getOption()"
    )
    drawn = {s["name"]: s["data"] for s in flex["series"] if s["name"].startswith(("Down", "Up"))}
    assert sorted(drawn) == ["Down: reduction holdable for 1 h", "Up: increase holdable for 1 h"], list(drawn)
    assert all(len(points) == 24 for points in drawn.values())
    assert page.inner_text('[data-kpi="flex-down-now"]').endswith(" MW")
    option = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"chart-zones\"]')).getOption()"
    )
    assert option["xAxis"][0]["data"] == ["CAISO_NP15", "ERCOT_HUB", "NYISO_CAPITL", "PJM_DOM"]
    assert option["series"][0]["data"] == [12.0, 10.0, 6.0, 15.0]
    assert page.inner_text('[data-kpi="enrolled-mw"]') == "43.0 MW"
    assert "Syracuse DC2 (submitted)" in page.inner_text("#queue")
    assert page.js_errors == []
    screenshot(page, "overview-desktop")

    phone = open_page("staff", PHONE)
    drawn_chart(phone, "chart-zones")
    assert fits_width(phone)
    screenshot(phone, "overview-phone")
    assert not phone.is_visible("nav.nav >> text=Sites")  # the menu folds away at phone width
    phone.click(".nav-toggle-label")
    assert phone.is_visible("nav.nav >> text=Sites") and phone.is_visible("nav.nav >> text=Log out")
    screenshot(phone, "overview-phone-menu", full_page=False)


def test_owner_enrols_a_site_and_staff_approve_it(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    owner = open_page("owner_a")
    assert owner.url.endswith("/portal/")
    screenshot(owner, "portal-desktop")
    owner.click("text=Enrol a site")
    owner.fill("#id_name", "Fort Worth DC3")
    owner.select_option("#id_market_zone", "ERCOT_HUB")
    owner.fill("#id_latitude", "32.75")
    owner.fill("#id_longitude", "-97.33")
    owner.fill("#id_timezone", "America/Chicago")
    owner.fill("#id_it_capacity_kw", "8000")
    owner.fill("#id_pue", "0.9")  # below 1: refused next to the field
    owner.fill("#id_grid_import_limit_kw", "12000")
    owner.click("button:has-text('Save draft and continue')")
    error = owner.locator("#field-pue .field-errors")
    assert "greater than or equal to 1.0" in error.inner_text()
    assert not Site.objects.filter(name="Fort Worth DC3").exists()
    screenshot(owner, "site-form-error-desktop")
    owner.fill("#id_pue", "1.25")
    owner.click("button:has-text('Save draft and continue')")
    owner.wait_for_url("**/sites/*/")
    site = Site.objects.get(name="Fort Worth DC3")
    assert site.enrolment_status == EnrolmentStatus.DRAFT
    assert owner.locator("button:has-text('Submit for approval')").is_disabled()

    owner.click(".steps-list li:nth-child(2) >> text=Add")
    owner.fill("#id_name", "training")
    owner.select_option("#id_kind", "training")
    owner.fill("#id_share_pct", "60")
    owner.fill("#id_max_delay_h", "8")
    owner.check("#id_interruptible")
    owner.click("button:has-text('Save and add another')")
    owner.fill("#id_name", "inference")
    owner.select_option("#id_kind", "inference")
    owner.fill("#id_share_pct", "40")
    owner.click("button:text-is('Save')")
    owner.click(".steps-list li:nth-child(3) >> text=Add")
    for field, value in {
        "name": "UPS-A",
        "energy_capacity_kwh": "2000",
        "max_charge_kw": "1000",
        "max_discharge_kw": "1000",
        "soc_min_kwh": "200",
        "soc_max_kwh": "2000",
        "backup_reserve_kwh": "1000",
    }.items():
        owner.fill(f"#id_{field}", value)
    owner.click("button:text-is('Save')")
    owner.click(".steps-list li:nth-child(4) >> text=Add")
    owner.fill("#id_name", "Roof")
    owner.fill("#id_dc_capacity_kwp", "500")
    owner.fill("#id_ac_limit_kw", "420")
    owner.fill("#id_tilt_deg", "15")
    owner.click("button:text-is('Save')")
    assert drawn_chart(owner, "chart-shares")["ink"] > 2000
    screenshot(owner, "site-draft-desktop")
    owner.click("button:has-text('Submit for approval')")
    owner.wait_for_selector(".badge-submitted")
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.SUBMITTED
    assert (site.workload_classes.count(), site.batteries.count(), site.pv_arrays.count()) == (2, 1, 1)

    staff = open_page("staff")
    item = staff.locator(f'.queue-item[data-site="{site.pk}"]')
    assert "Fort Worth DC3" in item.inner_text()
    item.locator("button:has-text('Approve')").click()
    staff.wait_for_selector(".message")
    assert "Fort Worth DC3: approved." in staff.inner_text(".messages")
    assert staff.locator(f'.queue-item[data-site="{site.pk}"]').count() == 0
    site.refresh_from_db()
    assert site.enrolment_status == EnrolmentStatus.APPROVED

    staff.goto(f"/sites/{site.pk}/")
    assert drawn_chart(staff, "chart-shares")["ink"] > 2000
    screenshot(staff, "site-desktop")
    phone = open_page("owner_a", PHONE)
    assert fits_width(phone)
    screenshot(phone, "portal-phone")
    phone.goto(f"/sites/{site.pk}/")
    drawn_chart(phone, "chart-shares")
    assert fits_width(phone)
    screenshot(phone, "site-phone")
    assert owner.js_errors == staff.js_errors == phone.js_errors == []


def test_staff_reject_with_a_reason_from_the_queue(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    site = demo.sites["ny-submitted"]
    staff = open_page("staff")
    item = staff.locator(f'.queue-item[data-site="{site.pk}"]')
    item.locator("summary:has-text('Reject')").click()
    item.locator("textarea[name=reason]").fill("Grid limit exceeds the interconnection agreement")
    item.locator("button:has-text('Reject Syracuse')").click()
    staff.wait_for_selector(".message")
    site.refresh_from_db()
    assert (site.enrolment_status, site.status_reason) == (
        EnrolmentStatus.REJECTED,
        "Grid limit exceeds the interconnection agreement",
    )
    owner = open_page("owner_b")
    assert "Grid limit exceeds the interconnection agreement" in owner.inner_text(f'[data-site="{site.pk}"]')


def test_an_owner_cannot_open_another_owners_site(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    other = demo.sites["sj1"]  # Northwind's (owner_a)
    page = open_page("owner_b")
    assert other.name not in page.content()
    response = page.goto(f"/sites/{other.pk}/")
    assert response.status == 404
    assert "Not found" in page.inner_text("h1") and other.name not in page.content()
    assert page.goto("/overview/").status == 403
    assert page.goto(f"/sites/{demo.sites['ash1'].pk}/").status == 200


def test_anonymous_visitors_are_sent_to_login(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(None, PHONE)
    page.goto("/overview/")
    assert "/login/?next=/overview/" in page.url
    assert fits_width(page)
    screenshot(page, "login-phone")


def test_chart_helper_draws_a_year_of_15_minute_data_quickly(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    """The time-series path of the helper, for the pages to come: a year of data, resampled on the server,
    draws in well under a second."""
    index = pd.date_range("2025-01-01", periods=365 * 96, freq="15min", tz="UTC")
    rng = np.random.default_rng(7)
    load = pd.Series(
        8000 + 1500 * np.sin(np.arange(len(index)) / 96 * 2 * np.pi) + 300 * rng.standard_normal(len(index)),
        index=index,
    )
    spec = timeseries_chart(
        lines=[Line("IT load", load, envelope=True), Line("Setpoint", (load * 0.9).round(-3), style="step")],
        unit="kW",
    )
    page = open_page("staff", DESKTOP)
    elapsed_ms = page.evaluate(
        """(spec) => {
          const el = document.createElement('div');
          el.className = 'chart chart-tall';
          el.id = 'year-chart';
          document.querySelector('main').prepend(el);
          const start = performance.now();
          const chart = VppCharts.render(el, spec);
          chart.getZr().flush();
          return performance.now() - start;
        }""",
        json.loads(json.dumps(spec)),
    )
    assert elapsed_ms < 1000, elapsed_ms
    assert page.eval_on_selector("#year-chart", INK_PIXELS)["ink"] > 5000
    assert page.js_errors == []
    page.locator("#year-chart").screenshot(path=str(SCREENSHOTS / "timeseries-year.png"))


def test_owner_supplied_names_stay_text_in_chart_tooltips(demo, open_page) -> None:  # type: ignore[no-untyped-def]
    """Workload names come from owners; the chart tooltip (HTML) must show them as text."""
    page = open_page("staff")
    page.evaluate(
        """() => {
          const el = document.createElement('div');
          el.id = 'xss-chart';
          el.style.cssText = 'width: 600px; height: 300px';
          document.querySelector('main').prepend(el);
          VppCharts.render(el, {kind: 'donut', unit: '%', slices: [
            {name: '<img src=x id=pwned onerror=alert(1)>', value: 50}, {name: 'b', value: 50}]});
        }"""
    )
    page.wait_for_timeout(1200)
    box = page.locator("#xss-chart").bounding_box()
    page.mouse.move(box["x"] + 385, box["y"] + 135)  # over the first (right-hand) slice
    page.wait_for_function("document.querySelector('#xss-chart').innerText.includes('<img')")
    assert page.evaluate("document.getElementById('pwned')") is None
    assert page.js_errors == []
