"""Server time of the main pages (issue 9: ≤ 300 ms), measured with the test client on the demo portfolio
and on a portfolio of 400 sites, with the number of queries bounded so it does not grow with the portfolio.

Timings are written to ``test-artifacts/server-times.json`` for the report.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest
from django.test import Client

from apps.assets.choices import EnrolmentStatus
from apps.assets.demo_portfolio import demo_portfolio_seed
from apps.assets.models import Site
from tests.factories import (
    BatteryFactory,
    OrganisationFactory,
    PVArrayFactory,
    SiteFactory,
    WorkloadClassFactory,
)

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
BUDGET_MS = 300
MAX_QUERIES = 20  # constant per page, whatever the size of the portfolio
RESULTS: dict[str, dict[str, float]] = {}


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="pw-demo-1")
    return client


def _time(client: Client, url: str, runs: int = 15) -> dict[str, float]:
    assert client.get(url).status_code == 200  # warm caches (templates, URL resolver)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1)}


def _record(name: str, timing: dict[str, float]) -> None:
    RESULTS[name] = timing
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "server-times.json").write_text(json.dumps(RESULTS, indent=2, sort_keys=True))


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    return demo_portfolio_seed(password="pw-demo-1")


def _big_portfolio(n_sites: int = 400) -> Site:
    owners = [OrganisationFactory() for _ in range(8)]
    statuses = [EnrolmentStatus.ACTIVE] * 6 + [EnrolmentStatus.SUBMITTED, EnrolmentStatus.DRAFT]
    site = None
    for i in range(n_sites):
        site = SiteFactory(owner=owners[i % 8], enrolment_status=statuses[i % len(statuses)])
        WorkloadClassFactory(site=site, share_pct=40, kind="inference", max_delay_h=None)
        WorkloadClassFactory(site=site, share_pct=35)
        BatteryFactory(site=site)
        PVArrayFactory(site=site)
    assert site is not None
    return site


def test_demo_pages_within_budget(demo, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    staff, owner = _login("staff"), _login("owner_a")
    site = demo.sites["sj1"]
    with django_assert_max_num_queries(MAX_QUERIES):
        staff.get("/overview/")
    with django_assert_max_num_queries(MAX_QUERIES):
        staff.get(f"/sites/{site.pk}/")
    pages = {
        "demo overview (staff)": (staff, "/overview/"),
        "demo site page (staff)": (staff, f"/sites/{site.pk}/"),
        "demo site page (owner)": (owner, f"/sites/{site.pk}/"),
        "demo portal (owner)": (owner, "/portal/"),
    }
    for name, (client, url) in pages.items():
        timing = _time(client, url)
        _record(name, timing)
        assert timing["median_ms"] < BUDGET_MS, (name, timing)


def test_pages_do_not_grow_with_the_portfolio(demo, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    last = _big_portfolio()
    staff = _login("staff")
    with django_assert_max_num_queries(MAX_QUERIES):
        html = staff.get("/overview/").content.decode()
    assert html.count('class="queue-item"') == 51  # 400 / 8 submitted + the demo's one
    with django_assert_max_num_queries(MAX_QUERIES):
        staff.get(f"/sites/{last.pk}/")
    for name, url in {
        "400-site overview (staff)": "/overview/",
        "400-site site page": f"/sites/{last.pk}/",
    }.items():
        timing = _time(staff, url, runs=7)
        _record(name, timing)
        assert timing["median_ms"] < BUDGET_MS, (name, timing)
