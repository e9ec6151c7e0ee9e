"""The perfect-foresight oracle: the product's LP on the same sites and days with the actual IT demand, PV and
prices known in advance, one solve over the whole period. Its energy-cost saving against running work as it
arrives is the most any scheduler could have saved; the replay reports the share of it the product captured
(model-predictive control on forecasts captures within ~2 % of such an optimum in the literature: CarbonFlex,
2024).

It knows the workload classes as they ran: each site's classes are the jobs its state reports listed over the
period (:func:`apps.telemetry.selectors.known_jobs_reported_between`), each at its power for its run time, and
the other classes share the rest; a site that reports no jobs has its classes' shares of the actual demand.

The oracle keeps the product's promises: every award and activation of the period is a commitment of the same
LP, to the settlement target (:func:`apps.dispatch.services.replan.promises_between`), so that it solves the
problem the product solved (delivering an award costs energy-cost saving, and earns its revenue apart). The
saving without the promises, an energy-only bound, is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import flexibility
from apps.assets.models import Site
from apps.dispatch.replanning import commitments
from apps.dispatch.services.replan import promises_between
from apps.markets.fanout import portfolio_solve
from apps.markets.portfolio import portfolio_problem

STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class OracleFigures:
    """Energy cost (currency) of the oracle's schedule and of running work as it arrives, over the period, and
    the saving in percent, keeping the period's promises; ``energy_only_saving_pct`` the saving of the same LP
    without them; ``solve_seconds`` the LP's solve time (with the promises)."""

    cost: float
    baseline_cost: float
    saving_pct: float | None
    solve_seconds: float | None
    energy_only_saving_pct: float | None = None


def _saving(result: flexibility.Result) -> tuple[float, float, float | None]:
    cost, base = float(result.cost["energy"]), float(result.baseline_cost["energy"])
    return cost, base, (100 * (base - cost) / base if base else None)


def oracle_figures(
    *, sites: list[Site], start: datetime, end: datetime, carbon_price_per_tonne: float = 0.0
) -> OracleFigures:
    """Solve the oracle for ``sites`` over ``[start, end)`` (every deadline hard: all work that arrives in the
    period runs in it), with and without the period's promises, and price it with the period's actual prices.

    Raises:
        ValueError: no sites.
        flexibility.FlexibilityInfeasible: the period's actual demand cannot be served within it.
    """
    steps = int((end - start) / STEP)
    promises, _ = promises_between(sites, start, end, end, include_completed=True)
    solved = []
    for kept in (commitments(promises, start, steps, STEP), []):
        built = portfolio_problem(
            sites=sites,
            start=start,
            steps=steps,
            belief_time=end,
            resolution_s=int(STEP.total_seconds()),
            carbon_price_per_tonne=carbon_price_per_tonne,
            perfect_foresight=True,
            commitments=kept,
        )
        solved.append(portfolio_solve(built.problem))
    cost, base, saving = _saving(solved[0])
    return OracleFigures(
        cost=cost,
        baseline_cost=base,
        saving_pct=saving,
        solve_seconds=solved[0].timings.get("solve_seconds"),
        energy_only_saving_pct=_saving(solved[1])[2],
    )
