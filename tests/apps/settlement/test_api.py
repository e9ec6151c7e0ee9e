"""Settlement through the API: owners see only their own figures, statements agree to the cent in JSON, CSV and
the printable page, operators read only their own programs' performance, staff summaries."""

from __future__ import annotations

import csv
import io
import re

import pytest

from apps.accounts.choices import OrganisationKind, Role
from apps.settlement import services
from apps.settlement.models import SiteSettlement
from tests.factories import MembershipFactory, OrganisationFactory

from .conftest import Scenario

MONEY = ("revenue_share", "fee", "owner_payout", "cost_saving")


@pytest.fixture
def settled(scenario: Scenario) -> Scenario:
    services.event_settle(event_id=scenario.event.pk)
    return scenario


def test_owner_b_never_sees_owner_a(world, api_as, settled: Scenario) -> None:  # type: ignore[no-untyped-def]
    owner_b = api_as("owner_b")
    a_row = SiteSettlement.objects.get(site=settled.site_a)
    assert owner_b.get(f"/api/v1/settlement/sites/{a_row.pk}/").status_code == 404
    listed = owner_b.get("/api/v1/settlement/sites/").json()["results"]
    assert [r["site"] for r in listed] == [settled.site_b.pk]
    url = f"/api/v1/settlement/statements/2026-07/?owner={world.owner_a.pk}"
    for suffix in ("", "csv/", "page/"):
        assert owner_b.get(url.replace("?", f"{suffix}?")).status_code == 404
    own = owner_b.get("/api/v1/settlement/statements/2026-07/").json()
    assert [line["site"] for line in own["lines"]] == ["DC B"]
    assert own["totals"][0]["owner_payout"] == "8.00"
    assert owner_b.get("/api/v1/settlement/statements/").json() == [
        {"owner": world.owner_b.pk, "month": "2026-07"}
    ]
    summary = owner_b.get("/api/v1/settlement/sites/summary/?group_by=owner").json()
    assert [row["key"] for row in summary] == [str(world.owner_b.pk)]


def test_staff_must_name_the_owner_and_see_everyone(world, api_as, settled: Scenario) -> None:  # type: ignore[no-untyped-def]
    staff = api_as("staff")
    missing = staff.get("/api/v1/settlement/statements/2026-07/")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "owner"
    assert staff.get("/api/v1/settlement/statements/2026-13/?owner=1").status_code == 400
    body = staff.get(f"/api/v1/settlement/statements/2026-07/?owner={world.owner_a.pk}").json()
    assert [line["owner_payout"] for line in body["lines"]] == ["28.80"]
    by_program = staff.get("/api/v1/settlement/sites/summary/?group_by=program&month=2026-07").json()
    assert len(by_program) == 1
    # 36.00 + 12.00 of revenue, 7.20 + 4.00 of fees, 28.80 + 8.00 paid out
    assert (by_program[0]["revenue_share"], by_program[0]["fee"], by_program[0]["owner_payout"]) == (
        "48.00",
        "11.20",
        "36.80",
    )
    by_site = staff.get("/api/v1/settlement/sites/summary/?group_by=site").json()
    assert {r["key"]: r["owner_payout"] for r in by_site} == {
        str(settled.site_a.pk): "28.80",
        str(settled.site_b.pk): "8.00",
    }
    assert staff.get("/api/v1/settlement/sites/summary/?group_by=colour").status_code == 400
    assert staff.get("/api/v1/settlement/sites/summary/?group_by=site&start=July").status_code == 400


