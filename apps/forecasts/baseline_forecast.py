"""The forecast a forecast-settled program's baseline rests on (issue #17: the bid, the re-plan and settlement read
the same one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import it_load_series, series_for

from .selectors import forecast_known_at


@dataclass(frozen=True)
class BaselineForecast:
    """The p50 forecast a forecast-settled program's baseline rests on: kW by interval start (UTC), its issue time
    (ISO 8601) and the PUE that turns an IT-power forecast into site power (``None`` for a site-power
    forecast)."""

    p50_kw: pd.Series
    pue: float | None
    issued_at: str


def site_baseline_forecast(
    *, site: Any, start: datetime, end: datetime, belief_time: datetime
) -> BaselineForecast | None:
    """The forecast of what ``site`` would draw over ``[start, end)`` had it not been called, as known at
    ``belief_time``: the one source of a forecast-settled program's baseline (settlement at gate closure, the bid
    and the re-plan before it).

    It is the forecast of the site's IT demand as it arrives (:func:`apps.telemetry.selectors.it_load_series`,
    × PUE), the quantity the scheduler does not control; a forecast of the metered IT or grid power would have
    learnt the site's earlier curtailments and lower every later baseline. A site without an IT-demand forecast
    falls back to its grid-power forecast. ``None`` when neither was issued by ``belief_time``.
    """
    for series, pue in (
        (it_load_series(site=site), site.pue),
        (series_for(site=site, quantity=Quantity.SITE_POWER_KW), None),
    ):
        if series is None:
            continue
        known = forecast_known_at(series=series, start=start, end=end, belief_time=belief_time)
        if known.empty:
            continue
        issued = pd.Timestamp(known["issued_at"].max()).isoformat()
        return BaselineForecast(p50_kw=known["p50"], pue=pue, issued_at=issued)
    return None
