"""The ingestion service: each refusal names the row and the reason and writes nothing; accepted batches are
upserts (same start again replaces the value, equal values are left alone)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from apps.core.errors import ConflictError
from apps.telemetry.models import DataPoint, TimeSeries
from apps.telemetry.pg import copy_payload
from apps.telemetry.services import datapoints_ingest
from apps.telemetry.validation import MAX_REPORTED_ERRORS, BatchRefused, parse_csv, parse_records
from tests.factories import BatteryFactory, PVArrayFactory, SiteFactory, TimeSeriesFactory, ZoneSeriesFactory

pytestmark = pytest.mark.django_db


def rows(*pairs):  # type: ignore[no-untyped-def]
    return [{"start": s, "value": v} for s, v in pairs]


def refusal(series, records) -> BatchRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(BatchRefused) as info:
        datapoints_ingest(series=series, rows=parse_records(records))
    assert not DataPoint.objects.filter(series=series).exists(), "nothing may be written"
    return info.value


def paths(exc: BatchRefused) -> list[str]:
    return [e.path for e in exc.row_errors]


def test_postgresql_is_used() -> None:
    assert connection.vendor == "postgresql", "these tests must run against PostgreSQL (set DATABASE_URL)"


def test_accepts_and_stores_utc() -> None:
    series = TimeSeriesFactory()
    result = datapoints_ingest(
        series=series,
        rows=parse_records(rows(("2022-09-01T00:15:00Z", 10.5), ("2022-09-01T02:00:00+02:00", 7))),
    )
    assert (result.rows, result.created, result.updated, result.unchanged) == (2, 2, 0, 0)
    stored = list(DataPoint.objects.filter(series=series).order_by("start").values_list("start", "value"))
    assert [(s.isoformat(), v) for s, v in stored] == [
        ("2022-09-01T00:00:00+00:00", 7.0),  # 02:00+02:00 is 00:00Z
        ("2022-09-01T00:15:00+00:00", 10.5),
    ]
    assert result.first_start == pd.Timestamp("2022-09-01T00:00Z")


def test_upsert_replaces_values_and_counts_unchanged() -> None:
    series = TimeSeriesFactory()
    datapoints_ingest(
        series=series, rows=parse_records(rows(("2022-09-01T00:00Z", 1), ("2022-09-01T00:15Z", 2)))
    )
    result = datapoints_ingest(
        series=series,
        rows=parse_records(
            rows(("2022-09-01T00:00Z", 1), ("2022-09-01T00:15Z", 5), ("2022-09-01T00:30Z", 3))
        ),
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    values = list(DataPoint.objects.filter(series=series).order_by("start").values_list("value", flat=True))
    assert values == [1.0, 5.0, 3.0]
    assert DataPoint.objects.filter(series=series).count() == 3


def test_sparse_batch_over_a_long_history_is_merged_on_the_server() -> None:
    series = TimeSeriesFactory()
    index = pd.date_range("2022-09-01", periods=100, freq="15min", tz="UTC")
    datapoints_ingest(series=series, rows=pd.Series(np.arange(100.0), index=index))
    # two rows spanning 200 intervals: the ON CONFLICT path (no read of the span)
    far = index[0] + pd.Timedelta(minutes=15 * 200)
    sparse = pd.Series([42.0, 99.0, 7.0], index=pd.DatetimeIndex([index[0], index[99], far]))
    result = datapoints_ingest(series=series, rows=sparse)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    stored = dict(DataPoint.objects.filter(series=series).values_list("start", "value"))
    assert len(stored) == 101
    assert stored[index[0].to_pydatetime()] == 42.0 and stored[far.to_pydatetime()] == 7.0


def test_series_are_independent() -> None:
    a, b = TimeSeriesFactory(), TimeSeriesFactory()
    datapoints_ingest(series=a, rows=parse_records(rows(("2022-09-01T00:00Z", 1))))
    datapoints_ingest(series=b, rows=parse_records(rows(("2022-09-01T00:00Z", 2))))
    assert DataPoint.objects.get(series=a).value == 1.0
    assert DataPoint.objects.get(series=b).value == 2.0


def test_timestamp_without_offset_refused() -> None:
    exc = refusal(TimeSeriesFactory(), rows(("2022-09-01T00:00:00Z", 1), ("2022-09-01T00:15:00", 2)))
    assert paths(exc) == ["rows[1].start"]
    assert "no UTC offset" in exc.row_errors[0].reason


@pytest.mark.parametrize("bad", ["2022-09-01", "yesterday", "2022-13-01T00:00:00Z", "", 1662000000, None])
def test_malformed_start_refused(bad) -> None:  # type: ignore[no-untyped-def]
    exc = refusal(TimeSeriesFactory(), rows(("2022-09-01T00:00:00Z", 1), (bad, 2)))
    assert paths(exc) == ["rows[1].start"]


def test_misaligned_refused() -> None:
    exc = refusal(TimeSeriesFactory(), rows(("2022-09-01T00:00:00Z", 1), ("2022-09-01T00:07:00Z", 2)))
    assert paths(exc) == ["rows[1].start"]
    assert "not aligned to the series resolution PT15M" in exc.row_errors[0].reason


def test_duplicate_in_batch_refused_naming_both_rows() -> None:
    exc = refusal(
        TimeSeriesFactory(),
        rows(("2022-09-01T00:00:00Z", 1), ("2022-09-01T00:15:00Z", 2), ("2022-09-01T02:15:00+02:00", 3)),
    )
    assert paths(exc) == ["rows[2].start"]
    assert "rows[1]" in exc.row_errors[0].reason


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_refused(bad: float) -> None:
    exc = refusal(TimeSeriesFactory(), rows(("2022-09-01T00:00:00Z", 1), ("2022-09-01T00:15:00Z", bad)))
    assert paths(exc) == ["rows[1].value"]


def test_integer_beyond_float_range_is_refused_as_infinite() -> None:
    exc = refusal(TimeSeriesFactory(), rows(("2022-09-01T00:00:00Z", 1), ("2022-09-01T00:15:00Z", 10**400)))
    assert paths(exc) == ["rows[1].value"] and "infinite" in exc.row_errors[0].reason


def test_csv_with_byte_order_mark() -> None:
    series = TimeSeriesFactory()
    result = datapoints_ingest(series=series, rows=parse_csv("\ufeffstart,value\n2022-09-01T00:00:00Z,1\n"))
    assert result.created == 1


@pytest.mark.parametrize("bad", ["12", True, None, [1]])
def test_non_numbers_refused(bad) -> None:  # type: ignore[no-untyped-def]
    exc = refusal(TimeSeriesFactory(), rows(("2022-09-01T00:00:00Z", 1), ("2022-09-01T00:15:00Z", bad)))
    assert paths(exc) == ["rows[1].value"]


def test_rows_that_are_not_objects_or_miss_fields() -> None:
    exc = refusal(
        TimeSeriesFactory(), [{"start": "2022-09-01T00:00Z", "value": 1}, 5, {"start": "2022-09-01T00:30Z"}]
    )
    assert paths(exc) == ["rows[1]", "rows[2].value"]


def test_negative_pv_refused() -> None:
    series = TimeSeriesFactory(
        site=None, pv_array=PVArrayFactory(dc_capacity_kwp=500), quantity="pv_power_kw"
    )
    exc = refusal(series, rows(("2022-09-01T18:00Z", 120.0), ("2022-09-01T18:15Z", -0.5)))
    assert paths(exc) == ["rows[1].value"]
    assert "negative PV" in exc.row_errors[0].reason


def test_pv_above_dc_capacity_refused() -> None:
    series = TimeSeriesFactory(
        site=None, pv_array=PVArrayFactory(dc_capacity_kwp=500), quantity="pv_power_kw"
    )
    exc = refusal(series, rows(("2022-09-01T18:00Z", 500.0), ("2022-09-01T18:15Z", 500.1)))
    assert paths(exc) == ["rows[1].value"]
    assert "500 kWp" in exc.row_errors[0].reason


def test_soc_above_battery_capacity_refused() -> None:
    battery = BatteryFactory(energy_capacity_kwh=1000)
    series = TimeSeriesFactory(
        site=None, battery=battery, quantity="soc_kwh", unit="kWh", resolution="PT5M", resolution_s=300
    )
    exc = refusal(
        series, rows(("2022-09-01T00:00Z", 1000), ("2022-09-01T00:05Z", 1000.5), ("2022-09-01T00:10Z", -1))
    )
    assert paths(exc) == ["rows[1].value", "rows[2].value"]
    assert "energy capacity of 1000 kWh" in exc.row_errors[0].reason


def test_battery_power_beyond_rating_refused() -> None:
    battery = BatteryFactory(max_charge_kw=500, max_discharge_kw=400)
    series = TimeSeriesFactory(site=None, battery=battery, quantity="battery_power_kw")
    exc = refusal(series, rows(("2022-09-01T00:00Z", 500), ("2022-09-01T00:15Z", -400.5)))
    assert paths(exc) == ["rows[1].value"]


def test_quantity_range_refused() -> None:
    exc = refusal(ZoneSeriesFactory(quantity="cloud_cover_pct", unit="%"), rows(("2022-09-01T00:00Z", 101)))
    assert paths(exc) == ["rows[0].value"]


def test_every_error_counted_but_listing_capped() -> None:
    starts = pd.date_range("2022-09-01", periods=1000, freq="15min")  # naive: no offset
    records = [{"start": s.isoformat(), "value": float(i)} for i, s in enumerate(starts)]
    exc = refusal(TimeSeriesFactory(), records)
    assert exc.total == 1000
    assert len(exc.row_errors) == MAX_REPORTED_ERRORS
    assert paths(exc)[:2] == ["rows[0].start", "rows[1].start"]
    summary = exc.message_dict["__all__"][0]
    assert "1000 error(s)" in summary and "first 100" in summary


def test_one_bad_row_among_many_writes_nothing() -> None:
    series = TimeSeriesFactory()
    starts = pd.date_range("2022-09-01", periods=5000, freq="15min", tz="UTC")
    records = [{"start": s.isoformat(), "value": 1.0} for s in starts]
    records[4321]["value"] = -5.0  # IT power cannot be negative
    exc = refusal(series, records)
    assert paths(exc) == ["rows[4321].value"]


def test_csv_batch() -> None:
    series = TimeSeriesFactory()
    text = "start,value\n2022-09-01T00:00:00Z,1.5\n\n2022-09-01T00:15:00+00:00, 2\n"
    result = datapoints_ingest(series=series, rows=parse_csv(text))
    assert result.created == 2
    assert sorted(DataPoint.objects.filter(series=series).values_list("value", flat=True)) == [1.5, 2.0]


def test_csv_errors_name_rows() -> None:
    series = TimeSeriesFactory()
    text = "value,start\n1,2022-09-01T00:00:00Z\nabc,2022-09-01T00:15:00Z\n,2022-09-01T00:30:00Z\nnan,2022-09-01T00:45Z\n"
    with pytest.raises(BatchRefused) as info:
        datapoints_ingest(series=series, rows=parse_csv(text))
    assert paths(info.value) == ["rows[1].value", "rows[2].value", "rows[3].value"]
    assert not DataPoint.objects.exists()


def test_csv_without_header_refused() -> None:
    with pytest.raises(BatchRefused) as info:
        parse_csv("2022-09-01T00:00:00Z,1\n")
    assert "start" in info.value.message_dict["__all__"][0]


def test_pandas_series_input_and_naive_index_refused() -> None:
    series = TimeSeriesFactory()
    index = pd.date_range("2022-09-01", periods=96, freq="15min", tz="America/Los_Angeles")
    result = datapoints_ingest(series=series, rows=pd.Series(np.arange(96.0), index=index))
    assert result.created == 96
    first = DataPoint.objects.filter(series=series).order_by("start").first()
    assert first.start.isoformat() == "2022-09-01T07:00:00+00:00"  # PDT = UTC−7
    with pytest.raises(BatchRefused):
        datapoints_ingest(series=series, rows=pd.Series([1.0], index=pd.DatetimeIndex(["2022-09-02"])))


def test_binary_copy_payload_layout() -> None:
    payload = copy_payload(np.array([946_684_800_000_000], dtype=np.int64), np.array([1.0]))
    assert payload[:11] == b"PGCOPY\n\xff\r\n\x00"
    # one tuple: 2 fields, 8 bytes of timestamp 0 (2000-01-01 in PostgreSQL's epoch), 8 bytes of float 1.0
    assert (
        payload[19:]
        == b"\x00\x02"
        + b"\x00\x00\x00\x08"
        + b"\x00" * 8
        + b"\x00\x00\x00\x08"
        + b"\x3f\xf0"
        + b"\x00" * 6
        + b"\xff\xff"
    )


def test_ingest_into_a_deleted_series_is_refused() -> None:
    series = TimeSeriesFactory()
    TimeSeries.objects.filter(pk=series.pk).delete()
    with pytest.raises(ConflictError):
        datapoints_ingest(series=series, rows=parse_records(rows(("2022-09-01T00:00Z", 1))))
    assert not DataPoint.objects.exists()


def test_deleting_a_series_deletes_its_points() -> None:
    series = TimeSeriesFactory()
    datapoints_ingest(series=series, rows=parse_records(rows(("2022-09-01T00:00Z", 1))))
    TimeSeries.objects.filter(pk=series.pk).delete()  # queryset delete, as the admin's bulk action does
    assert not DataPoint.objects.exists()


def test_deleting_a_draft_site_deletes_its_series() -> None:
    site = SiteFactory()
    series = TimeSeriesFactory(site=site)
    datapoints_ingest(series=series, rows=parse_records(rows(("2022-09-01T00:00Z", 1))))
    site.delete()  # a draft site takes its telemetry with it
    assert not DataPoint.objects.exists()
