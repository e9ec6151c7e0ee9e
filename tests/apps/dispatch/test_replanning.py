"""The pure steps of the intraday re-plan: promises as commitments, and only changed setpoints resent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from apps.dispatch.planning import PlanDraft, SiteSetpoints
from apps.dispatch.replanning import MIN_CHANGE_KW, Promise, changed_only, commitments

T0 = datetime(2022, 9, 6, 17, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


@dataclass
class _Site:
    pk: int


def _draft(site_pk: int, targets: list[float], baseline: float = 1000.0) -> PlanDraft:
    n = len(targets)
    sp = SiteSetpoints(
        site=_Site(site_pk),  # type: ignore[arg-type]
        starts=[T0 + i * STEP for i in range(n)],
        baseline_kw=np.full(n, baseline),
        target_kw=np.array(targets, dtype=float),
        battery_kw=np.zeros(n),
        workloads=[{"batch": {"defer_kw": 0.0}} for _ in range(n)],
    )
    return PlanDraft(requested_kw=0.0, planned_kw=0.0, valid_from=T0, step=STEP, sites=[sp])


def test_only_setpoints_that_moved_beyond_the_tolerance_are_kept() -> None:
    draft = _draft(7, [1000.0, 900.0, 1000.0 + MIN_CHANGE_KW / 2, 800.0])
    current = {(7, T0 + i * STEP): (1000.0, 0.0) for i in range(3)}  # none in force at the last interval
    changed, n = changed_only(draft, current)
    assert n == 2
    (site,) = changed.sites
    assert site.starts == [T0 + STEP, T0 + 3 * STEP]
    assert site.target_kw.tolist() == [900.0, 800.0]
    assert len(site.workloads) == 2


def test_a_site_without_change_gets_no_setpoint_and_frozen_windows_are_never_resent() -> None:
    draft = _draft(7, [500.0, 500.0])
    current = {(7, T0): (1000.0, 0.0), (7, T0 + STEP): (1000.0, 0.0)}
    changed, n = changed_only(draft, current, frozen={7: [(T0, T0 + 2 * STEP)]})
    assert n == 0 and changed.sites == []
    same, n_same = changed_only(_draft(7, [1000.0, 1000.0]), current)
    assert n_same == 0 and same.sites == []


def test_promises_become_commitments_clipped_to_the_horizon_with_their_settlement_target() -> None:
    target = np.array([10.0, 11.0, 12.0, 13.0])  # per 15 min from the event start
    promise = Promise(
        event_id=3,
        start=T0 - STEP,
        end=T0 + 3 * STEP,
        kw=500.0,
        site_ids=(1, 2),
        shortfall_penalty_per_mwh=2500.0,
        target_grid_kw=target,
    )
    late = Promise(event_id=4, start=T0 + 10 * STEP, end=T0 + 12 * STEP, kw=1.0, site_ids=(1,),
                   shortfall_penalty_per_mwh=1.0)  # fmt: skip
    (c,) = commitments([promise, late], T0, 8, STEP)
    assert (c.start_step, c.end_step) == (0, 3)
    assert c.sites == ("1", "2")
    assert c.max_grid_kw.tolist() == [11.0, 12.0, 13.0]  # the part of the window still ahead
    assert c.reduction_kw == pytest.approx(500.0)
    assert c.shortfall_penalty_per_mwh == 2500.0


def test_a_target_that_does_not_cover_the_window_falls_back_to_a_reduction() -> None:
    promise = Promise(event_id=3, start=T0, end=T0 + 4 * STEP, kw=500.0, site_ids=(1,),
                      shortfall_penalty_per_mwh=1.0, target_grid_kw=np.array([1.0, np.nan, 1.0, 1.0]))  # fmt: skip
    (c,) = commitments([promise], T0, 8, STEP)
    assert c.max_grid_kw is None


def test_the_same_grid_power_with_a_different_split_is_resent() -> None:
    draft = _draft(7, [1000.0])
    draft.sites[0].workloads[0] = {"batch": {"served_kw": 400.0, "defer_kw": 0.0, "catch_up_kw": 400.0}}
    current = {(7, T0): (1000.0, 0.0, {"batch": {"served_kw": 0.0, "defer_kw": 0.0, "catch_up_kw": 0.0}})}
    _, n = changed_only(draft, current)
    assert n == 1
    current_same = {(7, T0): (1000.0, 0.0, draft.sites[0].workloads[0])}
    assert changed_only(draft, current_same)[1] == 0


def test_the_shortfall_price_floor_is_three_quarters_of_the_deadline_guard_in_lateness(settings) -> None:
    """A promise's shortfall costs at least what 0.75 of the guard's hours of lateness cost, so the re-plan uses
    the guard's slack to deliver an award but never the deadline itself; an explicit price overrides it."""
    from apps.dispatch.replanning import min_shortfall_penalty_per_mwh

    settings.VPP_MIN_SHORTFALL_PENALTY_PER_MWH = None
    settings.VPP_LATENESS_PENALTY_PER_MWH = 1e6
    settings.VPP_DEADLINE_GUARD_STEPS = 4  # one hour of 15-minute steps
    assert min_shortfall_penalty_per_mwh() == pytest.approx(750_000.0)
    settings.VPP_DEADLINE_GUARD_STEPS = 2
    assert min_shortfall_penalty_per_mwh() == pytest.approx(375_000.0)
    settings.VPP_MIN_SHORTFALL_PENALTY_PER_MWH = 2000.0
    assert min_shortfall_penalty_per_mwh() == 2000.0
