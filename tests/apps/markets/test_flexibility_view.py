"""The overview's flexibility view: per-zone and portfolio figures equal a direct envelope computation over the
active sites, cached per 15-minute slot of the product clock, and visible to the aggregator's staff only."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache

from apps.accounts.principal import principal_for
from apps.assets.choices import EnrolmentStatus, WorkloadKind
from apps.core.errors import NotPermitted
from apps.markets import flexibility_view
from apps.markets.flexibility_view import portfolio_flexibility, portfolio_flexibility_compute
from apps.markets.portfolio import portfolio_problem
from flexibility.envelope import envelope
from tests.conftest import World
from tests.factories import BatteryFactory, SiteFactory, WorkloadClassFactory, zone

#: A time off the hour and off the 15-minute grid: the slot is 10:15, the chart starts at 11:00.
AT = datetime(2024, 7, 3, 10, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def _site(world: World, zone_code: str, status: str = EnrolmentStatus.ACTIVE, battery_kwh: float = 0.0):  # type: ignore[no-untyped-def]
    site = SiteFactory(
        owner=world.owner_a, market_zone=zone(zone_code), enrolment_status=status, it_capacity_kw=4000.0
    )
    WorkloadClassFactory(
        site=site, name="inference", kind=WorkloadKind.INFERENCE, share_pct=50, max_delay_h=None
    )
    WorkloadClassFactory(site=site, name="batch", kind=WorkloadKind.BATCH, share_pct=30, max_delay_h=6.0)
    if battery_kwh:
        BatteryFactory(
            site=site,
            energy_capacity_kwh=battery_kwh,
            max_charge_kw=battery_kwh / 2,
            max_discharge_kw=battery_kwh / 2,
            soc_min_kwh=0.1 * battery_kwh,
            soc_max_kwh=battery_kwh,
            backup_reserve_kwh=0.3 * battery_kwh,
        )
    return site


@pytest.fixture
def sites(world: World):  # type: ignore[no-untyped-def]
    return {
        "np15_a": _site(world, "CAISO_NP15", battery_kwh=2000.0),
        "np15_b": _site(world, "CAISO_NP15"),
        "ercot": _site(world, "ERCOT_HUB", battery_kwh=800.0),
        "draft": _site(world, "CAISO_NP15", status=EnrolmentStatus.DRAFT, battery_kwh=5000.0),
    }


def _direct(active: list, at: datetime) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    """The envelope of the active sites from the 15-minute slot of ``at``, 1 h windows, p10 load (as bidding)."""
    slot = pd.Timestamp(at).floor("15min")
    offset = int((slot.ceil("1h") - slot) / pd.Timedelta(minutes=15))
    problem = portfolio_problem(
        sites=active,
        start=slot.to_pydatetime(),
        steps=offset + 96 + 48,
        belief_time=at,
        load_quantile="p10",
        include_migration_targets=False,
    ).problem
    env = envelope(problem, durations=[1.0])
    return env.down_kw[0], env.up_kw[0], list(env.scopes), offset


def test_figures_match_a_direct_envelope_computation(sites) -> None:  # type: ignore[no-untyped-def]
    view = portfolio_flexibility_compute(at=AT)
    active = [sites["np15_a"], sites["np15_b"], sites["ercot"]]
    down, up, scopes, offset = _direct(active, AT)
    assert offset == 3
    assert view.slot_start == datetime(2024, 7, 3, 10, 15, tzinfo=UTC)
    assert view.hours[0] == datetime(2024, 7, 3, 11, 0, tzinfo=UTC) and len(view.hours) == 24

    by_zone = {z.scope: z for z in view.zones}
    assert sorted(by_zone) == ["CAISO_NP15", "ERCOT_HUB"]
    assert by_zone["CAISO_NP15"].site_count == 2  # the draft site is not in the portfolio
    expected = {
        "CAISO_NP15": [scopes.index(str(sites[k].pk)) for k in ("np15_a", "np15_b")],
        "ERCOT_HUB": [scopes.index(str(sites["ercot"].pk))],
    }
    for code, columns in expected.items():
        zone_down = np.nansum(down[columns], axis=0)
        zone_up = np.nansum(up[columns], axis=0)
        got = by_zone[code]
        assert got.down_now_kw == pytest.approx(zone_down[0])
        assert got.up_now_kw == pytest.approx(zone_up[0])
        assert got.down_kw == pytest.approx(zone_down[offset : offset + 96 : 4])
        assert got.up_kw == pytest.approx(zone_up[offset : offset + 96 : 4])
    # The portfolio is the sum of its zones, and equals the envelope's own portfolio scope.
    assert view.total.site_count == 3
    assert view.total.down_kw == pytest.approx(down[0, offset : offset + 96 : 4])
    assert view.total.down_now_kw == pytest.approx(
        sum(z.down_now_kw for z in view.zones)
    ) and view.total.down_now_kw == pytest.approx(down[0, 0])
    # Batteries and deferrable work give real flexibility in both directions.
    assert view.total.down_now_kw > 0 and view.total.up_now_kw > 0
    assert by_zone["CAISO_NP15"].down_now_kw > by_zone["ERCOT_HUB"].down_now_kw > 0


def test_nothing_active_is_an_empty_view(world: World) -> None:
    _site(world, "CAISO_NP15", status=EnrolmentStatus.SUBMITTED, battery_kwh=1000.0)
    view = portfolio_flexibility_compute(at=AT)
    assert view.empty and view.zones == () and view.total.down_kw == (0.0,) * 24


def test_naive_time_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        portfolio_flexibility_compute(at=datetime(2024, 7, 3, 10, 20))


def test_cached_per_slot_of_the_product_clock(world: World, sites, travel, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[datetime] = []
    real = flexibility_view.portfolio_flexibility_compute

    def counting(*, at: datetime):  # type: ignore[no-untyped-def]
        calls.append(at)
        return real(at=at)

    monkeypatch.setattr(flexibility_view, "portfolio_flexibility_compute", counting)
    staff = principal_for(world.users["staff"])
    travel(datetime(2024, 7, 3, 10, 16, tzinfo=UTC))
    flexibility_view.portfolio_flexibility_refresh(at=datetime(2024, 7, 3, 10, 16, tzinfo=UTC))  # the task
    first = portfolio_flexibility(principal=staff)
    again = portfolio_flexibility(principal=staff)
    assert len(calls) == 1 and again == first and first is not None  # pages never compute
    travel(datetime(2024, 7, 3, 10, 31, tzinfo=UTC))  # next slot: the latest figure until the task has run
    assert portfolio_flexibility(principal=staff) == first and len(calls) == 1
    flexibility_view.portfolio_flexibility_refresh(at=datetime(2024, 7, 3, 10, 31, tzinfo=UTC))
    later = portfolio_flexibility(principal=staff)
    assert len(calls) == 2
    assert later is not None and later.slot_start == datetime(2024, 7, 3, 10, 30, tzinfo=UTC)


def test_a_cold_cache_enqueues_one_refresh_and_a_stale_figure_another(  # type: ignore[no-untyped-def]
    world: World, sites, travel, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from apps.markets import flexibility_tasks

    sent: list[str] = []
    monkeypatch.setattr(flexibility_tasks.refresh_portfolio_flexibility, "delay", sent.append)
    staff = principal_for(world.users["staff"])
    travel(AT)
    with django_capture_on_commit_callbacks(execute=True):
        assert portfolio_flexibility(principal=staff) is None  # being computed
        assert portfolio_flexibility(principal=staff) is None
    slot = pd.Timestamp("2024-07-03T10:15:00Z")
    assert [pd.Timestamp(at).floor("15min") for at in sent] == [slot]  # one message, however many viewers
    assert flexibility_tasks.refresh_portfolio_flexibility(sent[0]) == slot.isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        shown = portfolio_flexibility(principal=staff)
    assert shown is not None and len(sent) == 1  # fresh: nothing enqueued
    _site(world, "ERCOT_HUB")  # the inputs changed (a site became active)
    with django_capture_on_commit_callbacks(execute=True):
        assert portfolio_flexibility(principal=staff) == shown  # still shown, with its computation time
    assert len(sent) == 2 and pd.Timestamp(sent[1]).floor("15min") == slot


@pytest.mark.parametrize("persona", ["owner_a", "owner_b", "operator"])
def test_staff_only(world: World, sites, persona: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotPermitted):
        portfolio_flexibility(principal=principal_for(world.users[persona]))
