"""Valid form submissions of the owner portal (the API bodies of the asset tests, as form fields)."""

from __future__ import annotations

from typing import Any


def site_form(name: str = "New DC", **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "latitude": 32.9,
        "longitude": -96.9,
        "timezone": "America/Chicago",
        "market_zone": "ERCOT_HUB",
        "grid_import_limit_kw": 15000,
        "grid_export_limit_kw": 0,
        "pue": 1.3,
        "it_capacity_kw": 9000,
        **changes,
    }


def workload_form(name: str = "batch-x", **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "batch",
        "share_pct": 20,
        "max_delay_h": 6,
        "interruptible": "on",
        "min_power_fraction": 0,
        **changes,
    }


def battery_form(name: str = "ups-x", **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "energy_capacity_kwh": 500,
        "max_charge_kw": 250,
        "max_discharge_kw": 250,
        "charge_efficiency": 0.95,
        "discharge_efficiency": 0.95,
        "soc_min_kwh": 50,
        "soc_max_kwh": 500,
        "backup_reserve_kwh": 200,
        **changes,
    }


def pv_form(name: str = "pv-x", **changes: Any) -> dict[str, Any]:
    return {"name": name, "dc_capacity_kwp": 300, "ac_limit_kw": 250, "tilt_deg": 25, **changes}
