"""The time-series REST API: creating series, JSON and CSV ingestion with row-naming refusals, reads with
resampling and gaps, filters, and the site-bound API client (VEN) pushing its own site's data."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.choices import ApiClientRole, Role
from apps.accounts.services import access_token_issue, api_client_create
from apps.assets.services import site_credential_bind
from apps.telemetry.models import DataPoint, TimeSeries
from tests.conftest import World
from tests.factories import (
    BatteryFactory,
    MembershipFactory,
    PVArrayFactory,
    SiteFactory,
    TimeSeriesFactory,
    ZoneSeriesFactory,
)


def _fields(response) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [e["field"] for e in response.json()["errors"]]


def _bearer(world: World, role: str, site=None) -> APIClient:  # type: ignore[no-untyped-def]
    issued = api_client_create(organisation=world.owner_a, role=role)
    if site is not None:
        site_credential_bind(api_client_id=issued.api_client.pk, site=site)
    token = access_token_issue(client_id=issued.api_client.client_id, client_secret=issued.client_secret)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.access_token}")
    return client


# --- create ------------------------------------------------------------------------------------------------


def test_create_site_series_sets_unit_and_owner_key(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = api_as("owner_a").post(
        "/api/v1/timeseries/",
        {"site": site.pk, "quantity": "site_power_kw", "resolution": "pt15m", "name": "main meter"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner_key"], body["unit"], body["resolution"], body["resolution_s"]) == (
        f"site:{site.pk}",
        "kW",
        "PT15M",
        900,
    )
    assert body["aggregation"] == "mean" and body["owner_kind"] == "site"


def test_create_zone_price_takes_zone_currency(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("staff").post(
        "/api/v1/timeseries/",
        {"market_zone": "DE_LU", "quantity": "price", "resolution": "PT1H"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["unit"] == "EUR/MWh"


def test_create_asset_series(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    battery = BatteryFactory(site=SiteFactory(owner=world.owner_a))
    response = api_as("owner_a").post(
        "/api/v1/timeseries/",
        {"battery": battery.pk, "quantity": "soc_kwh", "resolution": "PT5M"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["aggregation"] == "last"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": "price", "resolution": "PT1H"}, None),  # no owner
        ({"quantity": "soc_kwh", "resolution": "PT5M"}, "quantity"),  # SoC belongs to a battery, not a site
        ({"quantity": "price", "resolution": "PT1H"}, "quantity"),  # a price belongs to a zone
        ({"quantity": "it_power_kw", "resolution": "PT7M"}, "resolution"),  # does not divide a day
        ({"quantity": "it_power_kw", "resolution": "P1M"}, "resolution"),  # months have no fixed length
        ({"quantity": "watts", "resolution": "PT5M"}, "quantity"),
    ],
)
def test_create_refusals(world: World, api_as, body, field) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    payload = dict(body) if field is None else {**body, "site": site.pk}
    response = api_as("owner_a").post("/api/v1/timeseries/", payload, format="json")
    assert response.status_code == 400, response.content
    assert _fields(response)[0] == field
    assert not TimeSeries.objects.exists()


def test_create_two_owners_refused(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    response = api_as("owner_a").post(
        "/api/v1/timeseries/",
        {"site": site.pk, "market_zone": "PJM_DOM", "quantity": "temperature_c", "resolution": "PT1H"},
        format="json",
    )
    assert response.status_code == 400
    assert "exactly one owner" in response.json()["detail"]


def test_create_duplicate_refused(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    response = api_as("owner_a").post(
        "/api/v1/timeseries/",
        {"site": series.site_id, "quantity": "it_power_kw", "resolution": "PT5M"},
        format="json",
    )
    assert response.status_code == 400
    assert _fields(response) == ["name"]
    assert TimeSeries.objects.count() == 1


# --- ingest ------------------------------------------------------------------------------------------------


def test_json_refusal_names_rows_and_writes_nothing(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    rows = [
        {"start": "2022-09-01T00:00:00Z", "value": 1.0},
        {"start": "2022-09-01T00:15:00", "value": 2.0},
        {"start": "2022-09-01T00:20:00Z", "value": 3.0},
        {"start": "2022-09-01T00:00:00Z", "value": 4.0},
        {"start": "2022-09-01T00:45:00Z", "value": -1.0},
    ]
    response = api_as("owner_a").post(f"/api/v1/timeseries/{series.pk}/data/", rows, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert _fields(response) == ["rows[1].start", "rows[2].start", "rows[3].start", "rows[4].value", None]
    assert "4 error(s)" in response.json()["errors"][-1]["reason"]
    assert not DataPoint.objects.exists()


def test_json_nan_literal_is_named_not_a_parse_error(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    body = '[{"start": "2022-09-01T00:00:00Z", "value": 1}, {"start": "2022-09-01T00:15:00Z", "value": NaN}]'
    response = api_as("owner_a").post(
        f"/api/v1/timeseries/{series.pk}/data/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert _fields(response)[0] == "rows[1].value"
    assert not DataPoint.objects.exists()


def test_json_body_must_be_a_list(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    response = api_as("owner_a").post(
        f"/api/v1/timeseries/{series.pk}/data/", {"start": "x", "value": 1}, format="json"
    )
    assert response.status_code == 400


def test_csv_body_and_upsert(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    client = api_as("owner_a")
    url = f"/api/v1/timeseries/{series.pk}/data/"
    first = client.post(
        url, "start,value\n2022-09-01T00:00:00Z,10\n2022-09-01T00:15:00Z,11\n", content_type="text/csv"
    )
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 2
    again = client.post(
        url, "start,value\n2022-09-01T00:15:00Z,12\n2022-09-01T00:00:00Z,10\n", content_type="text/csv"
    )
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 1, 1)
    assert sorted(DataPoint.objects.values_list("value", flat=True)) == [10.0, 12.0]


def test_csv_refusal_names_rows(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    response = api_as("owner_a").post(
        f"/api/v1/timeseries/{series.pk}/data/",
        "start,value\n2022-09-01T00:00:00Z,10\n2022-09-01T00:15:00Z,abc\n",
        content_type="text/csv",
    )
    assert response.status_code == 400
    assert _fields(response)[0] == "rows[1].value"
    assert not DataPoint.objects.exists()


def test_pv_and_soc_limits_through_the_api(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    pv = TimeSeriesFactory(
        site=None, pv_array=PVArrayFactory(site=site, dc_capacity_kwp=300), quantity="pv_power_kw"
    )
    soc = TimeSeriesFactory(
        site=None, battery=BatteryFactory(site=site, energy_capacity_kwh=800), quantity="soc_kwh", unit="kWh"
    )
    client = api_as("owner_a")
    negative = client.post(
        f"/api/v1/timeseries/{pv.pk}/data/", [{"start": "2022-09-01T20:00:00Z", "value": -3}], format="json"
    )
    too_full = client.post(
        f"/api/v1/timeseries/{soc.pk}/data/", [{"start": "2022-09-01T20:00:00Z", "value": 801}], format="json"
    )
    assert negative.status_code == too_full.status_code == 400
    assert "negative PV" in negative.json()["errors"][0]["reason"]
    assert "800 kWh" in too_full.json()["errors"][0]["reason"]
    assert not DataPoint.objects.exists()


def test_unknown_series_is_404_and_other_owner_is_404(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    client = api_as("owner_b")
    rows = [{"start": "2022-09-01T00:00:00Z", "value": 1.0}]
    assert client.post("/api/v1/timeseries/999999/data/", rows, format="json").status_code == 404
    assert client.post(f"/api/v1/timeseries/{series.pk}/data/", rows, format="json").status_code == 404
    assert client.get(f"/api/v1/timeseries/{series.pk}/data/").status_code == 404
    assert not DataPoint.objects.exists()


def test_unsupported_media_type(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    response = api_as("owner_a").post(f"/api/v1/timeseries/{series.pk}/data/", "x", content_type="text/plain")
    assert response.status_code == 415


def test_body_too_large(world: World, api_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("apps.telemetry.api.parsers.MAX_BODY_BYTES", 100)
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    rows = [{"start": f"2022-09-01T00:{m:02d}:00Z", "value": 1.0} for m in (0, 15, 30, 45)]
    response = api_as("owner_a").post(f"/api/v1/timeseries/{series.pk}/data/", rows, format="json")
    assert response.status_code == 413
    assert not DataPoint.objects.exists()


def test_forbidden_writer_gets_403_even_with_a_malformed_body(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    zone = ZoneSeriesFactory()
    response = api_as("owner_a").post(
        f"/api/v1/timeseries/{zone.pk}/data/", "not json", content_type="application/json"
    )
    assert response.status_code == 403


def test_viewer_may_read_not_write(world: World) -> None:
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    viewer = MembershipFactory(organisation=world.owner_a, role=Role.VIEWER).user
    client = APIClient()
    client.force_login(viewer)
    assert client.get(f"/api/v1/timeseries/{series.pk}/data/").status_code == 200
    response = client.post(
        f"/api/v1/timeseries/{series.pk}/data/",
        [{"start": "2022-09-01T00:00:00Z", "value": 1.0}],
        format="json",
    )
    assert response.status_code == 403
    assert not DataPoint.objects.exists()


def test_site_bound_ven_pushes_its_own_site_only(world: World) -> None:
    own_site, other_site = SiteFactory(owner=world.owner_a), SiteFactory(owner=world.owner_a)
    own = TimeSeriesFactory(site=own_site, quantity="site_power_kw")
    other = TimeSeriesFactory(site=other_site, quantity="site_power_kw")
    zone = ZoneSeriesFactory()
    client = _bearer(world, ApiClientRole.VEN, site=own_site)
    rows = [{"start": "2022-09-01T00:00:00Z", "value": 5200.0}]
    assert client.post(f"/api/v1/timeseries/{own.pk}/data/", rows, format="json").status_code == 200
    assert client.post(f"/api/v1/timeseries/{other.pk}/data/", rows, format="json").status_code == 404
    assert client.post(f"/api/v1/timeseries/{zone.pk}/data/", rows, format="json").status_code == 403
    assert client.get(f"/api/v1/timeseries/{zone.pk}/data/").status_code == 200
    create = client.post(
        "/api/v1/timeseries/",
        {"site": own_site.pk, "quantity": "it_power_kw", "resolution": "PT5M"},
        format="json",
    )
    assert create.status_code == 403  # a VEN pushes data; registering sensors is for the owner's people
    assert list(DataPoint.objects.values_list("series_id", flat=True)) == [own.pk]


def test_unbound_ven_may_not_write(world: World) -> None:
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    client = _bearer(world, ApiClientRole.VEN)
    response = client.post(
        f"/api/v1/timeseries/{series.pk}/data/",
        [{"start": "2022-09-01T00:00:00Z", "value": 1.0}],
        format="json",
    )
    assert response.status_code == 403


# --- read --------------------------------------------------------------------------------------------------


def test_read_resampled_with_gaps(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    client = api_as("owner_a")
    rows = [
        {"start": f"2022-09-01T{h:02d}:{m:02d}:00Z", "value": float(v)}
        for v, (h, m) in enumerate([(0, 0), (0, 15), (0, 30), (0, 45), (1, 0), (1, 15), (3, 0)])
    ]
    assert client.post(f"/api/v1/timeseries/{series.pk}/data/", rows, format="json").status_code == 200
    response = client.get(
        f"/api/v1/timeseries/{series.pk}/data/",
        {"start": "2022-09-01T00:00:00Z", "end": "2022-09-01T04:00:00Z", "resolution": "PT1H"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["aggregation"], body["resolution"], body["unit"]) == ("mean", "PT1H", "kW")
    assert body["data"] == [
        {"start": "2022-09-01T00:00:00Z", "value": 1.5, "coverage": 1.0},
        {"start": "2022-09-01T01:00:00Z", "value": 4.5, "coverage": 0.5},
        {"start": "2022-09-01T03:00:00Z", "value": 6.0, "coverage": 0.25},
    ]
    assert body["gaps"] == [
        {"start": "2022-09-01T01:30:00Z", "end": "2022-09-01T03:00:00Z"},
        {"start": "2022-09-01T03:15:00Z", "end": "2022-09-01T04:00:00Z"},
    ]


def test_read_defaults_to_the_last_week_of_data(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = ZoneSeriesFactory()
    api_as("staff").post(
        f"/api/v1/timeseries/{series.pk}/data/",
        [{"start": "2022-09-20T05:00:00Z", "value": 42.0}],
        format="json",
    )
    body = api_as("owner_b").get(f"/api/v1/timeseries/{series.pk}/data/").json()
    assert body["end"] == "2022-09-20T06:00:00Z" and body["start"] == "2022-09-13T06:00:00Z"
    assert body["data"] == [{"start": "2022-09-20T05:00:00Z", "value": 42.0, "coverage": 1.0}]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2022-09-01T00:00:00", "end": "2022-09-02T00:00:00Z"},  # no offset
        {"start": "2022-09-02T00:00:00Z", "end": "2022-09-01T00:00:00Z"},  # end before start
        {"start": "2022-09-01T00:00:00Z", "end": "2022-09-02T00:00:00Z", "resolution": "PT7M"},
        {"start": "2022-09-01T00:00:00Z", "end": "2022-09-02T00:00:00Z", "resolution": "soon"},
        {"start": "2000-01-01T00:00:00Z", "end": "2022-09-02T00:00:00Z", "resolution": "PT1M"},  # too many
    ],
)
def test_read_refusals(world: World, api_as, params) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    response = api_as("owner_a").get(f"/api/v1/timeseries/{series.pk}/data/", params)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] in ("start", "end", "resolution")


def test_detail_reports_extent(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory(site=SiteFactory(owner=world.owner_a))
    api_as("owner_a").post(
        f"/api/v1/timeseries/{series.pk}/data/",
        [{"start": "2022-09-01T00:00:00Z", "value": 1.0}, {"start": "2022-09-02T00:00:00Z", "value": 2.0}],
        format="json",
    )
    body = api_as("owner_a").get(f"/api/v1/timeseries/{series.pk}/").json()
    assert (body["first_start"], body["last_start"], body["points"]) == (
        "2022-09-01T00:00:00Z",
        "2022-09-02T00:00:00Z",
        2,
    )


def test_list_filters(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a)
    own = TimeSeriesFactory(site=site)
    battery_series = TimeSeriesFactory(site=None, battery=BatteryFactory(site=site), quantity="soc_kwh")
    price = ZoneSeriesFactory()
    carbon = ZoneSeriesFactory(market_zone_id="PJM_DOM", quantity="carbon_intensity_g_per_kwh")
    client = api_as("owner_a")

    def ids(**params) -> set[int]:  # type: ignore[no-untyped-def]
        return {s["id"] for s in client.get("/api/v1/timeseries/", params).json()["results"]}

    assert ids(site=site.pk) == {own.pk, battery_series.pk}
    assert ids(zone="PJM_DOM") == {carbon.pk}
    assert ids(quantity="price") == {price.pk}
    assert ids(owner=f"site:{site.pk}") == {own.pk}
    assert ids(quantity=["price", "soc_kwh"]) == {price.pk, battery_series.pk}
