"""Small problem builders for the flexibility tests (plain dicts in the issue-5 JSON format)."""

from __future__ import annotations

from typing import Any


def zone(price: list[float], **extra: Any) -> dict[str, Any]:
    return {"price_per_mwh": price, **extra}


def site(site_id: str, zone_name: str = "z", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": site_id,
        "zone": zone_name,
        "grid_import_limit_kw": 10_000,
        "grid_export_limit_kw": 0,
        "pue": 1.0,
        "workloads": [],
    }
    out.update(extra)
    return out


def problem(steps: int, zones: dict[str, Any], sites: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": "2022-09-06T07:00:00Z",
        "resolution": "PT1H",
        "steps": steps,
        "currency": "USD",
        "carbon_price_per_tonne": 0,
        "zones": zones,
        "sites": sites,
        "commitments": [],
    }
    out.update(extra)
    return out
