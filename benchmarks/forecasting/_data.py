"""Loaders for the public datasets in ../shared/data used by the forecasting benchmarks (see each SOURCE.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"

#: EIA-930 balancing authority -> (Open-Meteo weather file stem, local time zone, holiday subdivision)
ZONES = {
    "CISO": ("san_jose_ca_us-cal-ciso", "America/Los_Angeles", "CA"),
    "ERCO": ("dallas_tx_us-tex-erco", "America/Chicago", "TX"),
    "PJM": ("philadelphia_pa_us-mida-pjm", "America/New_York", "PA"),
    "NYIS": ("new_york_ny_us-ny-nyis", "America/New_York", "NY"),
}

#: EIA-930 balancing authority -> the weather file's point (lat, lon, elevation m), from its SOURCE.md
WEATHER_POINTS = {
    "CISO": (37.434, -121.955, 7.0),
    "ERCO": (32.794, -96.822, 142.0),
    "PJM": (39.965, -75.168, 23.0),
    "NYIS": (40.738, -74.043, 27.0),
}

#: EIA-930 balancing authority -> the cleaned subregion columns of its demand file that sum to the BA total
#: (Ruggles et al. cleaning; CISO: PG&E, SCE, SDG&E, VEA; ERCO: the 8 weather zones)
SUBREGIONS = {
    "CISO": ("pgae", "sce", "sdge", "vea"),
    "ERCO": ("coas", "east", "fwes", "ncen", "nrth", "scen", "sout", "west"),
}


def _utc(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True, format="ISO8601"))


def system_load(data_dir: Path, zone: str, column: str = "demand_mw_raw_eia") -> pd.Series:
    """EIA-930 hourly BA demand (MW) indexed by interval start (UTC)."""
    frame = pd.read_csv(
        Path(data_dir) / "system_load_eia930_hourly" / f"{zone.lower()}_demand_hourly_2021_2023.csv"
    )
    return pd.Series(
        frame[column].to_numpy(float), index=_utc(frame["interval_start_utc"]), name=f"{zone}_mw"
    )


def zone_weather(data_dir: Path, zone: str) -> pd.DataFrame:
    """Open-Meteo hourly reanalysis weather at the zone's hub city (UTC index, hour start)."""
    frame = pd.read_csv(
        Path(data_dir) / "weather_openmeteo_hourly" / f"{ZONES[zone][0]}_hourly_2021_2023.csv"
    )
    return frame.drop(columns="timestamp_utc").set_index(_utc(frame["timestamp_utc"]))


def caiso_day_ahead_forecast(data_dir: Path) -> pd.Series:
    """CAISO's own day-ahead system load forecast (MW), UTC interval start."""
    path = (
        Path(data_dir)
        / "caiso_dam_forecasts_hourly"
        / "caiso_dam_load_and_sp15_solar_wind_forecast_2021-10_2023-11.csv"
    )
    frame = pd.read_csv(path)
    return pd.Series(
        frame["caiso_system_load_forecast_mw"].to_numpy(float), index=_utc(frame["interval_start_utc"])
    )


def google_pdu_power(data_dir: Path, freq: str = "15min") -> pd.DataFrame:
    """Google cell-a PDU measured power (fraction of rating), one column per PDU, averaged onto ``freq``."""
    frame = pd.read_csv(
        Path(data_dir) / "datacenter_power_and_utilization" / "google_powerdata2019_cella_pdu6-8_5min.csv"
    )
    frame.index = _utc(frame["timestamp_utc"])
    wide = frame.pivot_table(index=frame.index, columns="pdu", values="measured_power_util")
    wide.index = pd.DatetimeIndex(wide.index)
    return wide.resample(freq).mean()


def serf_east_power_kw(data_dir: Path) -> pd.Series:
    """NREL SERF East (PVDAQ 50) AC power in kW (published values are W), 15-min, DST-corrected UTC labels."""
    frame = pd.read_csv(
        Path(data_dir) / "pv_measured" / "nrel_serf_east_pvdaq50_ac_power_15min_2011_2012.csv"
    )
    frame = frame.dropna(subset=["timestamp_utc_dst_corrected"])
    series = pd.Series(
        frame["ac_power"].to_numpy(float) / 1000.0, index=_utc(frame["timestamp_utc_dst_corrected"])
    )
    series = series[~series.index.duplicated()].sort_index()
    return series.resample("15min").mean()


