"""The site list and the events list paginate (issue #22: pages stay fast at 10,000 sites): 50 rows a page,
page links, a query count that does not grow with the portfolio, and the same rows as before, page by page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from apps.dashboard.views import PAGE_SIZE
from tests.conftest import World

from .portfolio_data import big_portfolio_bulk, market_events_bulk


def _queries(client, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response.content.decode()


def _site_rows(html: str) -> list[str]:
    return re.findall(r'<td><a href="/sites/(\d+)/">', html)


@pytest.mark.django_db
def test_site_list_pages_cover_every_site_once_in_name_order(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    staff = page_as("staff")
    big_portfolio_bulk(8)
    small_queries, _ = _queries(staff, "/sites/")
    big_portfolio_bulk(120)
    queries, html = _queries(staff, "/sites/")
    assert queries == small_queries, "the site list's queries grew with the portfolio"
    total = Site.objects.count()
    pages = -(-total // PAGE_SIZE)
    assert f"{total} sites" in html and f"Page 1 of {pages}" in html and 'href="?page=2"' in html
    seen: list[str] = []
    for number in range(1, pages + 1):
        seen += _site_rows(staff.get(f"/sites/?page={number}").content.decode())
    expected = [str(pk) for pk in Site.objects.order_by("name", "id").values_list("pk", flat=True)]
    assert seen == expected
    last = staff.get("/sites/?page=999").content.decode()  # out of range: the last page
    assert f"Page {pages} of {pages}" in last and 'rel="next"' not in last


@pytest.mark.django_db
def test_site_list_counts_and_status_filter_survive_paging(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    big_portfolio_bulk(480)  # 60 submitted
    staff = page_as("staff")
    html = staff.get("/sites/?status=submitted").content.decode()
    submitted = Site.objects.filter(enrolment_status=EnrolmentStatus.SUBMITTED).count()
    assert submitted == 60 and f"{submitted} sites" in html
    assert 'href="?status=submitted&amp;page=2"' in html and "Page 1 of 2" in html
    second = staff.get("/sites/?status=submitted&page=2").content.decode()
    assert len(_site_rows(second)) == submitted - PAGE_SIZE and "Page 2 of 2" in second
    first = staff.get("/sites/").content.decode()
    assert '<td class="num">2 / 1 / 1</td>' in first  # two workload classes, a battery and a PV array


@pytest.mark.django_db
def test_events_list_paginates_newest_first(world: World, page_as) -> None:  # type: ignore[no-untyped-def]
    staff = page_as("staff")
    market_events_bulk(3)
    small_queries, _ = _queries(staff, "/events/")
    market_events_bulk(117)
    queries, html = _queries(staff, "/events/")
    assert queries == small_queries, "the events list's queries grew with the events"
    rows = re.findall(r'<tr data-event="(\d+)">', html)
    assert len(rows) == PAGE_SIZE and "Page 1 of 3" in html
    last = re.findall(r'<tr data-event="(\d+)">', staff.get("/events/?page=3").content.decode())
    assert len(last) == 120 - 2 * PAGE_SIZE and not set(rows) & set(last)
