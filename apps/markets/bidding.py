"""Bid construction: how much flexibility to offer into an event, and at what price.

Quantity: the largest reduction (or increase, for valley filling and down-regulation) that the zone's
active sites can *hold for the whole event*, from the flexibility envelope (``flexibility.envelope``) over the
p10 IT-load forecast — a low quantile, so the portfolio does not promise flexibility it may not have — capped
at the requested kW, rounded down to the program's granularity, and dropped below the minimum bid. A reduction
is also capped at what the meters can show: per site, the settlement baseline it should expect
(:mod:`apps.markets.baseline_estimate`) minus the lowest grid power it can hold (its forecast grid power less
its holdable reduction), averaged over the event.

Price: the portfolio's opportunity cost of delivering that quantity — the increase of the optimal schedule's
cost (energy, carbon, battery degradation; ``flexibility.solve``) when the reduction is imposed as a
commitment, per MWh delivered — plus a margin of :data:`MARGIN_FRACTION` and :data:`MARGIN_PER_MWH`, at least
:data:`MARGIN_PER_MWH`, and never above the program's price cap. Deferring compute out of a price peak can
*save* money, so the opportunity cost can be negative; the bid then asks only the margin.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import numpy as np

import flexibility
from apps.assets.models import Site
from apps.assets.selectors import active_site_list
from flexibility.baseline import baseline as flexibility_baseline
from flexibility.envelope import envelope as flexibility_envelope

from .baseline_estimate import expected_baseline_kw
from .choices import DOWN_PRODUCTS
from .models import Event
from .portfolio import PortfolioProblem, portfolio_problem
from .rules import IntervalOffer

MARGIN_FRACTION = 0.10
MARGIN_PER_MWH = 5.0
LOAD_QUANTILE = "p10"
#: Hours after the event in the planning horizon, so deferred work can be served after it.
RECOVERY_HOURS = 12
#: Penalty used to impose the bid quantity when measuring its cost (far above any real price).
IMPOSE_PENALTY_PER_MWH = 1e6


@dataclass(frozen=True)
class BidPlan:
    """A bid ready to save: equal offers per settlement interval and how they were derived."""

    offers: list[IntervalOffer]
    quantity_kw: float
    envelope_kw: float
    opportunity_cost_per_mwh: float | None
    price_per_mwh: float
    method: str


def _round_down(value: float, step: float) -> float:
    return math.floor(value / step + 1e-9) * step


def _settleable_kw(
    built: PortfolioProblem,
    sites: list[Site],
    holdable_kw: np.ndarray,
    event: Event,
    belief_time: datetime,
    duration_steps: int,
) -> float | None:
    """Σ over ``sites`` (the zone's, aligned with ``holdable_kw``) of mean(expected baseline − (forecast grid kW −
    holdable kW)) over the event, each site at least 0 and at most its holdable kW; a site without an estimate
    counts its holdable kW. ``None`` when no site has an estimate."""
    grid_kw = flexibility_baseline(built.problem).grid_kw  # (n_problem_sites, steps), run as it arrives
    row = {s.id: i for i, s in enumerate(built.problem.sites)}
    total, estimated = 0.0, False
    for site, holdable in zip(sites, holdable_kw, strict=True):
        holdable = float(np.nan_to_num(holdable))
        expected = expected_baseline_kw(site=site, event=event, belief_time=belief_time)
        if expected is None or len(expected) != duration_steps:
            total += holdable
            continue
        estimated = True
        floor_kw = grid_kw[row[str(site.pk)], :duration_steps] - holdable
        total += min(max(float(np.mean(expected - floor_kw)), 0.0), holdable)
    return total if estimated else None


def bid_plan(*, event: Event, belief_time: datetime) -> BidPlan | None:
    """Plan the aggregator's bid for ``event`` from what is known at ``belief_time``.

    Returns ``None`` when no active site is in the program's zone or the holdable flexibility is below the
    program's minimum bid.
    """
    program = event.program
    sites = list(
        active_site_list()
        .filter(market_zone=program.zone)
        .prefetch_related("workload_classes__migratable_to", "batteries", "pv_arrays")
    )
    if not sites:
        return None
    step_s = program.settlement_interval_minutes * 60
    duration_steps = int((event.end - event.start).total_seconds() // step_s)
    build = partial(
        portfolio_problem,
        sites=sites,
        start=event.start,
        steps=duration_steps + int(RECOVERY_HOURS * 3600 // step_s),
        belief_time=belief_time,
        resolution_s=step_s,
        load_quantile=LOAD_QUANTILE,
    )
    built = build()
    zone_ids = [str(s.pk) for s in sites]
    down = program.product in DOWN_PRODUCTS
    env = flexibility_envelope(built.problem, durations=[duration_steps * step_s / 3600])
    per_site = env.down_kw if down else env.up_kw
    columns = [env.scopes.index(sid) for sid in zone_ids]
    holdable = float(np.nansum(per_site[0, columns, 0]))
    settleable = (
        _settleable_kw(built, sites, per_site[0, columns, 0], event, belief_time, duration_steps)
        if down
        else None
    )
    cap = holdable if settleable is None else min(holdable, settleable)
    quantity = _round_down(min(cap, event.requested_kw), program.bid_granularity_kw)
    if quantity < max(program.min_bid_kw, 1e-6):
        return None
    cost_per_mwh = (
        _opportunity_cost_per_mwh(
            build=build,
            base=built,
            zone_ids=zone_ids,
            quantity_kw=quantity,
            duration_steps=duration_steps,
            step_s=step_s,
        )
        if down
        else None
    )
    price = _bid_price_per_mwh(cost_per_mwh, price_cap_per_mwh=program.price_cap_per_mwh)
    step = timedelta(seconds=step_s)
    offers = [
        IntervalOffer(event.start + i * step, event.start + (i + 1) * step, quantity, price)
        for i in range(duration_steps)
    ]
    method = (
        f"{'down' if down else 'up'} envelope over {len(sites)} site(s) with the {LOAD_QUANTILE} load forecast: "
        f"{holdable:.0f} kW holdable for {duration_steps * step_s / 3600:g} h; "
        + (
            f"{settleable:.0f} kW deliverable against the expected baselines; "
            if settleable is not None
            else ""
        )
        + f"bid {quantity:g} kW; "
        + (f"opportunity cost {cost_per_mwh:.2f}/MWh; " if cost_per_mwh is not None else "")
        + f"price = max({MARGIN_PER_MWH:g}, cost × {1 + MARGIN_FRACTION:g} + {MARGIN_PER_MWH:g}) capped → {price:g}. "
        f"Inputs: {sorted(set(built.sources.values()))}"
    )
    return BidPlan(offers, quantity, holdable, cost_per_mwh, price, method)


def _opportunity_cost_per_mwh(
    *,
    build: Callable[..., PortfolioProblem],
    base: PortfolioProblem,
    zone_ids: list[str],
    quantity_kw: float,
    duration_steps: int,
    step_s: int,
) -> float:
    """What holding ``quantity_kw`` of reduction over the event's first ``duration_steps`` steps costs the
    portfolio, per MWh delivered: the optimal plan's objective with the commitment imposed (its shortfall
    penalty left out) minus the objective without it, over ``step_s``-second steps. ``build(commitments=…)``
    rebuilds the portfolio problem."""
    unconstrained = flexibility.solve(base.problem)
    commitment = flexibility.Commitment(
        id="bid",
        sites=tuple(zone_ids),
        start_step=0,
        end_step=duration_steps,
        reduction_kw=quantity_kw,
        shortfall_penalty_per_mwh=IMPOSE_PENALTY_PER_MWH,
    )
    imposed = flexibility.solve(build(commitments=[commitment]).problem)
    delivered_mwh = quantity_kw * duration_steps * step_s / 3600 / 1000
    extra = (imposed.objective - imposed.cost["shortfall_penalty"]) - unconstrained.objective
    return extra / delivered_mwh


def _bid_price_per_mwh(cost_per_mwh: float | None, *, price_cap_per_mwh: float | None) -> float:
    """The offer price: the opportunity cost marked up by :data:`MARGIN_FRACTION` plus :data:`MARGIN_PER_MWH`,
    at least :data:`MARGIN_PER_MWH`, at most the program's cap, rounded to a cent."""
    price = max(MARGIN_PER_MWH, (cost_per_mwh or 0.0) * (1 + MARGIN_FRACTION) + MARGIN_PER_MWH)
    if price_cap_per_mwh is not None:
        price = min(price, price_cap_per_mwh)
    return round(price, 2)
