"""Per-site baselines of a settlement by the program's method (pure: numpy/pandas; no ORM).

The methods are :mod:`forecasting.customer_baselines`: 10 of 10 (CAISO / NYISO, multiplicative day-of adjustment
capped at ±20 % by default), high X of Y (PJM Manual 11 §10, symmetric additive adjustment), or the p50 forecast
known at gate closure (IT power × PUE when the site has no site-power forecast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from forecasting import customer_baselines as bl

if TYPE_CHECKING:
    from .inputs import SettlementInputs, SiteInputs

#: Values of :class:`apps.markets.choices.BaselineMethod` (mirrored here so this module imports no Django).
FORECAST = "forecast"
HIGH_X_OF_Y = "high_x_of_y"
#: Values of :class:`apps.settlement.choices.Adjustment` that are not a method name.
ADJUSTMENT_DEFAULT = "default"
ADJUSTMENT_NONE = "none"


def _forecast(inputs: SettlementInputs, site: SiteInputs) -> tuple[np.ndarray, dict]:
    if site.forecast is None:
        raise bl.BaselineError("no forecast of site or IT power issued before gate closure")
    f = site.forecast
    result = bl.forecast_baseline(f.p50_kw, event_index=inputs.index, pue=f.pue, issued_at=f.issued_at)
    return result.values.to_numpy(dtype=float), {"method": result.method, **result.detail}


def _day_matching(inputs: SettlementInputs, site: SiteInputs) -> tuple[np.ndarray, dict]:
    if site.history_kw is None:
        raise bl.BaselineError("no site_power_kw meter series")
    terms = inputs.baseline_rules
    tz = site.timezone
    candidates = bl.eligible_days(
        event_day=inputs.event_start.tz_convert(tz).date(),
        lookback_days=terms.lookback_days,
        exclude_weekends=terms.exclude_weekends,
        holidays=set(site.holidays) if terms.exclude_holidays else set(),
        event_days=set(site.event_days),
    )
    options: dict[str, Any] = {
        "adjustment_gap_hours": terms.adjustment_gap_hours,
        "cap": terms.adjustment_cap_pct / 100.0,
    }
    if terms.adjustment != ADJUSTMENT_DEFAULT:
        options["adjustment"] = None if terms.adjustment == ADJUSTMENT_NONE else terms.adjustment
    if terms.adjustment_hours is not None:
        options["adjustment_hours"] = terms.adjustment_hours
    if inputs.program.baseline_method == HIGH_X_OF_Y:
        result = bl.high_x_of_y(
            site.history_kw,
            event_index=inputs.index,
            tz=tz,
            candidate_days=candidates,
            x=terms.high_x,
            y=terms.high_y,
            **options,
        )
    else:
        result = bl.ten_of_ten(
            site.history_kw,
            event_index=inputs.index,
            tz=tz,
            candidate_days=candidates,
            n_days=terms.days,
            **options,
        )
    detail = {
        "method": result.method,
        "adjustment": result.adjustment,
        "adjustment_kind": result.adjustment_kind,
        "adjustment_capped": result.adjustment_capped,
        **result.detail,
    }
    return result.values.to_numpy(dtype=float), detail


def site_baseline(inputs: SettlementInputs, site: SiteInputs) -> tuple[np.ndarray, dict]:
    """Baseline kW of ``site`` per settlement interval and its provenance (method, adjustment, days used).

    When no baseline can be built (no meter history, too few eligible days, no forecast known at gate closure),
    the baseline is NaN throughout and the detail names the method and the reason (``error``).
    """
    method = inputs.program.baseline_method
    try:
        if method == FORECAST:
            return _forecast(inputs, site)
        return _day_matching(inputs, site)
    except bl.BaselineError as exc:
        return np.full(len(inputs.index), np.nan), {"method": method, "error": str(exc)}
