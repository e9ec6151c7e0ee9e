"""The replay's summary, computed from stored records only: markets, dispatch and settlement rows, and the
metered telemetry against the run-as-it-arrives counterfactual, priced at the zones' stored prices and carbon
intensity."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from apps.assets.models import Site
from apps.dispatch.models import DispatchPlan, Setpoint
from apps.greenpower.selectors import site_green_ledger
from apps.markets.models import Activation, Award, Bid, Event
from apps.settlement.choices import RunStatus
from apps.settlement.models import SettlementRun, SiteSettlement
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_for

from .runner import COUNTERFACTUAL


def _series(site: Site, name: str, start: datetime, end: datetime) -> pd.Series:
    series = series_for(site=site, quantity=Quantity.SITE_POWER_KW, name=name)
    return datapoints_series(series=series, start=start, end=end) if series else pd.Series(dtype=float)


def _zone(zone: str, quantity: str, index: pd.DatetimeIndex) -> np.ndarray:
    series = series_for(zone=zone, quantity=quantity)
    if series is None:
        return np.zeros(len(index))
    values = datapoints_series(
        series=series, start=index[0].floor("h"), end=index[-1] + pd.Timedelta(hours=1)
    )
    return values.reindex(index, method="ffill").fillna(0.0).to_numpy()


def replay_summary(
    *, start: datetime, end: datetime, sites: list[Site], unserved_it_kwh: dict[int, float] | None = None
) -> dict:
    """Figures of ``[start, end)``. Energy cost counts grid import at the zone price (export credited at the same
    price); emissions count grid import only (gCO2/kWh × kWh), as ``flexibility/`` does.

    ``unserved_it_kwh`` (per site id): deferred IT work still waiting at the end. It is charged, at the site's
    PUE, at the site's mean price and carbon intensity over the period, so that deferring work past the end of
    the period never counts as a saving."""
    events = Event.objects.filter(start__gte=start, start__lt=end)
    runs = SettlementRun.objects.filter(event__in=events, status=RunStatus.CURRENT)
    plans = DispatchPlan.objects.filter(valid_from__gte=start - pd.Timedelta(days=1), valid_from__lt=end)
    cost = base_cost = emissions = base_emissions = energy = base_energy = unserved_grid_kwh = 0.0
    currency = "USD"
    for site in sites:
        metered = _series(site, "", start, end)
        counterfactual = _series(site, COUNTERFACTUAL, start, end)
        both = metered.index.intersection(counterfactual.index)
        if both.empty:
            continue
        hours = 0.25
        price = _zone(site.market_zone_id, Quantity.PRICE, both)
        carbon = _zone(site.market_zone_id, Quantity.CARBON_INTENSITY_G_PER_KWH, both)
        m, c = metered.reindex(both).to_numpy(), counterfactual.reindex(both).to_numpy()
        energy += float(np.sum(m) * hours)
        base_energy += float(np.sum(c) * hours)
        cost += float(np.sum(price * m * hours) / 1000)
        base_cost += float(np.sum(price * c * hours) / 1000)
        emissions += float(np.sum(carbon * np.clip(m, 0, None) * hours) / 1000)
        base_emissions += float(np.sum(carbon * np.clip(c, 0, None) * hours) / 1000)
        currency = site.market_zone.currency
        waiting_kwh = (unserved_it_kwh or {}).get(site.pk, 0.0) * site.pue
        energy += waiting_kwh
        cost += waiting_kwh * float(np.mean(price)) / 1000
        emissions += waiting_kwh * float(np.mean(carbon)) / 1000
        unserved_grid_kwh += waiting_kwh
    pf = [r.performance_factor for r in runs if r.performance_factor is not None]
    revenue = sum((r.net_revenue for r in runs), Decimal("0"))
    payouts = sum((s.owner_payout for s in SiteSettlement.objects.filter(run__in=runs)), Decimal("0"))
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "events": events.count(),
        "bids": Bid.objects.filter(event__in=events).count(),
        "awards": Award.objects.filter(bid__event__in=events).count(),
        "activations": Activation.objects.filter(event__in=events).count(),
        "setpoints": Setpoint.objects.filter(plan__in=plans).count(),
        "schedules": plans.filter(kind="schedule").count(),
        "dispatch_plans": plans.filter(kind="activation").count(),
        "settled_events": runs.count(),
        "delivered_kwh": round(sum(r.delivered_kwh for r in runs), 1),
        "awarded_kwh": round(sum(r.awarded_kwh for r in runs), 1),
        "mean_performance_factor": round(float(np.mean(pf)), 3) if pf else None,
        "revenue": float(revenue.quantize(Decimal("0.01"))),
        "owner_payouts": float(payouts.quantize(Decimal("0.01"))),
        "energy_kwh": round(energy, 1),
        "unserved_work_kwh": round(unserved_grid_kwh, 1),
        "baseline_energy_kwh": round(base_energy, 1),
        "energy_cost": round(cost, 2),
        "baseline_energy_cost": round(base_cost, 2),
        "cost_savings_pct": round(100 * (1 - cost / base_cost), 2) if base_cost else None,
        "emissions_kg": round(emissions, 1),
        "baseline_emissions_kg": round(base_emissions, 1),
        "carbon_savings_pct": round(100 * (1 - emissions / base_emissions), 2) if base_emissions else None,
        "currency": currency,
        "green": _green(sites, start, end),
    }


def _green(sites: list[Site], start: datetime, end: datetime) -> dict:
    """Per site: the hourly-matched green share (24/7 CFE score), the annual-matching share and the measured
    PUE over the period, from the green ledger (:func:`apps.greenpower.selectors.site_green_ledger`)."""
    out = {}
    for site in sites:
        summary = site_green_ledger(site=site, start=start, end=end).summary
        out[site.name] = {
            key: None if (value := summary.get(key)) is None else round(float(value), 4)
            for key in ("hourly_matched_share", "annual_matched_share", "pue_measured")
        }
    return out
