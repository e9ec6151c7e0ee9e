"""Reconciliation: after the one-day replay (6 September 2022), every figure is the same wherever it appears —
the staff pages, the owners' pages, the API, the owners' statement CSVs and the replay's summary — and the
owners' performance is the settlement's definition (capped delivered ÷ called energy), not a second one.

Slow (a real replay, about two minutes): one test runs it once and then compares. Runs on PostgreSQL and SQLite
(``DATABASE_URL``).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from apps.assets.models import Site
from apps.core import clock
from apps.markets.models import Program
from apps.replay.reset import replay_records, replay_records_remove
from apps.settlement.choices import RunStatus
from apps.settlement.models import SettlementRun, SiteSettlement
from apps.telemetry.models import SiteState

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

START, DAYS = "2022-09-06", "1"


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _kpi(page: str, name: str) -> str:
    match = re.search(rf'data-kpi="{re.escape(name)}">(.*?)</span>', page, re.S)
    assert match, f"no data-kpi={name!r} on the page"
    return _text(match.group(1))


def _rows(page: str, attribute: str) -> dict[int, dict[str, str]]:
    """Cells with ``data-col`` of each ``<tr data-<attribute>="id">`` row, as shown (text)."""
    rows = {}
    for key, body in re.findall(rf'<tr data-{attribute}="(\d+)"[^>]*>(.*?)</tr>', page, re.S):
        rows[int(key)] = {
            col: _text(cell) for col, cell in re.findall(r'data-col="([\w-]+)">(.*?)</td>', body, re.S)
        }
    return rows


def _pct(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f} %"


def _money(value: float | Decimal) -> str:
    return f"{float(value):,.2f}"


def _amount(text: str) -> Decimal:
    return Decimal(text.split()[0].replace(",", ""))


def _client(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _owner_username(site_settlement: SiteSettlement) -> str:
    return {"northwind": "owner_a", "helios": "owner_b"}[site_settlement.owner.slug]


@pytest.fixture
def replayed(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The one-day replay, its summary (JSON file) and clients of staff and both owners."""
    out = tmp_path / "summary.json"
    call_command("replay", "--start", START, "--days", DAYS, "--no-server", "--json", str(out), verbosity=0)
    yield json.loads(out.read_text())
    clock.replay_stop()


def _weighted_pf(settlements: list[SiteSettlement]) -> float | None:
    """An independent computation of the settlement rule for a group of sites: Σ capped delivered ÷ Σ called;
    a regulation event's performance is its PJM score (Manual 12 §4.5.6), the same for every site."""
    if settlements[0].run.regulation_score is not None:
        return settlements[0].run.regulation_score
    capped = called = 0.0
    for s in settlements:
        cap = s.run.event.program.performance_cap
        hours = s.run.interval_minutes / 60
        for i in s.intervals.all():
            capped += min(max(i.delivered_kw, 0.0), cap * i.called_kw) * hours
            called += i.called_kw * hours
    return capped / called if called > 0 else None


