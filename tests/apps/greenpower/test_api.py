"""Green-power API and page: owner scoping, refusals that name the field (nothing written), the compute cap for a
setpoint, model fitting from telemetry, the ledger's JSON and CSV, and the page."""

from __future__ import annotations

import csv
import io

import pytest

from apps.forecasts.models import ComputePowerModel
from apps.greenpower.models import GreenContract, WorkDone
from tests.conftest import World
from tests.factories import SiteFactory

from .conftest import metered_site
from .test_permission_matrix import fittable_site, stored_model

pytestmark = pytest.mark.django_db


def _body(**extra):  # type: ignore[no-untyped-def]
    body = {
        "name": "Wind PPA",
        "kind": "ppa",
        "zone": "CAISO_NP15",
        "price_per_mwh": 48.5,
        "term_start": "2022-01-01",
        "term_end": "2030-12-31",
        "hourly_profile_kwh": [50.0] * 24,
    }
    body.update(extra)
    return body


def test_owner_sees_only_its_own_contracts(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    a = metered_site(world.owner_a)
    b = metered_site(world.owner_b, name="B1")
    ids = {row["id"] for row in api_as("owner_a").get("/api/v1/green/contracts/").json()["results"]}
    assert ids == {a.contract.pk}
    assert api_as("owner_a").get(f"/api/v1/green/contracts/{b.contract.pk}/").status_code == 404
    staff_ids = {row["id"] for row in api_as("staff").get("/api/v1/green/contracts/").json()["results"]}
    assert staff_ids == {a.contract.pk, b.contract.pk}
    assert api_as("owner_a").get(f"/api/v1/green/ledger/?site={b.site.pk}").status_code == 404


def test_contract_refusals_name_the_field_and_write_nothing(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site_a = SiteFactory(owner=world.owner_a)
    site_b = SiteFactory(owner=world.owner_b)
    client = api_as("owner_a")
    cases = [
        (_body(hourly_profile_kwh=[1.0] * 23), "hourly_profile_kwh"),
        (_body(hourly_profile_kwh=[1.0] * 23 + [-1.0]), "hourly_profile_kwh[23]"),
        (_body(term_end="2021-12-31"), "term_end"),
        (_body(zone="NOWHERE"), "zone"),
        (_body(sites=[site_b.pk]), "sites"),
        (_body(zone="ERCOT_HUB", sites=[site_a.pk]), "sites"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/green/contracts/", body, format="json")
        assert response.status_code == 400, (field, response.content)
        fields = [e["field"] for e in response.json()["errors"]]
        assert any(f and f.startswith(field) for f in fields), (field, fields)
    assert GreenContract.objects.count() == 0
    ok = client.post("/api/v1/green/contracts/", _body(sites=[site_a.pk]), format="json")
    assert ok.status_code == 201 and ok.json()["currency"] == "USD" and ok.json()["owner"] == world.owner_a.pk


def test_work_done_batch_is_all_or_nothing(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    m = metered_site(world.owner_a)
    url = f"/api/v1/green/work-units/{m.work_unit.pk}/data/"
    rows = [
        {"start": "2022-09-02T00:00:00Z", "work_units": 3},
        {"start": "2022-09-02T01:30:00Z", "work_units": 3},
    ]
    response = api_as("owner_a").post(url, rows, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "rows[1].start"
    assert WorkDone.objects.filter(definition=m.work_unit).count() == 3
    rows[1]["start"] = "2022-09-02T01:00:00+00:00"
    assert api_as("owner_a").post(url, rows, format="json").json() == {"rows": 2}
    assert WorkDone.objects.filter(definition=m.work_unit).count() == 5


def test_cap_translates_a_setpoint_into_utilisation_and_work(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    stored = stored_model(world)  # P = (0.4 + 0.6 u) × 1000 kW
    from apps.greenpower.models import WorkUnitDefinition

    WorkUnitDefinition.objects.create(site=stored.site, name="jobs", full_rate_per_hour=200)
    body = api_as("owner_a").get(f"/api/v1/green/compute-models/{stored.pk}/cap/?setpoint_kw=700").json()
    assert body["utilization_cap"] == pytest.approx(0.5)
    assert body["it_kw_at_cap"] == pytest.approx(700)
    assert body["work_units_per_hour_cap"] == pytest.approx(100)
    bad = api_as("owner_a").get(f"/api/v1/green/compute-models/{stored.pk}/cap/?setpoint_kw=lots")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "setpoint_kw"


def test_fit_from_telemetry_recovers_the_curve_and_stores_the_error(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = fittable_site(world)  # IT = (0.5 + 0.4 u) × 1000 kW exactly
    response = api_as("owner_a").post(
        "/api/v1/green/compute-models/fit/",
        {"site": site.pk, "start": "2022-09-01T00:00:00Z", "end": "2022-09-04T00:00:00Z", "segments": 2},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["n_test"] == 24 and body["n_train"] == 48
    assert body["mae"] < 1e-6 and body["r2"] > 0.999999
    stored = ComputePowerModel.objects.get(site=site)
    assert stored.power_at_knots[0] == pytest.approx(0.5 + 0.4 * stored.knots_utilization[0])
    no_data = api_as("owner_a").post(
        "/api/v1/green/compute-models/fit/",
        {
            "site": SiteFactory(owner=world.owner_a).pk,
            "start": "2022-09-01T00:00:00Z",
            "end": "2022-09-04T00:00:00Z",
        },
        format="json",
    )
    assert no_data.status_code == 400 and no_data.json()["errors"][0]["field"] == "site"


def test_ledger_json_and_csv_agree(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    m = metered_site(world.owner_a)
    q = f"?site={m.site.pk}&start=2022-09-01&end=2022-09-01T03:00:00Z"
    body = api_as("owner_a").get(f"/api/v1/green/ledger/{q}").json()
    assert body["summary"]["hourly_matched_share"] == pytest.approx(235 / 300)
    assert [h["green_share"] for h in body["hours"]] == pytest.approx([0.65, 1.0, 0.4])
    response = api_as("owner_a").get(f"/api/v1/green/ledger/csv/{q}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["start_utc"] for r in rows] == [
        "2022-09-01T00:00:00Z",
        "2022-09-01T01:00:00Z",
        "2022-09-01T02:00:00Z",
    ]
    assert [float(r["clean_kwh"]) for r in rows] == [65, 150, 20]
    bad = api_as("owner_a").get(f"/api/v1/green/ledger/?site={m.site.pk}&start=yesterday")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "start"


def test_page_shows_kpis_to_owners_and_refuses_operators(world: World, client) -> None:  # type: ignore[no-untyped-def]
    metered_site(world.owner_a)
    client.force_login(world.users["owner_a"])
    page = client.get("/green/?period=1d")
    assert page.status_code == 200
    text = page.content.decode()
    assert "78.33 %" in text and "85.0 %" in text  # hourly-matched vs annual-matched green share
    assert 'data-chart="chart-green"' in text
    client.force_login(world.users["operator"])
    assert client.get("/green/").status_code == 403


def _nav(html: str) -> str:
    """The main navigation list of a page."""
    start = html.index('<ul class="nav-links">')
    return html[start : html.index("</ul>", start)]


def test_green_page_is_in_the_nav_list_for_staff_and_owners_only(world: World, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["owner_a"])
    nav = _nav(client.get("/green/").content.decode())
    assert '<a href="/green/" aria-current="page" class="active">Green power</a>' in nav
    client.force_login(world.users["staff"])
    nav = _nav(client.get("/overview/").content.decode())
    assert '<a href="/green/">Green power</a>' in nav and 'class="active">Overview' in nav
    client.force_login(world.users["operator"])
    assert "/green/" not in client.get("/operator/").content.decode()
