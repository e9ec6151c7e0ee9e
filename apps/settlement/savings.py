"""Energy-cost, emission and green-share savings of one site's settlement (pure: numpy; no ORM).

Over the event window, the metered schedule is compared with the baseline at the zone's price (cost, cents) and
carbon intensity (location-based emissions, kg); PV and the zone's low-carbon supply are shares of the site's
consumption (grid import + PV, kWh).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .fingerprints import rounded
from .performance import cents


@dataclass(frozen=True)
class SiteSavings:
    """Savings figures of one site (energies kWh, money cents in the zone's currency, emissions kg, shares %).

    ``inputs``: the price, carbon, low-carbon and summed PV series used (rounded, NaN as ``None``), which go into
    the run's fingerprint.
    """

    metered_kwh: float
    baseline_kwh: float
    metered_cost: Decimal
    baseline_cost: Decimal
    cost_saving: Decimal
    metered_emissions_kg: float | None
    baseline_emissions_kg: float | None
    pv_kwh: float
    consumption_kwh: float
    low_carbon_kwh: float
    pv_share_pct: float | None
    low_carbon_share_pct: float | None
    inputs: dict


def _emissions_kg(power_kw: np.ndarray, carbon: np.ndarray, mask: np.ndarray, hours: float) -> float | None:
    """Σ kW × gCO2/kWh × h / 1000 over ``mask`` (``None`` when no interval has both)."""
    return float(np.sum(power_kw[mask] * carbon[mask]) * hours / 1000.0) if mask.any() else None


def site_savings(
    *,
    metered_kw: np.ndarray,
    baseline_kw: np.ndarray,
    price_per_mwh: np.ndarray,
    carbon_g_per_kwh: np.ndarray,
    low_carbon_pct: np.ndarray,
    pv_kw: tuple[np.ndarray, ...],
    hours: float,
) -> SiteSavings:
    """Savings of one site over the event (all arrays per settlement interval of ``hours`` h).

    Energy = Σ kW × h (metered and baseline, each over its known intervals). Cost = Σ kW × price per MWh × h /
    1000 over intervals with metered, baseline and price known. Emissions likewise with the carbon intensity.
    PV kWh = Σ of every PV series (missing as 0); consumption = grid import (metered ≥ 0) + PV; low-carbon kWh =
    Σ import × low-carbon % / 100 over intervals with a grid mix.
    """
    pv = np.zeros(len(metered_kw))
    for series in pv_kw:
        pv += np.nan_to_num(series)
    both = np.isfinite(metered_kw) & np.isfinite(baseline_kw)
    priced = both & np.isfinite(price_per_mwh)
    metered_cost = cents(float(np.sum(metered_kw[priced] * price_per_mwh[priced]) * hours / 1000.0))
    baseline_cost = cents(float(np.sum(baseline_kw[priced] * price_per_mwh[priced]) * hours / 1000.0))
    carbonised = both & np.isfinite(carbon_g_per_kwh)
    pv_kwh = float(pv.sum() * hours)
    imported = np.where(np.isfinite(metered_kw), np.maximum(metered_kw, 0.0), 0.0)
    consumption_kwh = float(imported.sum() * hours) + pv_kwh
    lc = np.isfinite(low_carbon_pct)
    low_carbon_kwh = float(np.sum(imported[lc] * low_carbon_pct[lc] / 100.0) * hours)
    return SiteSavings(
        metered_kwh=float(np.nansum(metered_kw) * hours),
        baseline_kwh=float(np.nansum(baseline_kw) * hours),
        metered_cost=metered_cost,
        baseline_cost=baseline_cost,
        cost_saving=baseline_cost - metered_cost,
        metered_emissions_kg=_emissions_kg(metered_kw, carbon_g_per_kwh, carbonised, hours),
        baseline_emissions_kg=_emissions_kg(baseline_kw, carbon_g_per_kwh, carbonised, hours),
        pv_kwh=pv_kwh,
        consumption_kwh=consumption_kwh,
        low_carbon_kwh=low_carbon_kwh,
        pv_share_pct=100.0 * pv_kwh / consumption_kwh if consumption_kwh > 0 else None,
        low_carbon_share_pct=(
            100.0 * low_carbon_kwh / consumption_kwh if consumption_kwh > 0 and lc.any() else None
        ),
        inputs={
            "price": rounded(price_per_mwh),
            "carbon": rounded(carbon_g_per_kwh),
            "low_carbon": rounded(low_carbon_pct),
            "pv": rounded(pv),
        },
    )
