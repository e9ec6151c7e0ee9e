"""The perfect-foresight oracle: the product's LP on the same sites and days with the actual IT demand, PV and
prices known in advance, one solve over the whole period. Its energy-cost saving against running work as it
arrives is the most any scheduler could have saved; the replay reports the share of it the product captured
(model-predictive control on forecasts captures within ~2 % of such an optimum in the literature: CarbonFlex,
2024)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.assets.models import Site
from apps.markets.fanout import portfolio_solve
from apps.markets.portfolio import portfolio_problem

STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class OracleFigures:
    """Energy cost (currency) of the oracle's schedule and of running work as it arrives, over the period, and
    the saving in percent; ``solve_seconds`` the LP's solve time."""

    cost: float
    baseline_cost: float
    saving_pct: float | None
    solve_seconds: float | None


def oracle_figures(
    *, sites: list[Site], start: datetime, end: datetime, carbon_price_per_tonne: float = 0.0
) -> OracleFigures:
    """Solve the oracle for ``sites`` over ``[start, end)`` (every deadline hard: all work that arrives in the
    period runs in it) and price it with the period's actual prices.

    Raises:
        ValueError: no sites.
        flexibility.FlexibilityInfeasible: the period's actual demand cannot be served within it.
    """
    built = portfolio_problem(
        sites=sites,
        start=start,
        steps=int((end - start) / STEP),
        belief_time=end,
        resolution_s=int(STEP.total_seconds()),
        carbon_price_per_tonne=carbon_price_per_tonne,
        perfect_foresight=True,
    )
    result = portfolio_solve(built.problem)
    cost, base = float(result.cost["energy"]), float(result.baseline_cost["energy"])
    return OracleFigures(
        cost=cost,
        baseline_cost=base,
        saving_pct=100 * (base - cost) / base if base else None,
        solve_seconds=result.timings.get("solve_seconds"),
    )