def test_savings_per_site_and_period(world, api_as, settled: Scenario) -> None:  # type: ignore[no-untyped-def]
    staff = api_as("staff")
    url = "/api/v1/settlement/sites/summary/?group_by=site&start=2026-07-01&end=2026-08-01"
    a = staff.get(f"{url}&site={settled.site_a.pk}").json()
    assert len(a) == 1
    # DC A: 30.00 cheaper, 90 kg less CO2; consumption 700 import + 100 PV → PV 12.5 %, low-carbon 280 → 35 %
    assert (a[0]["cost_saving"], a[0]["emissions_saving_kg"]) == ("30.00", 90.0)
    assert (a[0]["pv_share_pct"], a[0]["low_carbon_share_pct"]) == (12.5, 35.0)
    both = staff.get("/api/v1/settlement/sites/summary/?group_by=month").json()
    # both sites: consumption 800 + 400 = 1200 kWh; PV 100 → 8.333 %; low-carbon 280 + 160 = 440 → 36.667 %
    assert both[0]["key"] == "2026-07-01" and both[0]["consumption_kwh"] == 1200.0
    assert (both[0]["pv_share_pct"], both[0]["low_carbon_share_pct"]) == (8.333, 36.667)
    assert both[0]["cost_saving"] == "40.00"  # 30.00 + 10.00
    assert staff.get(f"{url.replace('2026-07-01', '2026-07-09')}").json() == []


def _page_cells(html: str) -> dict[str, list[str]]:
    cells: dict[str, list[str]] = {}
    for field, value in re.findall(r'data-field="([a-z_]+)">([^<]*)<', html):
        cells.setdefault(field, []).append(value.strip())
    return cells


def test_cents_agree_across_api_csv_and_page(world, api_as, settled: Scenario) -> None:  # type: ignore[no-untyped-def]
    client = api_as("owner_a")
    api = client.get("/api/v1/settlement/statements/2026-07/").json()
    csv_response = client.get("/api/v1/settlement/statements/2026-07/csv/")
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode())))
    page = client.get("/api/v1/settlement/statements/2026-07/page/")
    assert page["Content-Type"].startswith("text/html")
    cells = _page_cells(page.content.decode())

    lines = [r for r in rows if r["event_id"] != "TOTAL"]
    totals = [r for r in rows if r["event_id"] == "TOTAL"]
    for field in MONEY:
        from_api = [line[field] for line in api["lines"]]
        assert from_api == [r[field] for r in lines] == cells[field], field
        assert [t[field] for t in api["totals"]] == [t[field] for t in totals] == cells[f"total_{field}"], (
            field
        )
    # and they are the hand-computed figures: share 36.00, fee 20 % = 7.20, payout 28.80, saving 30.00
    assert [api["lines"][0][f] for f in MONEY] == ["36.00", "7.20", "28.80", "30.00"]


def test_operator_reads_only_its_own_programs_performance(world, api_as, settled: Scenario) -> None:  # type: ignore[no-untyped-def]
    reports = api_as("operator").get("/api/v1/market/performance/").json()["results"]
    assert len(reports) == 1
    report = reports[0]
    assert report["event"] == settled.event.pk and report["net_revenue"] == "48.00"
    assert [i["delivered_kw"] for i in report["intervals"]] == [400.0] * 4
    assert "sites" not in report and "inputs" not in report  # no site or owner figures for the operator

    other_org = OrganisationFactory(name="Operator 2", slug="op-2", kind=OrganisationKind.MARKET_OPERATOR)
    other = MembershipFactory(organisation=other_org, role=Role.ADMIN, user__username="operator2").user
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(other)
    assert client.get("/api/v1/market/performance/").json()["results"] == []
    assert client.get(f"/api/v1/market/performance/{report['id']}/").status_code == 404


def test_staff_resettle_is_idempotent_through_the_api(api_as, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    staff = api_as("staff")
    first = staff.post("/api/v1/settlement/runs/settle/", {"event": scenario.event.pk}, format="json")
    again = staff.post("/api/v1/settlement/runs/settle/", {"event": scenario.event.pk}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["run"]["id"] == again.json()["run"]["id"]
    assert again.json()["created"] is False
    assert staff.post("/api/v1/settlement/runs/settle/", {"event": 999999}, format="json").status_code == 400


def test_csv_names_cannot_become_spreadsheet_formulas(api_as, settled: Scenario) -> None:  # type: ignore[no-untyped-def]
    type(settled.site_a).objects.filter(pk=settled.site_a.pk).update(name="=HYPERLINK(1)")
    body = api_as("owner_a").get("/api/v1/settlement/statements/2026-07/csv/").content.decode()
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["site"] == "'=HYPERLINK(1)"
    assert row["revenue_share"] == "36.00"
