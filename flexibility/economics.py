"""Year-long economics on real 2022 data: cost and carbon of optimised daily schedules versus the
"run as it arrives" baseline, with and without cross-zone migration.

Inputs (read from a data directory given as an argument; layout of ``../shared/data``, see each SOURCE.md):

* hourly prices, USD/MWh: CAISO NP15 DAM, ERCOT HB_HUBAVG DAM, PJM DOM real-time, NYISO CAPITL DAM
  (``wholesale_prices_hourly``; HewlettPackard/green-dcc from CAISO OASIS / ERCOT / PJM / NYISO);
* hourly carbon intensity, gCO2eq/kWh, direct (operational) emissions, Electricity Maps (ODbL)
  (``carbon_intensity_electricitymaps_hourly``: US-CAL-CISO, US-TEX-ERCO, US-MIDA-PJM, US-NY-NYIS);
* load shape: Google powerdata_2019 PDU traces (cell a, PDUs 6-8, CC BY 4.0), mean of the three PDUs,
  hourly, normalised to mean 1; day ``k`` of 2022 uses trace day ``k mod 31``.

Portfolio (:class:`FlexibilityMix`, documented assumptions): one datacenter per zone, each 10 MW mean IT
power, PUE 1.25. IT load split into inference 50 % (follows the PDU shape; not deferrable, stays local),
training 30 % (flat; deferrable 8 h; migratable to the three other sites when migration is on) and batch
20 % (follows the PDU shape; deferrable 4 h). Each site has a UPS battery of 0.5 h × mean IT power at
0.5 C (5 MWh, 2.5 MW), 90 % round trip, half the energy kept as backup reserve, 20 USD/MWh cycle cost,
starting and ending each day at 75 % SoC. Grid connection 1.5 × peak baseline grid power, no export, no PV
(no co-located 2022 PV series is available). Horizon: one UTC day, 24 hourly steps (prices are hourly), so
work arriving late in the day must still finish that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flexibility.schedule import solve

ZONE_FILES = {
    "CAISO_NP15": ("caiso_np15_dam_hourly_2021_2023.csv", "us_cal_ciso_2021_2023_hourly.csv"),
    "ERCOT_HUB": ("ercot_hb_hubavg_dam_hourly_2021_2023.csv", "us_tex_erco_2021_2023_hourly.csv"),
    "PJM_DOM": ("pjm_dom_zone_rt_hourly_2021_2023.csv", "us_mida_pjm_2021_2023_hourly.csv"),
    "NYISO_CAPITL": ("nyiso_capitl_dam_hourly_2021_2023.csv", "us_ny_nyis_2021_2023_hourly.csv"),
}
LOAD_FILE = "datacenter_power_and_utilization/google_powerdata2019_cella_pdu6-8_5min.csv"


@dataclass(frozen=True)
class FlexibilityMix:
    """Portfolio assumptions of the economics benchmark (module docstring gives the rationale)."""

    it_mean_kw: float = 10_000.0
    pue: float = 1.25
    inference_share: float = 0.5
    training_share: float = 0.3
    batch_share: float = 0.2
    training_delay_h: int = 8
    batch_delay_h: int = 4
    max_kw_factor: float = 2.0  # a deferrable class may run at up to 2x its mean power
    battery_hours: float = 0.5
    battery_c_rate: float = 0.5
    battery_reserve_share: float = 0.5
    battery_soc_share: float = 0.75
    round_trip: float = 0.9
    cycle_cost_per_mwh: float = 20.0
    import_limit_factor: float = 1.5


@dataclass(frozen=True, eq=False)
class EconomicsInputs:
    """Hourly UTC series: ``prices`` and ``carbon`` (columns = zones), ``load_shape`` (mean 1)."""

    prices: pd.DataFrame
    carbon: pd.DataFrame
    load_shape: pd.Series


def load_inputs(data_dir: str | Path, year: int = 2022) -> EconomicsInputs:
    """Read prices, carbon intensity and the Google PDU load shape for ``year`` from ``data_dir``."""
    root = Path(data_dir)
    start = pd.Timestamp(f"{year}-01-01T00:00:00Z")
    index = pd.date_range(start, start + pd.DateOffset(years=1), freq="h", inclusive="left")
    prices, carbon = {}, {}
    for zone, (pfile, cfile) in ZONE_FILES.items():
        p = pd.read_csv(
            root / "wholesale_prices_hourly" / pfile, usecols=["timestamp_utc", "price_usd_per_mwh"]
        )
        p.index = pd.to_datetime(p.pop("timestamp_utc"), utc=True)
        prices[zone] = p["price_usd_per_mwh"].groupby(level=0).mean().reindex(index)
        c = pd.read_csv(
            root / "carbon_intensity_electricitymaps_hourly" / cfile,
            usecols=["timestamp_utc", "ci_direct_gco2eq_per_kwh"],
        )
        c.index = pd.to_datetime(c.pop("timestamp_utc"), utc=True)
        carbon[zone] = c["ci_direct_gco2eq_per_kwh"].groupby(level=0).mean().reindex(index)
    load = pd.read_csv(root / LOAD_FILE, usecols=["timestamp_utc", "measured_power_util"])
    load.index = pd.to_datetime(load.pop("timestamp_utc"), utc=True)
    hourly = load["measured_power_util"].groupby(level=0).mean().resample("h").mean().dropna()
    shape = hourly / hourly.mean()
    return EconomicsInputs(prices=pd.DataFrame(prices), carbon=pd.DataFrame(carbon), load_shape=shape)


def daily_problem(
    inputs: EconomicsInputs,
    day: pd.Timestamp,
    mix: FlexibilityMix,
    *,
    migration: bool,
    carbon_price: float = 0.0,
) -> dict[str, Any] | None:
    """The problem dict of one UTC day (24 hourly steps), or ``None`` when a price or carbon value is missing."""
    sl = slice(day, day + pd.Timedelta(hours=23))
    prices, carbon = inputs.prices.loc[sl], inputs.carbon.loc[sl]
    if len(prices) != 24 or prices.isna().any().any() or carbon.isna().any().any():
        return None
    n_days = len(inputs.load_shape) // 24
    k = day.day_of_year % n_days
    shape = inputs.load_shape.to_numpy()[k * 24 : k * 24 + 24]
    zones = {
        z: {"price_per_mwh": prices[z].round(5).tolist(), "carbon_g_per_kwh": carbon[z].round(3).tolist()}
        for z in inputs.prices.columns
    }
    it = mix.it_mean_kw
    inference = mix.inference_share * it * shape
    training = np.full(24, mix.training_share * it)
    batch = mix.batch_share * it * shape
    peak_grid = mix.pue * float(np.max(inference + training + batch))
    e = mix.battery_hours * it
    eff = mix.round_trip**0.5
    ids = list(zones)
    sites = []
    for z in ids:
        sites.append(
            {
                "id": z.lower(),
                "zone": z,
                "grid_import_limit_kw": round(mix.import_limit_factor * peak_grid, 3),
                "grid_export_limit_kw": 0,
                "pue": mix.pue,
                "workloads": [
                    {"id": "inference", "baseline_kw": inference.round(4).tolist()},
                    {
                        "id": "training",
                        "baseline_kw": training.tolist(),
                        "max_delay_steps": mix.training_delay_h,
                        "max_kw": mix.max_kw_factor * mix.training_share * it,
                        "migratable_to": [o.lower() for o in ids if o != z] if migration else [],
                    },
                    {
                        "id": "batch",
                        "baseline_kw": batch.round(4).tolist(),
                        "max_delay_steps": mix.batch_delay_h,
                        "max_kw": mix.max_kw_factor * mix.batch_share * it,
                    },
                ],
                "battery": {
                    "energy_kwh": e,
                    "power_kw": mix.battery_c_rate * e,
                    "charge_efficiency": eff,
                    "discharge_efficiency": eff,
                    "soc_initial_kwh": mix.battery_soc_share * e,
                    "soc_max_kwh": e,
                    "backup_reserve_kwh": mix.battery_reserve_share * e,
                    "soc_final_min_kwh": mix.battery_soc_share * e,
                    "cycle_cost_per_mwh": mix.cycle_cost_per_mwh,
                },
            }
        )
    return {
        "start": day.isoformat().replace("+00:00", "Z"),
        "resolution": "PT1H",
        "steps": 24,
        "currency": "USD",
        "carbon_price_per_tonne": carbon_price,
        "zones": zones,
        "sites": sites,
    }


def run_economics(
    inputs: EconomicsInputs,
    *,
    days: int = 365,
    year: int = 2022,
    mix: FlexibilityMix | None = None,
    carbon_price: float = 0.0,
) -> pd.DataFrame:
    """Solve ``days`` daily problems from 1 January, with and without migration.

    Returns one row per (day, variant) with ``energy_usd``, ``degradation_usd``, ``baseline_energy_usd``,
    ``emissions_kg``, ``baseline_emissions_kg``, ``migrated_kwh``, ``solve_seconds``.
    """
    mix = mix or FlexibilityMix()
    rows = []
    first = pd.Timestamp(f"{year}-01-01T00:00:00Z")
    for d in range(days):
        day = first + pd.Timedelta(days=d)
        for migration in (False, True):
            prob = daily_problem(inputs, day, mix, migration=migration, carbon_price=carbon_price)
            if prob is None:
                continue
            r = solve(prob)
            rows.append(
                {
                    "day": day,
                    "migration": migration,
                    "energy_usd": r.cost["energy"],
                    "degradation_usd": r.cost["degradation"],
                    "carbon_usd": r.cost["carbon"],
                    "baseline_energy_usd": r.baseline_cost["energy"],
                    "emissions_kg": r.emissions_kg,
                    "baseline_emissions_kg": r.baseline_emissions_kg,
                    "migrated_kwh": sum(m.kwh for m in r.migrations),
                    "solve_seconds": r.timings["build_seconds"] + r.timings["solve_seconds"],
                }
            )
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Totals per variant: electricity cost (energy + battery wear) and emission reductions in %."""
    g = df.groupby("migration").sum(numeric_only=True)
    out = pd.DataFrame(
        {
            "days": df.groupby("migration").size(),
            "baseline_energy_usd": g["baseline_energy_usd"],
            "optimised_energy_usd": g["energy_usd"],
            "battery_wear_usd": g["degradation_usd"],
            "cost_reduction_pct": 100
            * (g["baseline_energy_usd"] - g["energy_usd"] - g["degradation_usd"])
            / g["baseline_energy_usd"],
            "baseline_emissions_t": g["baseline_emissions_kg"] / 1000,
            "emissions_t": g["emissions_kg"] / 1000,
            "emission_reduction_pct": 100 * (1 - g["emissions_kg"] / g["baseline_emissions_kg"]),
            "migrated_mwh": g["migrated_kwh"] / 1000,
            "mean_solve_ms": 1000 * g["solve_seconds"] / df.groupby("migration").size(),
        }
    )
    out.index = ["no migration" if not m else "with migration" for m in out.index]
    return out


def print_economics(
    *, days: int = 365, data_dir: str | Path | None = None, carbon_prices=(0.0, 100.0)
) -> None:
    """Print the economics figures (see module docstring) for ``days`` days of 2022."""
    if data_dir is None:
        data_dir = Path(__file__).resolve().parents[2] / "shared" / "data"
    inputs = load_inputs(data_dir)
    pd.set_option("display.width", 200)
    for cp in carbon_prices:
        df = run_economics(inputs, days=days, carbon_price=cp)
        print(f"== economics 2022, {days} daily runs, 4 sites (CAISO_NP15, ERCOT_HUB, PJM_DOM, NYISO_CAPITL), "
              f"carbon price {cp:g} USD/t")  # fmt: skip
        print(summarise(df).round(2).to_string())
