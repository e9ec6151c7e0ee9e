"""``manage.py load_bundled_data`` on the slices shipped in data/: zone series created with the right units and
conversions, site slices on the demo portfolio, idempotent; and the slices are reproducible from ../shared."""

from __future__ import annotations

import filecmp
import importlib.util
import io
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.core.management import call_command

from apps.assets.demo_portfolio import demo_portfolio_seed
from apps.telemetry.models import DataPoint, TimeSeries
from apps.telemetry.selectors import datapoints_series, timeseries_resampled

pytestmark = pytest.mark.django_db

DATA = Path(settings.BASE_DIR) / "data"
AUG, OCT = pd.Timestamp("2022-08-01T00:00Z"), pd.Timestamp("2022-10-01T00:00Z")


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_bundled_data", *args, stdout=out, verbosity=1)
    return out.getvalue()


def zone_series(code: str, quantity: str, name: str = "") -> TimeSeries:
    return TimeSeries.objects.get(owner_key=f"zone:{code}", quantity=quantity, name=name)


def test_loads_the_shipped_slices_onto_zones_and_demo_sites() -> None:
    demo_portfolio_seed(password="pw-for-tests-1")
    output = load()
    assert "7 files, 49 series (49 new)" in output
    # prices: one point per hour of August–September 2022, in the zone's currency
    caiso = zone_series("CAISO_NP15", "price")
    assert caiso.unit == "USD/MWh" and caiso.resolution == "PT1H"
    assert DataPoint.objects.filter(series=caiso).count() == 61 * 24
    assert zone_series("DE_LU", "price").unit == "EUR/MWh"
    # conversions: system load MW → kW, wind km/h → m/s (first row of the PJM slice: 14352 MW, 18.9 km/h)
    first = pd.read_csv(DATA / "zones" / "pjm_dom_2022-08_2022-09_hourly.csv", nrows=1).iloc[0]
    load_kw = datapoints_series(series=zone_series("PJM_DOM", "system_load_kw"), start=AUG, end=OCT)
    wind = datapoints_series(series=zone_series("PJM_DOM", "wind_speed_m_per_s"), start=AUG, end=OCT)
    assert load_kw.iloc[0] == pytest.approx(first["system_load_mw"] * 1000)
    assert wind.iloc[0] == pytest.approx(first["wind_speed_10m_kmh"] / 3.6)
    assert zone_series("NYISO_CAPITL", "carbon_intensity_g_per_kwh", "lifecycle").unit == "gCO2eq/kWh"
    # the DE-LU slice has missing hours; the selector reports them as gaps
    de = timeseries_resampled(series=zone_series("DE_LU", "price"), start=AUG, end=OCT)
    assert de.gaps and de.values.isna().sum() == sum((b - a) / pd.Timedelta(hours=1) for a, b in de.gaps)
    # site slices on the demo portfolio
    pdu = TimeSeries.objects.filter(site__name="Ashburn DC1", quantity="utilization_fraction")
    assert sorted(pdu.values_list("name", flat=True)) == [
        "google-cella-pdu6",
        "google-cella-pdu7",
        "google-cella-pdu8",
    ]
    assert DataPoint.objects.filter(series=pdu.first()).count() == 8928
    poa = TimeSeries.objects.get(pv_array__site__name="San Jose DC1", quantity="poa_irradiance_w_per_m2")
    assert poa.resolution == "PT15M" and DataPoint.objects.filter(series=poa).count() == 5856
    # the POA file has fixed −07:00 offsets: 2022-07-31T17:00-07:00 is stored as 2022-08-01T00:00Z
    assert DataPoint.objects.filter(series=poa).order_by("start").first().start == AUG


def test_idempotent_and_zones_only_without_demo_sites() -> None:
    output = load()
    assert "PDU traces skipped" in output and "PV irradiance skipped" in output
    count = DataPoint.objects.count()
    assert TimeSeries.objects.filter(market_zone__isnull=False).count() == TimeSeries.objects.count() == 45
    again = load("--zones", "CAISO_NP15", "ERCOT_HUB")
    assert "0 new" in again and "0 points created, 0 updated" in again
    assert DataPoint.objects.count() == count


MINE = ("zones", "sites")  # the slices cut by data/make_slices.py (other apps may add their own folders)


def test_bundled_data_is_small() -> None:
    size = sum(p.stat().st_size for folder in MINE for p in (DATA / folder).rglob("*") if p.is_file())
    assert size < 3 * 1024 * 1024
    assert (DATA / "SOURCE.md").is_file()


SHARED = Path(settings.BASE_DIR).parent / "shared" / "data"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not available")
def test_slices_are_reproducible_from_shared(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_slices", DATA / "make_slices.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    module.write_slices(SHARED, tmp_path)
    shipped_files = sorted(p for folder in MINE for p in (DATA / folder).rglob("*.csv"))
    assert len(shipped_files) == 7
    for shipped in shipped_files:
        rebuilt = tmp_path / shipped.relative_to(DATA)
        assert filecmp.cmp(shipped, rebuilt, shallow=False), f"{shipped.name} differs from a fresh cut"
