"""Read model of the plan's delivery on the forecast accuracy page (issue #21): how closely each site's metered
grid power followed the plan it was given — scored apart from the forecasts, because what a site runs is the
plan, not something forecast.

Per site the caller may see, over the last ``days`` days up to its newest metered value (as the forecast scores'
windows end at their newest actual): the planned grid power of each interval
(:func:`apps.dispatch.selectors.setpoint_frame`: the activation plan's where one is in force, else the day-ahead
schedule's) against the metered ``site_power_kw`` of the same interval. Figures: intervals scored,
planned and metered energy (kWh), the mean absolute deviation (kW) and its share of the mean planned power (%),
and the mean bias (kW, metered − planned: + drew more than planned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.assets.selectors import site_list_by_name
from apps.core import clock
from apps.dispatch.selectors import setpoint_frame
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_for, timeseries_extent


@dataclass(frozen=True)
class PlanDelivery:
    """One site's delivery of its plan over ``[start, end)`` (UTC); see the module docstring for the figures."""

    site_name: str
    start: pd.Timestamp
    end: pd.Timestamp
    intervals: int
    planned_kwh: float
    metered_kwh: float
    mean_abs_deviation_kw: float
    deviation_pct: float | None
    bias_kw: float


def site_plan_delivery(*, principal: Principal, site: Site, days: int) -> PlanDelivery | None:
    """``site``'s :class:`PlanDelivery` over its last ``days`` days with setpoints up to now, or ``None`` when
    no interval has both a setpoint and a metered value."""
    meter = series_for(quantity=Quantity.SITE_POWER_KW, site=site)
    if meter is None:
        return None
    _, newest, _ = timeseries_extent(series=meter)
    if newest is None:
        return None
    end = min(pd.Timestamp(newest) + pd.Timedelta(seconds=meter.resolution_s), pd.Timestamp(clock.now()))
    start = end - pd.Timedelta(days=days)
    plan = setpoint_frame(principal=principal, site_id=site.pk, start=start, end=end)
    if plan.empty:
        return None
    metered = datapoints_series(series=meter, start=plan.index[0], end=end)
    both = pd.DataFrame({"planned": plan["target_kw"].astype(float), "metered": metered}).dropna()
    if both.empty:
        return None
    hours = meter.resolution_s / 3600
    deviation = both["metered"] - both["planned"]
    mad = float(np.abs(deviation).mean())
    mean_planned = float(both["planned"].abs().mean())
    return PlanDelivery(
        site_name=site.name,
        start=both.index[0],
        end=both.index[-1] + pd.Timedelta(seconds=meter.resolution_s),
        intervals=len(both),
        planned_kwh=float(both["planned"].sum() * hours),
        metered_kwh=float(both["metered"].sum() * hours),
        mean_abs_deviation_kw=mad,
        deviation_pct=100.0 * mad / mean_planned if mean_planned > 0 else None,
        bias_kw=float(deviation.mean()),
    )


def plan_delivery(*, principal: Principal, days: int) -> list[PlanDelivery]:
    """:func:`site_plan_delivery` of every site the caller may see that has a scored interval, by site name."""
    rows = [
        site_plan_delivery(principal=principal, site=s, days=days)
        for s in site_list_by_name(principal=principal)
    ]
    return [r for r in rows if r is not None]
