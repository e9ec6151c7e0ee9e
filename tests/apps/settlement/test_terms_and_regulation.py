"""Per-program baseline terms (weekends kept, no adjustment) and a regulation event scored as PJM does."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus
from apps.forecasts.services import RunSpec, forecast_run_store
from apps.markets.models import Program
from apps.settlement import services
from apps.settlement.models import BaselineTerms
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create
from tests.factories import SiteFactory

from .conftest import END, START, Scenario, make_event, meter, plan

D = Decimal
TZ = "America/Los_Angeles"


@pytest.mark.django_db
def test_terms_that_keep_weekends_change_the_baseline_and_make_a_new_version(scenario: Scenario) -> None:
    # DC A drew 2000 kW on weekends (local days) before the event; default terms exclude them → 1000 kW
    index = pd.date_range(START - pd.Timedelta(days=50), START, freq="15min", inclusive="left")
    weekend = index[index.tz_convert(TZ).day_of_week >= 5]
    meter(scenario.site_a, pd.Series(2000.0, index=weekend))
    v1, _ = services.event_settle(event_id=scenario.event.pk)
    a1 = v1.sites.get(site=scenario.site_a)
    assert [i.baseline_kw for i in a1.intervals.all()] == pytest.approx([1000.0] * 4)

    BaselineTerms.objects.create(program=scenario.event.program, exclude_weekends=False, adjustment="none")
    v2, created = services.event_settle(event_id=scenario.event.pk)
    # 10 most recent non-holiday days before Wed 07-08: 07-07, 07-06, 07-05 (Sun), [07-04 Sat and 07-03 holidays],
    # 07-02, 07-01, 06-30, 06-29, 06-28 (Sun), 06-27 (Sat), 06-26 → 3 weekend days at 2000, 7 at 1000 → 1300 kW
    assert created and v2.version == 2
    a2 = v2.sites.get(site=scenario.site_a)
    assert [i.baseline_kw for i in a2.intervals.all()] == pytest.approx([1300.0] * 4)
    assert "2026-07-05" in a2.baseline_detail["days"] and "2026-07-04" not in a2.baseline_detail["days"]
    # A delivers 600 kW, B 100 kW: revenue still 48.00 (capped), split 600 : 100 → 41.14 and 6.86
    shares = {s.site_id: s.revenue_share for s in v2.sites.all()}
    assert v2.net_revenue == D("48.00")
    assert shares == {scenario.site_a.pk: D("41.14"), scenario.site_b.pk: D("6.86")}


PATTERN = [0.0, 0.25, 0.5, 0.25, 0.0, -0.25, -0.5, -0.25]  # fraction per minute, 8-minute period


def _regulation_event(world, delay_minutes: int):  # type: ignore[no-untyped-def]
    """A PJM regulation event (interval set to 15 min), 400 kW awarded; one site metered every minute following
    the 2-s signal exactly, ``delay_minutes`` late; forecast baseline 1000 kW known before gate closure."""
    site = SiteFactory(owner=world.owner_a, name="REG", enrolment_status=EnrolmentStatus.ACTIVE)
    event = make_event(world, product_template="pjm-regulation")
    Program.objects.filter(pk=event.program_id).update(settlement_interval_minutes=15)
    minutes = pd.date_range(START, END, freq="1min", inclusive="left")
    per_minute = np.array([PATTERN[i % 8] for i in range(len(minutes))])
    signal = list(np.repeat(per_minute, 30))  # 30 samples of 2 s per minute
    plan(event, {site: (1000.0, 600.0)}, signal=signal, signal_resolution_seconds=2)
    series, _ = timeseries_get_or_create(owner=site, quantity="site_power_kw", resolution="PT1M")
    response = np.roll(per_minute * 400.0, delay_minutes)
    datapoints_ingest(series=series, rows=pd.Series(1000.0 - response, index=minutes))
    frame = pd.DataFrame({"p10": 1000.0, "p50": 1000.0, "p90": 1000.0}, index=minutes)
    spec = RunSpec(
        model_name="test", model_version="1", issued_at=(START - pd.Timedelta(hours=2)).to_pydatetime()
    )
    forecast_run_store(series=series, spec=spec, values=frame)
    return event


@pytest.mark.django_db
def test_a_perfect_regulation_response_scores_one_and_earns_full_capacity(world) -> None:  # type: ignore[no-untyped-def]
    run, _ = services.event_settle(event_id=_regulation_event(world, 0).pk)
    assert run.regulation_score == pytest.approx(1.0)
    assert (run.regulation_correlation, run.regulation_delay, run.regulation_precision) == pytest.approx(
        (1, 1, 1)
    )
    assert run.inputs["regulation_resolution_s"] == 60
    # capacity 20 per MW·h × 0.4 MW × 0.25 h × score 1 = 2.00 per interval; no energy payment for regulation
    assert (run.capacity_payment, run.energy_payment, run.penalty) == (D("8.00"), D("0.00"), D("0.00"))


@pytest.mark.django_db
def test_a_late_regulation_response_scores_lower(world) -> None:  # type: ignore[no-untyped-def]
    run, _ = services.event_settle(event_id=_regulation_event(world, 2).pk)
    # two minutes late: correlation 1 at δ = 120 s, delay |(120 − 300) / 300| = 0.6, precision 0 (error 150 kW on
    # mean |setpoint| 100 kW) → composite 1.6 / 3; capacity 2.00 × 0.5333 = 1.0667 → 1.07 per interval
    assert run.regulation_delay == pytest.approx(0.6)
    assert run.regulation_precision == 0.0
    assert run.regulation_score == pytest.approx(1.6 / 3)
    assert run.capacity_payment == D("4.28")
