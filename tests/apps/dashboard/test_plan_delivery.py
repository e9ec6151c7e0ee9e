"""The plan's delivery, scored apart from the forecasts: planned vs metered grid power per site; a site that
follows its plan deviates little, one that half-complies with a reduction drew more than planned (positive bias);
the accuracy page shows it in its own table."""

# ruff: noqa: F811  (the dispatch fixtures are imported by name and requested as arguments)

from __future__ import annotations

import pytest

from apps.accounts.principal import principal_for
from apps.dashboard.plan_delivery import plan_delivery
from apps.dispatch import services
from apps.simulation.agent import SiteAgent
from tests.apps.dispatch.conftest import activate, activation, sink, sites  # noqa: F401  (fixtures)
from tests.apps.simulation.test_agent import flat_load, run


def _deliver(activation, sites, compliance: float) -> dict:  # type: ignore[no-untyped-def]
    services.dispatch_activation(activation_id=activation.pk)
    agents = [
        SiteAgent(
            s,
            flat_load(s, activation.start, 0.7 * s.it_capacity_kw),
            noise=0.0,
            tau_s=1.0,
            compliance=compliance,
        )
        for s in sites
    ]
    run(agents, activation.start, activation.event.end)
    return {d.site_name: d for d in plan_delivery(principal=principal_for(activation.world_staff), days=1)}


@pytest.fixture
def staffed(activation, world):  # type: ignore[no-untyped-def]
    activation.world_staff = world.users["staff"]
    return activation


def test_a_site_following_its_plan_deviates_little(staffed, sites) -> None:  # type: ignore[no-untyped-def]
    rows = _deliver(staffed, sites, compliance=1.0)
    assert set(rows) == {s.name for s in sites}
    for row in rows.values():
        assert row.intervals >= 4
        assert row.deviation_pct is not None and row.deviation_pct < 2.0
        assert row.metered_kwh == pytest.approx(row.planned_kwh, rel=0.02)


def test_an_under_complying_site_drew_more_than_planned(staffed, sites) -> None:  # type: ignore[no-untyped-def]
    rows = _deliver(staffed, sites, compliance=0.5)
    reducing = [r for r in rows.values() if r.mean_abs_deviation_kw > 1.0]
    assert reducing, rows
    assert all(r.bias_kw > 0 for r in reducing)
    assert all(r.metered_kwh > r.planned_kwh for r in reducing)


def test_the_accuracy_page_shows_plan_delivery_apart(staffed, sites, page_as) -> None:  # type: ignore[no-untyped-def]
    _deliver(staffed, sites, compliance=1.0)
    html = page_as("staff").get("/forecasts/?days=7").content.decode()
    assert 'id="plan-delivery"' in html and "Not a forecast" in html
    table = html.split('id="delivery-table"', 1)[1]
    assert all(s.name in table for s in sites)
