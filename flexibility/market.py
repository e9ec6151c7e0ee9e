"""Market-side parts of a problem: a zone's price and carbon series (:class:`Zone`) and a reduction commitment
(:class:`Commitment`); frozen dataclasses with JSON readers and writers (format in :mod:`flexibility.problem`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flexibility.arrays import _array, _list, _number
from flexibility.errors import FlexibilityInputError


@dataclass(frozen=True, eq=False)
class Zone:
    """Market zone prices (currency/MWh) and grid carbon intensity (gCO2/kWh), each shape ``(steps,)``."""

    price_per_mwh: np.ndarray
    export_price_per_mwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    low_carbon_share: np.ndarray | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "zone") -> Zone:
        """Read a zone; ``export_price_per_mwh`` defaults to ``price_per_mwh``, carbon to 0, the optional
        ``low_carbon_share`` (fraction 0…1 of the grid mix that is carbon-free; green accounting) to none."""
        if "price_per_mwh" not in data:
            raise FlexibilityInputError(f"{name}.price_per_mwh", "is required")
        price = _array(data["price_per_mwh"], steps, f"{name}.price_per_mwh")
        export = data.get("export_price_per_mwh")
        carbon = data.get("carbon_g_per_kwh")
        low = data.get("low_carbon_share")
        if low is not None:
            low = _array(low, steps, f"{name}.low_carbon_share", nonnegative=True)
            if np.any(low > 1):
                raise FlexibilityInputError(f"{name}.low_carbon_share", "is a fraction: must be <= 1")
        return cls(
            price_per_mwh=price,
            export_price_per_mwh=price
            if export is None
            else _array(export, steps, f"{name}.export_price_per_mwh"),
            carbon_g_per_kwh=np.zeros(steps)
            if carbon is None
            else _array(carbon, steps, f"{name}.carbon_g_per_kwh", nonnegative=True),
            low_carbon_share=low,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        out = {
            "price_per_mwh": _list(self.price_per_mwh),
            "export_price_per_mwh": _list(self.export_price_per_mwh),
            "carbon_g_per_kwh": _list(self.carbon_g_per_kwh),
        }
        if self.low_carbon_share is not None:
            out["low_carbon_share"] = _list(self.low_carbon_share)
        return out


@dataclass(frozen=True, eq=False)
class Commitment:
    """An obligation of the listed sites together to stay ``reduction_kw`` below their baseline grid power
    in steps ``[start_step, end_step)``; any shortfall (kW) costs ``shortfall_penalty_per_mwh``.

    ``max_grid_kw`` (optional, shape ``(end_step − start_step,)``, kW): an absolute target instead — the sites'
    total grid power must stay at or below it in each window step (e.g. the settlement baseline the market will
    measure against, minus the awarded kW: a program settled on a customer baseline pays for baseline − metered,
    not for a reduction below the aggregator's own forecast). ``reduction_kw`` is then what was awarded, kept for
    the record.
    """

    id: str
    sites: tuple[str, ...] | str
    start_step: int
    end_step: int
    reduction_kw: float
    shortfall_penalty_per_mwh: float
    max_grid_kw: np.ndarray | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "commitment") -> Commitment:
        """Read and validate the JSON dict; raises FlexibilityInputError naming the field."""
        if not data.get("id"):
            raise FlexibilityInputError(f"{name}.id", "is required")
        sites = data.get("sites", "all")
        if sites != "all":
            if isinstance(sites, str) or not isinstance(sites, Sequence) or not sites:
                raise FlexibilityInputError(f"{name}.sites", 'must be "all" or a non-empty list of site ids')
            sites = tuple(str(s) for s in sites)
        start, end = data.get("start_step"), data.get("end_step")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= steps:
            raise FlexibilityInputError(
                f"{name}.start_step", f"need integers 0 <= start_step < end_step <= {steps}"
            )
        cap = data.get("max_grid_kw")
        return cls(
            id=str(data["id"]),
            sites=sites,
            start_step=start,
            end_step=end,
            max_grid_kw=None if cap is None else _array(cap, end - start, f"{name}.max_grid_kw"),
            reduction_kw=float(_number(data.get("reduction_kw"), f"{name}.reduction_kw")),  # type: ignore[arg-type]
            shortfall_penalty_per_mwh=float(
                _number(data.get("shortfall_penalty_per_mwh"), f"{name}.shortfall_penalty_per_mwh", minimum=0)  # type: ignore[arg-type]
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        out: dict[str, Any] = {
            "id": self.id,
            "sites": self.sites if isinstance(self.sites, str) else list(self.sites),
            "start_step": self.start_step,
            "end_step": self.end_step,
            "reduction_kw": self.reduction_kw,
            "shortfall_penalty_per_mwh": self.shortfall_penalty_per_mwh,
        }
        if self.max_grid_kw is not None:
            out["max_grid_kw"] = _list(self.max_grid_kw)
        return out