def serf_east_psm3(data_dir: Path) -> pd.DataFrame:
    """NSRDB PSM3 30-min weather at SERF (satellite-derived actuals): temp_air_c, ghi_w_m2, clear-sky columns."""
    frame = pd.read_csv(
        Path(data_dir) / "pv_measured" / "nrel_serf_east_nsrdb_psm3_weather_30min_2011_2012.csv"
    )
    return frame.drop(columns="timestamp_utc").set_index(_utc(frame["timestamp_utc"]))


def noisy_temperature(weather: pd.DataFrame, std_c: float, seed: int = 0) -> pd.DataFrame:
    """A degraded 'forecast' of the weather: temperature plus a per-day bias and an hourly AR(1) error, each with
    standard deviation ``std_c / sqrt(2)`` (total about ``std_c``); the other columns are left as they are."""
    if std_c <= 0:
        return weather
    rng = np.random.default_rng(seed)
    n = len(weather)
    days = weather.index.floor("D")
    _, day_id = np.unique(days, return_inverse=True)
    bias = rng.normal(0, std_c / np.sqrt(2), day_id.max() + 1)[day_id]
    ar = np.zeros(n)
    shocks = rng.normal(0, std_c / np.sqrt(2) * np.sqrt(1 - 0.8**2), n)
    for i in range(1, n):
        ar[i] = 0.8 * ar[i - 1] + shocks[i]
    out = weather.copy()
    out["temperature_2m_c"] = out["temperature_2m_c"] + bias + ar
    return out


#: Market zone of the product -> (price file, Electricity Maps carbon file, EIA-930 load file and column, weather
#: zone key of :data:`ZONES`, local time zone).
MARKET_ZONES = {
    "CAISO_NP15": (
        "caiso_np15_dam_hourly_2021_2023.csv",
        "us_cal_ciso",
        ("ciso", "demand_mw_raw_eia"),
        "CISO",
    ),
    "ERCOT_HUB": (
        "ercot_hb_hubavg_dam_hourly_2021_2023.csv",
        "us_tex_erco",
        ("erco", "demand_mw_raw_eia"),
        "ERCO",
    ),
    "PJM_DOM": (
        "pjm_dom_zone_rt_hourly_2021_2023.csv",
        "us_mida_pjm",
        ("pjm", "dom_zone_demand_mw_cleaned"),
        "PJM",
    ),
    "NYISO_CAPITL": (
        "nyiso_capitl_dam_hourly_2021_2023.csv",
        "us_ny_nyis",
        ("nyis", "demand_mw_raw_eia"),
        "NYIS",
    ),
}


def _hourly(frame: pd.DataFrame, time_column: str, column: str) -> pd.Series:
    series = pd.Series(frame[column].to_numpy(float), index=_utc(frame[time_column]))
    series = series[~series.index.duplicated()].sort_index()
    grid = pd.date_range(series.index[0], series.index[-1], freq="1h")
    return series.reindex(grid)


def zone_price(data_dir: Path, zone: str) -> pd.Series:
    """Hourly wholesale price (USD/MWh) of a market zone, UTC hour start, missing hours NaN on the grid."""
    frame = pd.read_csv(Path(data_dir) / "wholesale_prices_hourly" / MARKET_ZONES[zone][0])
    return _hourly(frame, "timestamp_utc", "price_usd_per_mwh").rename(f"{zone}_price")


def zone_carbon(data_dir: Path, zone: str) -> pd.Series:
    """Hourly direct carbon intensity (gCO2eq/kWh, Electricity Maps) of the zone's grid, UTC hour start."""
    frame = pd.read_csv(
        Path(data_dir)
        / "carbon_intensity_electricitymaps_hourly"
        / f"{MARKET_ZONES[zone][1]}_2021_2023_hourly.csv"
    )
    return _hourly(frame, "timestamp_utc", "ci_direct_gco2eq_per_kwh").rename(f"{zone}_carbon")


def zone_system_load(data_dir: Path, zone: str) -> pd.Series:
    """Hourly EIA-930 demand (MW) of the zone's balancing area (PJM_DOM: the cleaned DOM zone), UTC hour start."""
    stem, column = MARKET_ZONES[zone][2]
    frame = pd.read_csv(Path(data_dir) / "system_load_eia930_hourly" / f"{stem}_demand_hourly_2021_2023.csv")
    return _hourly(frame, "interval_start_utc", column).rename(f"{zone}_load_mw")
