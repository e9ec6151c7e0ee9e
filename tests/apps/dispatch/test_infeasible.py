"""An infeasible plan degrades instead of failing: planned again without migration targets; a plan prepared at
award that cannot be solved is skipped (logged), never a crashed task. (FlexibilityInfeasible is not a
ValueError, so ``except ValueError`` alone let it through.)"""

from __future__ import annotations

import pytest

import flexibility
from apps.dispatch import planning, services
from apps.dispatch.models import DispatchPlan, PreparedPlan


@pytest.fixture
def solver_infeasible_with_migration(monkeypatch):  # type: ignore[no-untyped-def]
    """``flexibility.solve`` refuses problems built with migration targets; records each build's flag."""
    builds: list[bool] = []
    real_problem, real_solve = planning.portfolio_problem, flexibility.solve

    def problem(**kwargs):  # type: ignore[no-untyped-def]
        builds.append(kwargs.get("include_migration_targets", True))
        return real_problem(**kwargs)

    def solve(p):  # type: ignore[no-untyped-def]
        if builds[-1]:
            raise flexibility.FlexibilityInfeasible("unknown", "no schedule satisfies the constraints")
        return real_solve(p)

    monkeypatch.setattr(planning, "portfolio_problem", problem)
    monkeypatch.setattr(planning.flexibility, "solve", solve)
    return builds


def test_infeasible_activation_plan_is_made_without_migration_targets(
    activation, sites, solver_infeasible_with_migration
) -> None:  # type: ignore[no-untyped-def]
    plan = services.dispatch_activation(activation_id=activation.pk)
    assert solver_infeasible_with_migration == [True, False]
    assert "planned without migration targets" in plan.reason and "unknown" in plan.reason
    assert plan.setpoints.count() == 2 * 4
    assert plan.planned_kw == pytest.approx(1500, abs=1e-3)


def test_prepare_skips_an_event_it_cannot_plan(activation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def infeasible(**kwargs):  # type: ignore[no-untyped-def]
        raise flexibility.FlexibilityInfeasible("unknown", "no schedule satisfies the constraints")

    monkeypatch.setattr(services.plans, "plan_reduction", infeasible)
    PreparedPlan.objects.filter(event=activation.event).delete()
    assert services.plan_prepare(event_id=activation.event_id) is None
    assert not PreparedPlan.objects.filter(event=activation.event).exists()
    with pytest.raises(
        flexibility.FlexibilityInfeasible
    ):  # the activation itself fails loudly, nothing stored
        services.dispatch_activation(activation_id=activation.pk)
    assert not DispatchPlan.objects.filter(activation=activation).exists()
