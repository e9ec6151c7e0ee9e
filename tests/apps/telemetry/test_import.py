"""The CSV importer: column mappings with scale factors, time-zone handling of local-time files on DST
transition days (fall back inferred from row order; spring-forward gaps refused), filters, labels, and
all-or-nothing refusals with line numbers."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from apps.telemetry.importer import ImportRefused, parse_mapping, parse_times
from apps.telemetry.models import DataPoint, TimeSeries
from tests.factories import SiteFactory, TimeSeriesFactory

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_timeseries", *args, "--no-progress", stdout=out)
    return out.getvalue()


def stored(series: TimeSeries) -> list[tuple[str, float]]:
    return [
        (s.isoformat().replace("+00:00", "Z"), v)
        for s, v in DataPoint.objects.filter(series=series).order_by("start").values_list("start", "value")
    ]


def test_fall_back_day_in_local_time_is_inferred_from_order(tmp_path: Path) -> None:
    site = SiteFactory(timezone="America/Los_Angeles")
    csv = write(
        tmp_path,
        "time,kw\n"
        "2022-11-06 00:00,100\n2022-11-06 01:00,101\n2022-11-06 01:00,102\n2022-11-06 02:00,103\n2022-11-06 03:00,104\n",
    )
    run(csv, "--site", str(site.pk), "--tz", "America/Los_Angeles", "--map", "kw=site_power_kw")
    series = TimeSeries.objects.get(site=site, quantity="site_power_kw")
    assert series.resolution == "PT1H"
    assert stored(series) == [
        ("2022-11-06T07:00:00Z", 100.0),  # 00:00 PDT
        ("2022-11-06T08:00:00Z", 101.0),  # first 01:00 = PDT (UTC−7)
        ("2022-11-06T09:00:00Z", 102.0),  # second 01:00 = PST (UTC−8)
        ("2022-11-06T10:00:00Z", 103.0),
        ("2022-11-06T11:00:00Z", 104.0),
    ]


def test_fall_back_at_15_minutes_in_europe(tmp_path: Path) -> None:
    site = SiteFactory(timezone="Europe/Berlin")
    local = ["01:45", "02:00", "02:15", "02:30", "02:45", "02:00", "02:15", "02:30", "02:45", "03:00"]
    csv = write(tmp_path, "time,kw\n" + "".join(f"2022-10-30 {t},{i}\n" for i, t in enumerate(local)))
    run(csv, "--site", str(site.pk), "--tz", "Europe/Berlin", "--map", "kw=it_power_kw")
    starts = [s for s, _ in stored(TimeSeries.objects.get(site=site))]
    # 01:45 CEST = 23:45Z; the first 02:xx run is CEST (00:xxZ), the second CET (01:xxZ); 03:00 CET = 02:00Z
    assert starts == ["2022-10-29T23:45:00Z"] + [
        f"2022-10-30T{h}:{m}:00Z" for h in ("00", "01") for m in ("00", "15", "30", "45")
    ] + ["2022-10-30T02:00:00Z"]


def test_spring_forward_gap_is_refused_with_line_number(tmp_path: Path) -> None:
    site = SiteFactory()
    csv = write(
        tmp_path,
        "time,kw\n2022-03-13 00:00,1\n2022-03-13 01:00,2\n2022-03-13 02:00,3\n2022-03-13 03:00,4\n",
    )
    with pytest.raises(CommandError) as info:
        run(csv, "--site", str(site.pk), "--tz", "America/Los_Angeles", "--map", "kw=site_power_kw")
    message = str(info.value)
    assert "line 4" in message and "2022-03-13 02:00 does not exist in America/Los_Angeles" in message
    assert not TimeSeries.objects.exists() and not DataPoint.objects.exists()


def test_spring_forward_day_without_the_missing_hour(tmp_path: Path) -> None:
    site = SiteFactory()
    csv = write(tmp_path, "time,kw\n2022-03-13 00:00,1\n2022-03-13 01:00,2\n2022-03-13 03:00,3\n")
    run(
        csv,
        "--site",
        str(site.pk),
        "--tz",
        "America/Los_Angeles",
        "--map",
        "kw=site_power_kw",
        "--resolution",
        "PT1H",
    )
    assert [s for s, _ in stored(TimeSeries.objects.get(site=site))] == [
        "2022-03-13T08:00:00Z",  # PST
        "2022-03-13T09:00:00Z",
        "2022-03-13T10:00:00Z",  # 03:00 PDT: one hour after 01:00 PST
    ]


def test_single_ambiguous_hour_needs_a_choice(tmp_path: Path) -> None:
    site = SiteFactory()
    csv = write(tmp_path, "time,kw\n2022-11-06 00:00,1\n2022-11-06 01:00,2\n2022-11-06 02:00,3\n")
    with pytest.raises(CommandError, match="--ambiguous"):
        run(csv, "--site", str(site.pk), "--tz", "America/Los_Angeles", "--map", "kw=site_power_kw")
    assert not DataPoint.objects.exists()
    run(
        csv,
        "--site",
        str(site.pk),
        "--tz",
        "America/Los_Angeles",
        "--map",
        "kw=site_power_kw",
        "--ambiguous",
        "standard",
        "--resolution",
        "PT1H",
    )
    assert stored(TimeSeries.objects.get(site=site))[1] == ("2022-11-06T09:00:00Z", 2.0)  # 01:00 PST


def test_naive_times_without_tz_and_mixed_offsets_refused() -> None:
    with pytest.raises(ImportRefused, match="--tz"):
        parse_times(pd.Series(["2022-09-01 00:00"]), tz=None)
    with pytest.raises(ImportRefused, match="mixes"):
        parse_times(pd.Series(["2022-09-01T00:00:00Z", "2022-09-01 01:00"]), tz="UTC")
    with pytest.raises(ImportRefused, match="not ISO 8601"):
        parse_times(pd.Series(["2022-09-01T00:00:00Z", "2022-13-01T00:00:00Z"]), tz=None)


def test_several_columns_scale_factors_and_source(tmp_path: Path) -> None:
    csv = write(
        tmp_path,
        "timestamp_utc,load_mw,wind_kmh,price\n"
        "2022-09-01T00:00:00Z,14.352,36,85.5\n2022-09-01T01:00:00Z,14.039,,90\n",
    )
    output = run(
        csv,
        "--zone",
        "PJM_DOM",
        "--map",
        "load_mw=system_load_kw*1000",
        "--map",
        "wind_kmh=wind_speed_m_per_s/3.6",
        "--map",
        "price=price",
        "--source",
        "test data",
    )
    load = TimeSeries.objects.get(owner_key="zone:PJM_DOM", quantity="system_load_kw")
    wind = TimeSeries.objects.get(owner_key="zone:PJM_DOM", quantity="wind_speed_m_per_s")
    price = TimeSeries.objects.get(owner_key="zone:PJM_DOM", quantity="price")
    assert [v for _, v in stored(load)] == pytest.approx([14352.0, 14039.0])
    assert stored(wind) == [("2022-09-01T00:00:00Z", pytest.approx(10.0))]  # the empty cell is skipped
    assert (price.unit, price.source) == ("USD/MWh", "test data")
    assert "1 empty/NA cells skipped" in output


def test_long_file_filter_and_hour_ending_labels(tmp_path: Path) -> None:
    site = SiteFactory()
    csv = write(
        tmp_path,
        "hour_ending,pdu,util\n"
        "2019-05-01T08:00:00Z,pdu6,0.6\n2019-05-01T08:00:00Z,pdu7,0.7\n"
        "2019-05-01T09:00:00Z,pdu6,0.61\n2019-05-01T09:00:00Z,pdu7,0.71\n",
    )
    run(
        csv,
        "--site",
        str(site.pk),
        "--where",
        "pdu=pdu7",
        "--map",
        "util=utilization_fraction:pdu7",
        "--time-label",
        "end",
    )
    series = TimeSeries.objects.get(site=site, name="pdu7")
    assert stored(series) == [("2019-05-01T07:00:00Z", 0.7), ("2019-05-01T08:00:00Z", 0.71)]


def test_out_of_range_and_text_refused_with_lines_and_nothing_written(tmp_path: Path) -> None:
    csv = write(
        tmp_path,
        "timestamp_utc,ci,low\n2022-09-01T00:00:00Z,200,40\n2022-09-01T01:00:00Z,-5,40\n2022-09-01T02:00:00Z,210,n/a\n",
    )
    with pytest.raises(CommandError) as info:
        run(
            csv,
            "--zone",
            "ERCOT_HUB",
            "--map",
            "ci=carbon_intensity_g_per_kwh",
            "--map",
            "low=low_carbon_pct",
        )
    message = str(info.value)
    assert "line 3, ci:" in message and "line 4, low: 'n/a' is not a number" in message
    assert not TimeSeries.objects.exists() and not DataPoint.objects.exists()


def test_duplicate_times_refused(tmp_path: Path) -> None:
    csv = write(
        tmp_path,
        "timestamp_utc,p\n2022-09-01T00:00:00Z,1\n2022-09-01T01:00:00+01:00,2\n2022-09-01T01:00:00Z,3\n",
    )
    with pytest.raises(CommandError, match=r"line 3, p: duplicate start"):
        run(csv, "--zone", "ERCOT_HUB", "--map", "p=price")


def test_dry_run_and_window(tmp_path: Path) -> None:
    csv = write(tmp_path, "t,p\n2022-09-01T00:00:00Z,1\n2022-09-01T01:00:00Z,2\n2022-09-01T02:00:00Z,3\n")
    run(csv, "--zone", "ERCOT_HUB", "--map", "p=price", "--dry-run")
    assert not TimeSeries.objects.exists()
    run(
        csv,
        "--zone",
        "ERCOT_HUB",
        "--map",
        "p=price",
        "--from",
        "2022-09-01T01:00:00Z",
        "--to",
        "2022-09-01T02:00:00Z",
    )
    assert [v for _, v in stored(TimeSeries.objects.get())] == [2.0]


def test_existing_series_keeps_its_resolution(tmp_path: Path) -> None:
    series = TimeSeriesFactory()  # it_power_kw at PT15M
    csv = write(tmp_path, "t,kw\n2022-09-01T00:00:00Z,1\n2022-09-01T01:00:00Z,2\n")  # hourly steps
    run(csv, "--site", str(series.site_id), "--map", "kw=it_power_kw")
    assert len(stored(series)) == 2
    with pytest.raises(CommandError, match="resolution PT15M"):
        run(csv, "--site", str(series.site_id), "--map", "kw=it_power_kw", "--resolution", "PT1H")


def test_owner_options() -> None:
    with pytest.raises(CommandError, match="exactly one owner"):
        run("x.csv", "--map", "a=price")
    with pytest.raises(CommandError, match="no zone"):
        run("x.csv", "--zone", "MARS", "--map", "a=price")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("price_usd_per_mwh=price", ("price_usd_per_mwh", "price", "", 1.0)),
        ("demand_mw=system_load_kw*1000", ("demand_mw", "system_load_kw", "", 1000.0)),
        ("w=wind_speed_m_per_s/4", ("w", "wind_speed_m_per_s", "", 0.25)),
        ("pdu6=utilization_fraction:google pdu6", ("pdu6", "utilization_fraction", "google pdu6", 1.0)),
    ],
)
def test_parse_mapping(text: str, expected: tuple) -> None:
    m = parse_mapping(text)
    assert (m.column, m.quantity, m.name, m.scale) == expected


@pytest.mark.parametrize("text", ["nocolumn", "a=unknown_quantity", "a=price*-1", "a=price*x"])
def test_parse_mapping_refusals(text: str) -> None:
    with pytest.raises(ValueError):
        parse_mapping(text)


def test_sentinels_and_rows_without_time_can_be_skipped(tmp_path: Path) -> None:
    csv = write(
        tmp_path,
        "t,kw\n2016-04-05T13:25:00Z,1.5\n2016-04-05T13:30:00Z,-1000000.0\n,2.0\n2016-04-05T13:35:00Z,2.5\n",
    )
    site = SiteFactory()
    with pytest.raises(CommandError, match="line 4: empty time cell"):  # refused by default
        run(csv, "--site", str(site.pk), "--map", "kw=pv_power_kw", "--resolution", "PT5M")
    with pytest.raises(CommandError, match="negative PV"):  # and so is the sentinel
        run(
            csv,
            "--site",
            str(site.pk),
            "--map",
            "kw=pv_power_kw",
            "--resolution",
            "PT5M",
            "--skip-rows-without-time",
        )
    output = run(
        csv,
        "--site",
        str(site.pk),
        "--map",
        "kw=pv_power_kw",
        "--resolution",
        "PT5M",
        "--skip-rows-without-time",
        "--na-value=-1000000.0",
    )
    assert "1 rows without a time skipped" in output and "1 empty/NA cells skipped" in output
    assert stored(TimeSeries.objects.get(site=site)) == [
        ("2016-04-05T13:25:00Z", 1.5),
        ("2016-04-05T13:35:00Z", 2.5),
    ]
