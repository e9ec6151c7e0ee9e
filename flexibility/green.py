"""Green-power contracts and the hourly green-energy ledger (24/7 carbon-free-energy accounting).

A site's electricity is "green" (carbon-free) from three sources:

* on-site PV it consumes;
* contracted green energy — a PPA or green-certificate contract with a volume profile (kWh per interval),
  a price (currency/MWh), a zone and a term — *matched* against the site's grid import in the same interval
  (a contract's energy is delivered to the zone's grid, so it can only cover what the site imports there);
* the grid's own low-carbon share of the remaining (unmatched) import, from the zone's generation mix.

Hourly matching (the 24/7 CFE score; Google, "24/7 by 2030: Realizing a Carbon-free Future", 2020, and the
UN 24/7 Carbon-free Energy Compact methodology) counts in each interval only the contract energy that covers
that interval's import::

    matched_t = min(Σ_c profile_c,t, import_t)
    clean_t   = pv_used_t + matched_t + low_carbon_share_t × (import_t − matched_t)
    hourly share = Σ_t clean_t / Σ_t consumption_t,   consumption_t = import_t + pv_used_t − export_t

Annual (volumetric) matching, as in RE100 / GHG Protocol Scope 2 market-based reporting, counts the whole
contracted volume in the year, wherever it falls, capped at the consumption::

    annual share = min(Σ_t consumption_t, Σ_t [pv_used_t + Σ_c profile_c,t + low_carbon_share_t × (import_t −
                   matched_t)]) / Σ_t consumption_t

Both figures include the grid's low-carbon share of the unmatched import, so they differ only by the timing of
the contract energy. Pure numpy; energies in kWh per interval, shares as fractions 0…1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flexibility.arrays import _array, _number
from flexibility.errors import FlexibilityInputError


@dataclass(frozen=True, eq=False)
class GreenContract:
    """A green-energy contract (PPA or certificates) as a supply for the scheduling LP.

    Attributes:
        id: contract id.
        zone: market zone where the energy is delivered; only sites in this zone can match it.
        profile_kwh: ``(steps,)`` contracted energy per interval, kWh (zero outside the contract's term).
        price_per_mwh: contract (strike) price, currency/MWh.
        sites: site ids that may match the energy, or ``"all"`` (every site in ``zone``).
        take_or_pay: ``True`` (a virtual PPA settled as a contract for difference): the whole profile is paid at
            the strike price and the unmatched energy is sold at the zone price, so the cost is fixed —
            Σ (price_per_mwh − zone price) × profile — whatever is matched. ``False`` (a green tariff or
            certificates bought as used): only the matched energy is bought, at ``price_per_mwh`` instead of the
            zone price.
    """

    id: str
    zone: str
    profile_kwh: np.ndarray
    price_per_mwh: float
    sites: tuple[str, ...] | str = "all"
    take_or_pay: bool = True

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "green_contract") -> GreenContract:
        """Read and validate ``{"id", "zone", "profile_kwh": [..steps], "price_per_mwh", "sites", "take_or_pay"}``.

        Raises:
            FlexibilityInputError: naming the field.
        """
        if not data.get("id"):
            raise FlexibilityInputError(f"{name}.id", "is required")
        if not data.get("zone"):
            raise FlexibilityInputError(f"{name}.zone", "is required")
        if "profile_kwh" not in data:
            raise FlexibilityInputError(f"{name}.profile_kwh", "is required")
        sites = data.get("sites", "all")
        if sites != "all":
            if isinstance(sites, str) or not isinstance(sites, Sequence) or not sites:
                raise FlexibilityInputError(f"{name}.sites", 'must be "all" or a non-empty list of site ids')
            sites = tuple(str(s) for s in sites)
        take = data.get("take_or_pay", True)
        if not isinstance(take, bool):
            raise FlexibilityInputError(f"{name}.take_or_pay", "must be true or false")
        return cls(
            id=str(data["id"]),
            zone=str(data["zone"]),
            profile_kwh=_array(data["profile_kwh"], steps, f"{name}.profile_kwh", nonnegative=True),
            price_per_mwh=float(_number(data.get("price_per_mwh"), f"{name}.price_per_mwh")),  # type: ignore[arg-type]
            sites=sites,
            take_or_pay=take,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict; ``from_json`` reads it back."""
        return {
            "id": self.id,
            "zone": self.zone,
            "profile_kwh": [float(v) for v in self.profile_kwh],
            "price_per_mwh": self.price_per_mwh,
            "sites": self.sites if isinstance(self.sites, str) else list(self.sites),
            "take_or_pay": self.take_or_pay,
        }


@dataclass(frozen=True, eq=False)
class Ledger:
    """Hourly green ledger of one site, every series ``(T,)`` in kWh per interval.

    Attributes:
        consumption_kwh, pv_used_kwh, import_kwh, contract_kwh (all contracts' volume), matched_kwh,
        grid_low_carbon_kwh (low-carbon share of the unmatched import), clean_kwh (pv + matched + grid
        low-carbon), hourly_share (clean / consumption per interval; NaN where nothing is consumed),
        hourly_matched_share and annual_matched_share (the two period figures of the module docstring).
    """

    consumption_kwh: np.ndarray
    pv_used_kwh: np.ndarray
    import_kwh: np.ndarray
    contract_kwh: np.ndarray
    matched_kwh: np.ndarray
    grid_low_carbon_kwh: np.ndarray
    clean_kwh: np.ndarray
    hourly_share: np.ndarray
    hourly_matched_share: float
    annual_matched_share: float

    def shortfall_kwh(self, target_share: float) -> np.ndarray:
        """Clean energy missing per interval to reach ``target_share`` of consumption, kWh (≥ 0)."""
        return np.maximum(target_share * self.consumption_kwh - self.clean_kwh, 0.0)


def ledger(
    *,
    import_kwh: Any,
    pv_used_kwh: Any,
    contract_kwh: Any,
    low_carbon_share: Any,
    export_kwh: Any = None,
) -> Ledger:
    """The hourly green ledger (module docstring formulas) of one site over ``T`` intervals.

    Args:
        import_kwh: ``(T,)`` grid import, kWh (≥ 0).
        pv_used_kwh: ``(T,)`` on-site PV generation used (not curtailed), kWh (≥ 0).
        contract_kwh: ``(T,)`` or ``(n_contracts, T)`` contracted green energy available to the site, kWh (≥ 0).
        low_carbon_share: ``(T,)`` grid low-carbon share, fraction 0…1.
        export_kwh: ``(T,)`` grid export, kWh (≥ 0; default 0); exported PV is not consumed.

    Raises:
        ValueError: shapes differ, a negative energy, a non-finite value, or a share outside [0, 1].
    """
    imp = _series(import_kwh, "import_kwh")
    T = imp.size
    pv = _series(pv_used_kwh, "pv_used_kwh", T)
    exp = np.zeros(T) if export_kwh is None else _series(export_kwh, "export_kwh", T)
    contracts = np.asarray(contract_kwh, dtype=np.float64)
    if contracts.ndim == 1:
        contracts = contracts[None, :]
    if contracts.ndim != 2 or contracts.shape[1] != T:
        raise ValueError(f"contract_kwh: expected (T,) or (n, T) with T={T}, got shape {contracts.shape}")
    if not np.all(np.isfinite(contracts)) or np.any(contracts < 0):
        raise ValueError("contract_kwh must be finite and >= 0")
    lc = np.asarray(low_carbon_share, dtype=np.float64)
    if lc.shape != (T,) or not np.all(np.isfinite(lc)) or np.any((lc < 0) | (lc > 1)):
        raise ValueError("low_carbon_share: expected (T,) fractions in [0, 1]")
    contract = contracts.sum(axis=0)
    consumption = np.maximum(imp + pv - exp, 0.0)
    matched = np.minimum(contract, imp)
    grid_lc = lc * (imp - matched)
    clean = np.maximum(pv - exp, 0.0) + matched + grid_lc
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(consumption > 0, clean / consumption, np.nan)
    total = float(consumption.sum())
    annual_clean = float(np.maximum(pv - exp, 0.0).sum() + contract.sum() + grid_lc.sum())
    return Ledger(
        consumption_kwh=consumption,
        pv_used_kwh=pv,
        import_kwh=imp,
        contract_kwh=contract,
        matched_kwh=matched,
        grid_low_carbon_kwh=grid_lc,
        clean_kwh=clean,
        hourly_share=share,
        hourly_matched_share=float(clean.sum() / total) if total > 0 else float("nan"),
        annual_matched_share=float(min(annual_clean, total) / total) if total > 0 else float("nan"),
    )


def _series(value: Any, name: str, T: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if T is not None and arr.size != T:
        raise ValueError(f"{name}: expected {T} values, got {arr.size}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return arr