def test_every_figure_is_the_same_everywhere(replayed: dict) -> None:
    summary = replayed
    runs = list(SettlementRun.objects.filter(status=RunStatus.CURRENT).select_related("event__program"))
    settlements = list(
        SiteSettlement.objects.filter(run__status=RunStatus.CURRENT).select_related(
            "run__event__program", "owner", "site"
        )
    )
    assert summary["settled_events"] == len(runs) > 0
    assert settlements

    staff = _client("staff")
    owners = {name: _client(name) for name in ("owner_a", "owner_b")}

    # --- per event and site: staff page, owner page, API and statement CSV show the settlement record ---------
    api_rows: dict[int, dict] = {}
    csv_rows: dict[tuple[int, str], dict] = {}
    csv_payout_total = Decimal("0")
    for name, client in owners.items():
        body = client.get("/api/v1/settlement/sites/?page_size=500").json()
        api_rows.update({r["id"]: r for r in body["results"]})
        response = client.get("/api/v1/settlement/statements/2022-09/csv/")
        assert response.status_code == 200, name
        for row in csv.DictReader(io.StringIO(response.content.decode())):
            if row["event_id"] == "TOTAL":
                csv_payout_total += Decimal(row["owner_payout"])
            else:
                csv_rows[(int(row["event_id"]), row["site"])] = row
    for s in settlements:
        event_id = s.run.event_id
        staff_row = _rows(staff.get(f"/events/{event_id}/").content.decode(), "site")[s.site_id]
        owner_row = _rows(owners[_owner_username(s)].get(f"/events/{event_id}/").content.decode(), "site")[
            s.site_id
        ]
        api, line = api_rows[s.pk], csv_rows[(event_id, s.site.name)]
        expected_pf = _pct(s.performance_factor)
        assert staff_row["performance"] == owner_row["performance"] == expected_pf, (event_id, s.site.name)
        assert _pct(api["performance_factor"]) == expected_pf
        assert _pct(float(line["performance_factor"]) if line["performance_factor"] else None) == expected_pf
        payout = _money(s.owner_payout)
        assert _text(staff_row["payout"]).startswith(payout) and _text(owner_row["payout"]).startswith(payout)
        assert _money(Decimal(api["owner_payout"])) == _money(Decimal(line["owner_payout"])) == payout
        delivered = f"{s.delivered_kwh:,.0f} kWh"
        assert staff_row["delivered"] == owner_row["delivered"] == delivered

    # --- the owners' event list: their sites' performance by the settlement's rule ----------------------------
    by_owner_event: dict[tuple[str, int], list[SiteSettlement]] = defaultdict(list)
    for s in settlements:
        by_owner_event[(_owner_username(s), s.run.event_id)].append(s)
    for (name, event_id), group in by_owner_event.items():
        row = _rows(owners[name].get("/events/").content.decode(), "event")[event_id]
        assert row["performance"] == _pct(_weighted_pf(group)), (name, event_id)
        if len(group) == 1:
            assert row["performance"] == _pct(group[0].performance_factor)
        payout = sum((s.owner_payout for s in group), Decimal("0"))
        assert _amount(row["money"]) == payout

    # --- portfolio figures: staff event list, API, statements, overview, revenue page and summary -----------
    staff_events = _rows(staff.get("/events/").content.decode(), "event")
    for run in runs:
        assert staff_events[run.event_id]["performance"] == _pct(run.performance_factor)
        assert _amount(staff_events[run.event_id]["money"]) == run.net_revenue
    revenue = sum((_amount(staff_events[r.event_id]["money"]) for r in runs), Decimal("0"))
    assert revenue == Decimal(str(summary["revenue"]))
    api_runs = staff.get("/api/v1/settlement/runs/?page_size=500").json()["results"]
    current = [r for r in api_runs if r["status"] == RunStatus.CURRENT]
    assert sum((Decimal(r["net_revenue"]) for r in current), Decimal("0")) == revenue
    assert csv_payout_total == Decimal(str(summary["owner_payouts"]))

    overview = staff.get("/overview/").content.decode()
    revenue_page = staff.get("/revenue/").content.decode()
    cost_saved = f"{_money(summary['energy_cost_saved'])} {summary['currency']}"
    assert _kpi(overview, "cost-saved") == _kpi(revenue_page, "cost-saved") == cost_saved
    assert _kpi(overview, "period-revenue") == f"{_money(summary['revenue'])} {summary['currency']}"
    # the page rounds the selector's kWh to whole kWh, the summary JSON to 0.1 kWh: the same figure
    shown = float(_kpi(overview, "delivered").removesuffix(" kWh").replace(",", ""))
    assert abs(shown - summary["delivered_kwh"]) <= 0.5 + 0.05
    assert _kpi(overview, "unserved") == f"{summary['unserved_work_kwh']:,.0f} kWh"
    for run in runs:
        assert f'href="/events/{run.event_id}/"' in overview  # a link to each event of the period

    # --- a second replay over these records is refused; --reset's removal takes exactly them ------------------
    with pytest.raises(CommandError, match="--reset"):
        call_command("replay", "--start", START, "--days", DAYS, "--no-server", verbosity=0)
    programs, sites = Program.objects.count(), Site.objects.count()
    assert replay_records().any
    assert SiteState.objects.filter(known_jobs__isnull=False).exists()  # the sites reported their Philly jobs
    replay_records_remove()
    assert not replay_records().any
    assert not SiteState.objects.exists()  # a later replay's SLA figures never read these reports
    assert (Program.objects.count(), Site.objects.count()) == (programs, sites)
