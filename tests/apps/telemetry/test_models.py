"""Database guarantees of the time-series tables: exactly one owner, derived owner key, unique
(owner, quantity, name) and unique (series, start)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.core.models import MarketZone
from apps.telemetry.durations import duration_iso, duration_seconds, resolution_seconds
from apps.telemetry.models import DataPoint, TimeSeries
from tests.factories import SiteFactory, TimeSeriesFactory, ZoneSeriesFactory

pytestmark = pytest.mark.django_db


def test_owner_key_is_derived() -> None:
    site_series = TimeSeriesFactory()
    zone_series = ZoneSeriesFactory()
    assert site_series.owner_key == f"site:{site_series.site_id}"
    assert zone_series.owner_key == "zone:CAISO_NP15"
    assert (site_series.owner_kind, zone_series.owner_kind) == ("site", "zone")
    assert zone_series.aggregation == "mean"


def test_check_constraint_refuses_two_owners_and_none() -> None:
    zone = MarketZone.objects.get(code="PJM_DOM")
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeSeriesFactory(site=SiteFactory(), market_zone=zone)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeSeries.objects.bulk_create(  # bulk_create skips save(): the database itself refuses
            [
                TimeSeries(
                    owner_key="none", quantity="price", unit="USD/MWh", resolution="PT1H", resolution_s=3600
                )
            ]
        )


def test_unique_quantity_and_name_per_owner() -> None:
    series = TimeSeriesFactory()
    TimeSeriesFactory(site=series.site, name="second meter")  # another name is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeSeriesFactory(site=series.site)


def test_unique_series_start() -> None:
    series = TimeSeriesFactory()
    DataPoint.objects.create(series=series, start="2022-09-01T00:00:00Z", value=1.0)
    with pytest.raises(IntegrityError), transaction.atomic():
        DataPoint.objects.create(series=series, start="2022-09-01T00:00:00Z", value=2.0)


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT5M", 300), ("pt15m", 900), ("PT1H", 3600), ("P1D", 86400), ("PT1H30M", 5400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds
    assert duration_seconds(duration_iso(seconds)) == seconds


@pytest.mark.parametrize("text", ["P1M", "PT0S", "P", "PT", "15min", "P1Y", "PT1H30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        duration_seconds(text)


def test_resolution_must_divide_a_day() -> None:
    assert resolution_seconds("PT30M") == 1800
    with pytest.raises(ValueError, match="divide one day"):
        resolution_seconds("PT7M")
