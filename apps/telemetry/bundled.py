"""The real-data slices shipped in ``data/`` (see ``data/SOURCE.md``) and how they map onto series.

Zone slices (August–September 2022, hourly, UTC hour starts): day-ahead/real-time price, Electricity Maps carbon
intensity (direct and life-cycle), low-carbon and renewable shares, Open-Meteo weather at a datacenter hub of
the zone and EIA-930 system load, for CAISO_NP15, ERCOT_HUB, PJM_DOM, NYISO_CAPITL (and price + carbon for
DE_LU). Site slices: Google cell-a PDU power traces (May 2019, 5 min, fraction of rated power) and NREL PVDAQ
system 15 plane-of-array irradiance (August–September 2022, 15 min, Golden CO).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .importer import ColumnMapping

DATA_DIR = Path(settings.BASE_DIR) / "data"


@dataclass(frozen=True)
class BundledFile:
    """One slice: file (relative to ``data/``), time column and the column → series mappings."""

    path: str
    time_column: str
    mappings: tuple[ColumnMapping, ...]
    source: str


_PRICE_SOURCES = {
    "CAISO_NP15": "CAISO OASIS DAM LMP TH_NP15_GEN-APND",
    "ERCOT_HUB": "ERCOT DAM settlement point price HB_HUBAVG",
    "PJM_DOM": "PJM real-time hourly LMP, DOM zone",
    "NYISO_CAPITL": "NYISO DAM LBMP zone CAPITL",
    "DE_LU": "day-ahead price DE-LU (RTE eco2mix market data)",
}
_WEATHER_SITES = {
    "CAISO_NP15": "San Jose CA",
    "ERCOT_HUB": "Dallas TX",
    "PJM_DOM": "Philadelphia PA",
    "NYISO_CAPITL": "New York NY",
}
_LOAD_SOURCES = {
    "CAISO_NP15": "EIA-930 CISO demand, cleaned sum of subregions (Ruggles et al. 2025, CC BY 4.0)",
    "ERCOT_HUB": "EIA-930 ERCO demand, cleaned sum of weather zones (Ruggles et al. 2025, CC BY 4.0)",
    "PJM_DOM": "EIA-930 PJM DOM zone demand, cleaned (Ruggles et al. 2025, CC BY 4.0)",
    "NYISO_CAPITL": "EIA-930 NYISO zone F (Capital) demand, cleaned (Ruggles et al. 2025, CC BY 4.0)",
}
CARBON_SOURCE = "Electricity Maps data portal (ODbL) via HPE green-dcc"
WEATHER_SOURCE = "Open-Meteo historical weather (CC BY 4.0) via HPE green-dcc"


def zone_file(code: str) -> BundledFile:
    """The bundled slice of market zone ``code`` and its mappings (MW → kW, km/h → m/s)."""
    currency_column = "price_eur_per_mwh" if code == "DE_LU" else "price_usd_per_mwh"
    maps = [
        ColumnMapping(currency_column, "price"),
        ColumnMapping("ci_direct_gco2eq_per_kwh", "carbon_intensity_g_per_kwh"),
        ColumnMapping("ci_lifecycle_gco2eq_per_kwh", "carbon_intensity_g_per_kwh", name="lifecycle"),
        ColumnMapping("low_carbon_pct", "low_carbon_pct"),
        ColumnMapping("renewable_pct", "renewable_pct"),
    ]
    if code in _WEATHER_SITES:
        maps += [
            ColumnMapping("temperature_2m_c", "temperature_c"),
            ColumnMapping("relative_humidity_2m_pct", "relative_humidity_pct"),
            ColumnMapping("cloud_cover_pct", "cloud_cover_pct"),
            ColumnMapping("wind_speed_10m_kmh", "wind_speed_m_per_s", scale=1 / 3.6),
            ColumnMapping("system_load_mw", "system_load_kw", scale=1000.0),
        ]
    source = f"{_PRICE_SOURCES[code]}; carbon: {CARBON_SOURCE}"
    if code in _WEATHER_SITES:
        source += f"; weather at {_WEATHER_SITES[code]}: {WEATHER_SOURCE}; load: {_LOAD_SOURCES[code]}"
    return BundledFile(
        path=f"zones/{code.lower()}_2022-08_2022-09_hourly.csv",
        time_column="timestamp_utc",
        mappings=tuple(maps),
        source=f"data/SOURCE.md — {source}"[:300],
    )


ZONE_CODES = ("CAISO_NP15", "ERCOT_HUB", "PJM_DOM", "NYISO_CAPITL", "DE_LU")

PDU_FILE = BundledFile(
    path="sites/google_powerdata2019_cella_pdu6-8_5min.csv",
    time_column="timestamp_utc",
    mappings=tuple(
        ColumnMapping(pdu, "utilization_fraction", name=f"google-cella-{pdu}")
        for pdu in ("pdu6", "pdu7", "pdu8")
    ),
    source="data/SOURCE.md — Google cluster-data powerdata_2019 cell a (CC BY 4.0); fraction of PDU rating",
)

POA_FILE = BundledFile(
    path="sites/nrel_pvdaq15_poa_irradiance_15min_2022-08_2022-09.csv",
    time_column="measured_on_as_published",
    mappings=(
        ColumnMapping("poa_irradiance_w_m2", "poa_irradiance_w_per_m2", name="nrel-pvdaq15-golden-co"),
    ),
    source="data/SOURCE.md — NREL PVDAQ system 15 POA irradiance, Golden CO (DOE open data via pvanalytics, MIT)",
)
