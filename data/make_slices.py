"""Cut the bundled data slices in this folder from the real datasets in ../shared/data (see SOURCE.md).

Run from the project directory:  ``.venv/bin/python data/make_slices.py [--shared ../shared/data]``
It only reads ``--shared`` and rewrites the CSV files next to this script; values are copied unchanged
(no scaling, no filling), so the slices stay traceable to their sources. Deterministic: running it again
produces byte-identical files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
START, END = pd.Timestamp("2022-08-01T00:00:00Z"), pd.Timestamp("2022-10-01T00:00:00Z")

#: zone code → (price file, carbon file, weather file, load file, load column)
ZONES = {
    "CAISO_NP15": (
        "caiso_np15_dam_hourly_2021_2023.csv",
        "us_cal_ciso_2021_2023_hourly.csv",
        "san_jose_ca_us-cal-ciso_hourly_2021_2023.csv",
        "ciso_demand_hourly_2021_2023.csv",
        "demand_mw_cleaned_sum_of_subregions",
    ),
    "ERCOT_HUB": (
        "ercot_hb_hubavg_dam_hourly_2021_2023.csv",
        "us_tex_erco_2021_2023_hourly.csv",
        "dallas_tx_us-tex-erco_hourly_2021_2023.csv",
        "erco_demand_hourly_2021_2023.csv",
        "demand_mw_cleaned_sum_of_subregions",
    ),
    "PJM_DOM": (
        "pjm_dom_zone_rt_hourly_2021_2023.csv",
        "us_mida_pjm_2021_2023_hourly.csv",
        "philadelphia_pa_us-mida-pjm_hourly_2021_2023.csv",
        "pjm_demand_hourly_2021_2023.csv",
        "dom_zone_demand_mw_cleaned",
    ),
    "NYISO_CAPITL": (
        "nyiso_capitl_dam_hourly_2021_2023.csv",
        "us_ny_nyis_2021_2023_hourly.csv",
        "new_york_ny_us-ny-nyis_hourly_2021_2023.csv",
        "nyis_demand_hourly_2021_2023.csv",
        "zone_f_capitl_demand_mw_cleaned",
    ),
    "DE_LU": ("entsoe_de_lu_dam_hourly_2021_2023.csv", "de_lu_2021_2023_hourly.csv", None, None, None),
}


def _window(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    times = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    frame = frame.assign(timestamp_utc=times).drop(columns=[column] if column != "timestamp_utc" else [])
    return frame[(frame["timestamp_utc"] >= START) & (frame["timestamp_utc"] < END)].set_index(
        "timestamp_utc"
    )


def zone_slice(shared: Path, code: str) -> pd.DataFrame:
    """Hourly price, carbon intensity, weather and system load of one zone, joined on the UTC hour start."""
    price_file, carbon_file, weather_file, load_file, load_column = ZONES[code]
    price = _window(pd.read_csv(shared / "wholesale_prices_hourly" / price_file), "timestamp_utc")
    parts = [price.drop(columns=["timestamp_local"])]
    carbon = _window(
        pd.read_csv(shared / "carbon_intensity_electricitymaps_hourly" / carbon_file), "timestamp_utc"
    )
    parts.append(
        carbon[["ci_direct_gco2eq_per_kwh", "ci_lifecycle_gco2eq_per_kwh", "low_carbon_pct", "renewable_pct"]]
    )
    if weather_file:
        parts.append(
            _window(pd.read_csv(shared / "weather_openmeteo_hourly" / weather_file), "timestamp_utc")
        )
    if load_file:
        load = _window(pd.read_csv(shared / "system_load_eia930_hourly" / load_file), "interval_start_utc")
        parts.append(load[[load_column]].rename(columns={load_column: "system_load_mw"}))
    joined = pd.concat(parts, axis=1, sort=True)
    full = pd.date_range(START, END, freq="1h", inclusive="left", name="timestamp_utc")
    return joined.reindex(full)


def pdu_slice(shared: Path) -> pd.DataFrame:
    """Google cell-a PDU power (fraction of rating), long → wide: one column per PDU."""
    frame = pd.read_csv(
        shared / "datacenter_power_and_utilization" / "google_powerdata2019_cella_pdu6-8_5min.csv"
    )
    wide = frame.pivot(index="timestamp_utc", columns="pdu", values="measured_power_util")
    wide.columns.name = None
    return wide.sort_index()


def poa_slice(shared: Path) -> pd.DataFrame:
    """NREL PVDAQ system 15 plane-of-array irradiance, August–September 2022, timestamps as published."""
    frame = pd.read_csv(shared / "pv_measured" / "nrel_pvdaq15_poa_irradiance_15min_2019_2022.csv")
    times = pd.to_datetime(frame["measured_on_as_published"], utc=True, format="ISO8601")
    return frame[(times >= START) & (times < END)].set_index("measured_on_as_published")


def _write(frame: pd.DataFrame, path: Path, index_label: str) -> None:
    if isinstance(frame.index, pd.DatetimeIndex):
        frame.index = frame.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(path, index_label=index_label, lineterminator="\n")
    print(f"{path}: {len(frame)} rows, {path.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where to write (default: next to this script)"
    )
    args = parser.parse_args()
    write_slices(args.shared, args.out)


def write_slices(shared: Path, out: Path) -> None:
    """Write every slice under ``out`` (``zones/`` and ``sites/``)."""
    (out / "zones").mkdir(parents=True, exist_ok=True)
    (out / "sites").mkdir(parents=True, exist_ok=True)
    for code in ZONES:
        _write(
            zone_slice(shared, code),
            out / "zones" / f"{code.lower()}_2022-08_2022-09_hourly.csv",
            "timestamp_utc",
        )
    _write(pdu_slice(shared), out / "sites" / "google_powerdata2019_cella_pdu6-8_5min.csv", "timestamp_utc")
    _write(
        poa_slice(shared),
        out / "sites" / "nrel_pvdaq15_poa_irradiance_15min_2022-08_2022-09.csv",
        "measured_on_as_published",
    )


if __name__ == "__main__":
    main()
