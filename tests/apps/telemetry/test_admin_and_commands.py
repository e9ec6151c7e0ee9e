"""Admin pages of the time-series store (data points never listed without a series), the portable upsert and
read used on SQLite, and the benchmark command at CI size (it runs and cleans up; no timing asserted)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from apps.accounts.models import Organisation
from apps.telemetry import selectors, services, upsert
from apps.telemetry.models import DataPoint, TimeSeries
from apps.telemetry.validation import CleanBatch
from tests.conftest import World
from tests.factories import TimeSeriesFactory, UserFactory


@pytest.fixture
def admin_client(db, client):  # type: ignore[no-untyped-def]
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_pages(admin_client) -> None:  # type: ignore[no-untyped-def]
    series = TimeSeriesFactory()
    services.datapoints_ingest(
        series=series,
        rows=pd.Series([1.0, 2.0], index=pd.date_range("2022-09-01", periods=2, freq="15min", tz="UTC")),
    )
    assert admin_client.get("/admin/telemetry/timeseries/").status_code == 200
    assert admin_client.get(f"/admin/telemetry/timeseries/{series.pk}/change/").status_code == 200
    unfiltered = admin_client.get("/admin/telemetry/datapoint/")
    assert unfiltered.status_code == 200
    assert unfiltered.context["cl"].result_count == 0  # never the whole table
    filtered = admin_client.get(f"/admin/telemetry/datapoint/?series__id__exact={series.pk}")
    assert filtered.context["cl"].result_count == 2
    assert admin_client.get("/admin/telemetry/datapoint/add/").status_code == 403
    point = DataPoint.objects.first()
    assert (
        admin_client.post(f"/admin/telemetry/datapoint/{point.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert DataPoint.objects.count() == 2


@pytest.mark.django_db
def test_portable_upsert_and_read() -> None:
    series = TimeSeriesFactory()
    starts = pd.date_range("2022-09-01", periods=3, freq="15min", tz="UTC").as_unit("us").asi8
    assert upsert.upsert_portable(series.pk, CleanBatch(starts, np.array([1.0, 2.0, 3.0]))) == (3, 0)
    assert upsert.upsert_portable(series.pk, CleanBatch(starts, np.array([1.0, 5.0, 3.0]))) == (0, 1)
    got_starts, got_values = selectors._read_portable(series.pk, int(starts[0]), int(starts[-1]) + 1)
    assert got_starts.tolist() == starts.tolist() and got_values.tolist() == [1.0, 5.0, 3.0]


def test_bench_command_small_runs_and_cleans_up(world: World) -> None:
    out = io.StringIO()
    call_command("bench_telemetry", "--small", "--repeat", "2", stdout=out)
    text = out.getvalue()
    assert (
        "service: new rows" in text
        and "ISO 8601 string records" in text
        and "REST: JSON batches" in text
        and "read: 35040 points" in text
    )
    assert "created=20000" in text and "created=5000" in text
    assert not Organisation.objects.filter(slug__startswith="bench-telemetry-").exists()
    assert not TimeSeries.objects.filter(source="bench").exists()


def test_admin_add_applies_the_same_rules(admin_client) -> None:  # type: ignore[no-untyped-def]
    base = {"name": "", "source": "admin", "quantity": "price", "resolution": "PT1H"}
    refused = admin_client.post("/admin/telemetry/timeseries/add/", {**base, "market_zone": "", "site": ""})
    assert refused.status_code == 200 and "exactly one of" in refused.content.decode()
    bad_resolution = admin_client.post(
        "/admin/telemetry/timeseries/add/", {**base, "market_zone": "DE_LU", "resolution": "PT7M"}
    )
    assert bad_resolution.status_code == 200 and not TimeSeries.objects.exists()
    created = admin_client.post(
        "/admin/telemetry/timeseries/add/", {**base, "market_zone": "DE_LU", "resolution": "pt1h"}
    )
    assert created.status_code == 302, created.content[:500]
    series = TimeSeries.objects.get()
    assert (series.owner_key, series.unit, series.resolution, series.resolution_s) == (
        "zone:DE_LU",
        "EUR/MWh",
        "PT1H",
        3600,
    )
    duplicate = admin_client.post("/admin/telemetry/timeseries/add/", {**base, "market_zone": "DE_LU"})
    assert duplicate.status_code == 200 and TimeSeries.objects.count() == 1
