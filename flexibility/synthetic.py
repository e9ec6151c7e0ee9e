"""Synthetic portfolios for benchmarks and property tests (deterministic for a given seed).

Each site has three workload classes (issue 5 scale benchmark): ``inference`` (fixed, 50 % of IT),
``training`` (deferrable 8 h, capped at 1.5× its mean, migratable to one site in each other zone) and
``batch`` (deferrable 4 h), one battery (1 h at 20 % of IT capacity, 90 % round trip) and PV sized at 10 %
of IT capacity. Prices and carbon follow a daily shape with zone-specific phase and noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ZONES = ("CAISO_NP15", "ERCOT_HUB", "PJM_DOM", "NYISO_CAPITL")


def synthetic_problem(
    n_sites: int,
    steps: int = 96,
    *,
    seed: int = 0,
    n_zones: int = 4,
    migration: bool = True,
    destinations: int = 3,
    resolution: str = "PT15M",
) -> dict[str, Any]:
    """A problem dict with ``n_sites`` sites spread round-robin over ``n_zones`` zones.

    With ``migration``, each site's training may also run at the site of the same group in each of the next
    ``destinations`` zones (groups are ``n_zones`` consecutive sites, one per zone).

    Returns a JSON-ready dict (see :mod:`flexibility.problem`).
    """
    rng = np.random.default_rng(seed)
    hours = {"PT15M": 0.25, "PT1H": 1.0, "PT5M": 1 / 12, "PT30M": 0.5}[resolution]
    t = np.arange(steps) * hours
    zones = _zones(rng, n_zones, t)
    zone_names = list(zones)
    sites = []
    for i in range(n_sites):
        migr = _destinations(i, n_sites, n_zones, destinations) if migration else []
        sites.append(_site(rng, i, t, round(1 / hours), zone_names[i % n_zones], migr))
    return {
        "start": "2022-09-06T07:00:00Z",
        "resolution": resolution,
        "steps": steps,
        "currency": "USD",
        "carbon_price_per_tonne": 50.0,
        "zones": zones,
        "sites": sites,
        "commitments": [],
    }


def _zones(rng: np.random.Generator, n_zones: int, t: np.ndarray) -> dict[str, Any]:
    """Zone price (currency/MWh) and carbon (gCO2/kWh) series on the hours ``t``: a daily shape with a
    zone-specific phase and noise."""
    steps = t.size
    zones: dict[str, Any] = {}
    for z in range(n_zones):
        name = ZONES[z % len(ZONES)] + ("" if z < len(ZONES) else f"_{z}")
        phase = 2 * np.pi * z / max(n_zones, 1) / 6
        price = 60 + 35 * np.sin(2 * np.pi * (t - 6) / 24 + phase) + rng.normal(0, 6, steps)
        carbon = 350 + 120 * np.cos(2 * np.pi * (t - 13) / 24 + phase) + rng.normal(0, 15, steps)
        zones[name] = {
            "price_per_mwh": price.round(3).tolist(),
            "export_price_per_mwh": (0.8 * price).round(3).tolist(),
            "carbon_g_per_kwh": np.clip(carbon, 20, None).round(2).tolist(),
        }
    return zones


def _destinations(i: int, n_sites: int, n_zones: int, destinations: int) -> list[str]:
    """Site ids where site ``i``'s training may also run: the site of its group in each of the next
    ``destinations`` zones (else the first site of another zone)."""
    zi = i % n_zones
    migr: list[str] = []
    if n_zones > 1 and n_sites > 1:
        for dz in range(1, min(n_zones, destinations + 1)):
            j = i - zi + (zi + dz) % n_zones
            if j < n_sites and j != i:
                migr.append(f"s{j}")
        others = [j for j in range(n_sites) if j % n_zones != zi]
        if not migr and others:
            migr.append(f"s{others[0]}")
    return migr


def _site(rng: np.random.Generator, i: int, t: np.ndarray, per_hour: int, zone: str, migr: list[str]) -> dict:
    """Site ``s{i}``: three workload classes, one battery and PV (sizes in the module docstring)."""
    steps = t.size
    cap = float(rng.uniform(2000, 10000))
    daily = 1 + 0.1 * np.sin(2 * np.pi * (t - 15) / 24)
    noise = rng.normal(1, 0.03, (3, steps))
    inf_kw = 0.5 * cap * daily * noise[0]
    train_kw = 0.3 * cap * noise[1]
    batch_kw = 0.2 * cap * daily * noise[2] * (rng.random(steps) < 0.7)
    pv = 0.1 * cap * np.clip(np.sin(np.pi * (t - 6) / 12), 0, None) * rng.uniform(0.6, 1.0)
    e = 0.2 * cap
    return {
        "id": f"s{i}",
        "zone": zone,
        "grid_import_limit_kw": round(2.0 * cap, 3),
        "grid_export_limit_kw": round(0.05 * cap, 3),
        "pue": round(float(rng.uniform(1.1, 1.5)), 3),
        "pv_kw": pv.round(3).tolist(),
        "workloads": [
            {"id": "inference", "baseline_kw": inf_kw.round(3).tolist()},
            {
                "id": "training",
                "baseline_kw": train_kw.round(3).tolist(),
                "max_delay_steps": 8 * per_hour,
                "max_kw": round(0.45 * cap, 3),
                "migratable_to": migr,
            },
            {
                "id": "batch",
                "baseline_kw": batch_kw.round(3).tolist(),
                "max_delay_steps": 4 * per_hour,
                "max_kw": round(0.4 * cap, 3),
            },
        ],
        "battery": {
            "energy_kwh": round(e, 3),
            "power_kw": round(e, 3),
            "charge_efficiency": 0.9**0.5,
            "discharge_efficiency": 0.9**0.5,
            "soc_initial_kwh": round(0.5 * e, 3),
            "soc_min_kwh": round(0.05 * e, 3),
            "soc_max_kwh": round(e, 3),
            "backup_reserve_kwh": round(0.2 * e, 3),
            "soc_final_min_kwh": round(0.5 * e, 3),
            "cycle_cost_per_mwh": 5.0,
        },
    }
