"""Provenance of a settlement run: the SHA-256 fingerprint of its inputs and the rounding of the series that go
into it (pure: hashlib, json, numpy; no ORM).

The fingerprint decides idempotency: re-settling an event whose inputs hash the same writes nothing, so the
document hashed here must not change shape (a change would re-version every settled event once).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .inputs import SettlementInputs


def rounded(values: np.ndarray | pd.Series | None) -> list[float | None] | None:
    """``values`` rounded to 6 decimals, non-finite values as ``None`` (for fingerprints and provenance)."""
    if values is None:
        return None
    return [None if not np.isfinite(v) else round(float(v), 6) for v in np.asarray(values, dtype=float)]


def fingerprint(inputs: SettlementInputs, payload: dict[str, Any]) -> str:
    """SHA-256 of the run's inputs (program terms, award, calls, prices, per-site series and fee, signal): the
    same inputs give the same fingerprint, so a re-settlement with unchanged data writes nothing."""
    p = inputs.program
    document = {
        "program": [
            p.baseline_method,
            p.product,
            p.pricing_mode,
            p.capacity_price_per_mw_h,
            p.energy_price_per_mwh,
            p.performance_cap,
            p.penalty_threshold,
            p.shortfall_penalty_per_mwh,
            p.settlement_interval_minutes * 60,
            inputs.baseline_rules.fingerprint(),
        ],
        **payload,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
