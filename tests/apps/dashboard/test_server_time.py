"""The main pages stay cheap to serve (issue 9: ≤ 300 ms server time): a bounded number of SQL queries that does
not grow with the portfolio, and bounded page sizes (server-side resampling keeps long periods small).

No wall-clock assertions here: timings depend on the machine and belong to the benchmarks, which print them
(``benchmarks/dashboard/pages.py`` for these pages, ``benchmarks/dashboard/site_page.py`` for a year of data).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.assets.demo_portfolio import demo_portfolio_seed
from apps.core import clock
from apps.dashboard.summaries import QUEUE_SHOWN
from apps.markets.flexibility_view import portfolio_flexibility_refresh

from .portfolio_data import big_portfolio

MAX_QUERIES = 20  # constant per page, whatever the size of the portfolio
#: Page sizes (bytes): the charts are resampled on the server, so a page never carries raw intervals.
MAX_OVERVIEW_BYTES = 160 * 1024
MAX_SITE_PAGE_BYTES = 200 * 1024
MAX_PORTAL_BYTES = 60 * 1024


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _still_clock(db, monkeypatch):  # type: ignore[no-untyped-def]
    """Product time stands still and its state is read once: query counts compared across requests must not see
    a clock read (one every ``CACHE_SECONDS`` of wall time, so more on a slow machine) or a new 15-minute slot of
    the cached flexibility view."""
    monkeypatch.setattr(clock, "CACHE_SECONDS", 3600.0)
    clock.replay_start(sim_start=timezone.now(), speed=0)
    clock.now()
    yield
    clock.replay_stop()


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="pw-demo-1")
    return client


def _get(client: Client, url: str) -> tuple[int, int]:
    """(SQL queries, bytes) of a successful GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), len(response.content)


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    return demo_portfolio_seed(password="pw-demo-1")


def test_demo_pages_are_bounded(demo) -> None:  # type: ignore[no-untyped-def]
    staff, owner = _login("staff"), _login("owner_a")
    site = demo.sites["sj1"]
    portfolio_flexibility_refresh(
        at=clock.now()
    )  # the task: computes and caches this slot's flexibility view
    pages = {
        "/overview/": (staff, MAX_OVERVIEW_BYTES),
        f"/sites/{site.pk}/": (staff, MAX_SITE_PAGE_BYTES),
        f"/sites/{site.pk}/?period=1y": (staff, MAX_SITE_PAGE_BYTES),
        f"/sites/{site.pk}/?period=30d": (owner, MAX_SITE_PAGE_BYTES),
        "/portal/": (owner, MAX_PORTAL_BYTES),
    }
    for url, (client, max_bytes) in pages.items():
        queries, size = _get(client, url)
        assert queries <= MAX_QUERIES, (url, queries)
        assert size <= max_bytes, (url, size)


def test_pages_do_not_grow_with_the_portfolio(demo) -> None:  # type: ignore[no-untyped-def]
    staff = _login("staff")
    site = demo.sites["sj1"]
    portfolio_flexibility_refresh(at=clock.now())
    staff.get("/overview/")
    small = {url: _get(staff, url) for url in ("/overview/", f"/sites/{site.pk}/")}

    last = big_portfolio()
    cache.clear()  # a new slot: the flexibility view is computed again, over 300 more active sites
    portfolio_flexibility_refresh(at=clock.now())
    staff.get("/overview/")
    with CaptureQueriesContext(connection) as queries:
        html = staff.get("/overview/").content.decode()
    assert (
        html.count('class="queue-item"') == QUEUE_SHOWN
    )  # the oldest 50 of 400 / 8 submitted + the demo's one
    assert '<h2>Enrolment queue <span class="count">51</span></h2>' in html
    assert 'data-zone="total"' in html
    assert len(queries) == small["/overview/"][0], "overview queries grew with the portfolio"
    big_site_queries, _ = _get(staff, f"/sites/{last.pk}/")
    assert big_site_queries <= MAX_QUERIES
    assert len(html.encode()) <= MAX_OVERVIEW_BYTES
