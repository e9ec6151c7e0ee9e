"""The pure settlement calculation, without a database: inputs built by hand, figures worked out by hand.

Program of the examples: hourly settlement intervals (h = 1), capacity 10 per MW·h, energy 100 per MWh (fixed),
performance cap 1.2, penalty threshold 0.8, shortfall penalty 200 per MWh; award 100 kW in both hours.
"""

from __future__ import annotations

import ast
import dataclasses
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apps.markets.choices import BaselineMethod, PricingMode
from apps.settlement import baselines, calculation, obligations
from apps.settlement.calculation import settlement_figures
from apps.settlement.choices import Adjustment
from apps.settlement.inputs import (
    ActivationWindow,
    BaselineRules,
    ForecastInput,
    ProgramTerms,
    RegulationSignal,
    SettlementInputs,
    SiteInputs,
)
from apps.settlement.intervals import event_index, planned_weights, regulation_resolution_s

START = pd.Timestamp("2024-07-01T16:00:00Z")
END = START + pd.Timedelta(hours=2)
INDEX = event_index(START.to_pydatetime(), END.to_pydatetime(), 60)
NAN2 = np.full(2, np.nan)


def program(**changes: object) -> ProgramTerms:
    base = ProgramTerms(
        product="peak_shaving",
        pricing_mode="fixed",
        baseline_method="forecast",
        settlement_interval_minutes=60,
        capacity_price_per_mw_h=10.0,
        energy_price_per_mwh=100.0,
        performance_cap=1.2,
        penalty_threshold=0.8,
        shortfall_penalty_per_mwh=200.0,
        currency="USD",
        zone_timezone="America/New_York",
        is_down=True,
        is_regulation=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


RULES = BaselineRules(
    exclude_weekends=True,
    exclude_holidays=True,
    lookback_days=45,
    days=10,
    high_x=4,
    high_y=5,
    adjustment="default",
    adjustment_hours=None,
    adjustment_gap_hours=1.0,
    adjustment_cap_pct=20.0,
)


def site(
    site_id: int, *, baseline: list[float], metered: list[float], weights: list[float], **kw: object
) -> SiteInputs:
    return SiteInputs(
        site_id=site_id,
        owner_id=100 + site_id,
        timezone="America/New_York",
        weights=np.array(weights),
        metered_kw=np.array(metered, dtype=float),
        history_kw=None,
        event_days=frozenset(),
        holidays=frozenset(),
        forecast=ForecastInput(
            p50_kw=pd.Series(baseline, index=INDEX), pue=None, issued_at="2024-07-01T08:00:00"
        ),
        fee_pct=Decimal("10.00"),
        price_per_mwh=np.array(kw.get("price", NAN2), dtype=float),
        carbon_g_per_kwh=np.array(kw.get("carbon", NAN2), dtype=float),
        low_carbon_pct=np.array(kw.get("low_carbon", NAN2), dtype=float),
        pv_kw=tuple(np.array(p, dtype=float) for p in kw.get("pv", ())),  # type: ignore[attr-defined]
        meter_resolution_s=3600,
    )


def inputs(sites: tuple[SiteInputs, ...], **changes: object) -> SettlementInputs:
    base = SettlementInputs(
        event_id=1,
        event_start=START,
        event_end=END,
        index=INDEX,
        program=program(),
        baseline_rules=RULES,
        award_id=7,
        award_interval_kw={INDEX[0]: 100.0, INDEX[1]: 100.0},
        bid_interval_prices_per_mwh={},
        clearing_price_per_mwh=0.0,
        activations=(ActivationWindow(start=START, end=END, kw=100.0, follows_signal=False),),
        sites=sites,
        regulation_signal=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


ONE_SITE = (site(1, baseline=[500, 500], metered=[420, 450], weights=[1, 1]),)


def test_money_per_interval_and_totals_by_hand() -> None:
    """Hour 1: delivered 80 of 100 called: capacity 10 × 0.1 MW × 1 h = 1.00, PF 0.8, energy 100 × 0.08 = 8.00,
    shortfall max(0, 0.8 × 100 − 80) = 0. Hour 2: delivered 50: capacity 1.00, PF 0.5, energy 5.00, shortfall
    30 kW → 200 × 0.03 = 6.00. Net 2 + 13 − 6 = 9.00; PF (80 + 50) / 200 = 0.65; fee 10 % = 0.90."""
    f = settlement_figures(inputs(ONE_SITE))
    assert [r.delivered_kw for r in f.intervals] == [80.0, 50.0]
    assert [r.performance_factor for r in f.intervals] == [0.8, 0.5]
    assert [r.capacity_payment for r in f.intervals] == [Decimal("1.00")] * 2
    assert [r.energy_payment for r in f.intervals] == [Decimal("8.00"), Decimal("5.00")]
    assert [r.penalty for r in f.intervals] == [Decimal("0.00"), Decimal("6.00")]
    assert (f.capacity_payment, f.energy_payment, f.penalty, f.net_revenue) == (
        Decimal("2.00"),
        Decimal("13.00"),
        Decimal("6.00"),
        Decimal("9.00"),
    )
    assert (f.awarded_kwh, f.called_kwh, f.delivered_kwh) == (200.0, 200.0, 130.0)
    assert f.performance_factor == pytest.approx(0.65)
    (s,) = f.sites
    assert (s.revenue_share, s.fee, s.owner_payout) == (Decimal("9.00"), Decimal("0.90"), Decimal("8.10"))
    assert f.aggregator_fees == Decimal("0.90")
    assert s.baseline_detail["method"] == "forecast"
    assert f.metering_complete is True
    assert f.month.isoformat() == "2024-07-01"


def test_partial_call_is_weighted_by_the_share_of_the_interval() -> None:
    """An activation of 60 kW over the second half of hour 2 calls 60 × 0.5 = 30 kW there and nothing in hour 1:
    hour 1 pays capacity only; hour 2 PF = min(50 / 30, 1.2) = 1.2, energy on min(50, 36) = 36 kW = 3.60."""
    half = ActivationWindow(start=START + pd.Timedelta(minutes=90), end=END, kw=60.0, follows_signal=False)
    f = settlement_figures(inputs(ONE_SITE, activations=(half,)))
    assert [r.called_kw for r in f.intervals] == [0.0, 30.0]
    assert f.intervals[0].performance_factor is None
    assert f.intervals[0].energy_payment == Decimal("0.00")
    assert f.intervals[1].performance_factor == pytest.approx(1.2)
    assert f.intervals[1].energy_payment == Decimal("3.60")
    assert f.performance_factor == pytest.approx(36 / 30)


def test_revenue_split_by_delivered_energy_while_called() -> None:
    """Two sites share the award 50/50; A delivers 60 + 60 kWh, B 20 + 20 (total 80 per hour: PF 0.8, no
    penalty). Net = 2 × (1.00 + 8.00) = 18.00, split 120 : 40 → 13.50 and 4.50."""
    a = site(1, baseline=[300, 300], metered=[240, 240], weights=[0.5, 0.5])
    b = site(2, baseline=[200, 200], metered=[180, 180], weights=[0.5, 0.5])
    f = settlement_figures(inputs((a, b)))
    assert f.net_revenue == Decimal("18.00")
    assert [s.delivered_kwh for s in f.sites] == [120.0, 40.0]
    assert [s.revenue_share for s in f.sites] == [Decimal("13.50"), Decimal("4.50")]
    assert [s.awarded_kwh for s in f.sites] == [100.0, 100.0]
    # each site's own PF on its half of the call: A 60 / 50 capped at 1.2, B 20 / 50 = 0.4
    assert [s.performance_factor for s in f.sites] == [pytest.approx(1.2), pytest.approx(0.4)]
    assert [r.baseline_kw for r in f.intervals] == [500.0, 500.0]
    assert [r.metered_kw for r in f.intervals] == [420.0, 420.0]


def test_missing_meter_reading_delivers_nothing_and_marks_metering_incomplete() -> None:
    gap = (site(1, baseline=[500, 500], metered=[420, np.nan], weights=[1, 1]),)
    f = settlement_figures(inputs(gap))
    assert [r.delivered_kw for r in f.intervals] == [80.0, 0.0]
    assert f.intervals[1].metered_kw is None
    assert f.sites[0].intervals[1].metered_kw is None
    assert f.metering_complete is False


def test_no_forecast_gives_a_nan_baseline_with_the_reason() -> None:
    no_forecast = (dataclasses.replace(ONE_SITE[0], forecast=None),)
    f = settlement_figures(inputs(no_forecast))
    detail = f.sites[0].baseline_detail
    assert detail["method"] == "forecast" and "no forecast" in detail["error"]
    assert [r.baseline_kw for r in f.sites[0].intervals] == [None, None]
    assert f.delivered_kwh == 0.0


def test_pay_as_bid_prices_take_the_bid_and_zero_where_it_has_no_interval() -> None:
    i = inputs(
        ONE_SITE, program=program(pricing_mode="pay_as_bid"), bid_interval_prices_per_mwh={INDEX[0]: 250.0}
    )
    assert list(obligations.interval_prices(i)) == [250.0, 0.0]
    f = settlement_figures(i)
    assert [r.price_per_mwh for r in f.intervals] == [250.0, 0.0]
    assert f.intervals[0].energy_payment == Decimal("20.00")  # 250 × 0.08 MWh


def test_regulation_pays_capacity_times_the_pjm_score() -> None:
    """Signal 1.0 all hour (2-s samples, scored per minute), award 100 kW, response a constant 50 kW: correlation 0
    (a constant response that differs from a constant setpoint), delay 1 (best fit at δ = 0), precision
    1 − 50 / 100 = 0.5 → composite 0.5. Capacity 10 × 0.1 × 1 × 0.5 = 0.50 per hour; shortfall (0.8 − 0.5) ×
    100 = 30 kW → 200 × 0.03 = 6.00 per hour; no energy payment."""
    fine = pd.date_range(START, END, freq="60s", inclusive="left")
    signal = RegulationSignal(
        values=tuple([1.0] * 3600),
        start=START,
        step_s=2,
        resolution_s=60,
        metered_kw=(pd.Series(450.0, index=fine),),
    )
    i = inputs(
        ONE_SITE,
        program=program(product="regulation", is_regulation=True),
        activations=(ActivationWindow(start=START, end=END, kw=None, follows_signal=True),),
        regulation_signal=signal,
    )
    f = settlement_figures(i)
    assert f.regulation is not None
    assert (f.regulation.correlation, f.regulation.delay, f.regulation.precision) == (0.0, 1.0, 0.5)
    assert f.performance_factor == pytest.approx(0.5)
    assert [r.capacity_payment for r in f.intervals] == [Decimal("0.50")] * 2
    assert [r.energy_payment for r in f.intervals] == [Decimal("0.00")] * 2
    assert [r.penalty for r in f.intervals] == [Decimal("6.00")] * 2
    assert f.sites[0].performance_factor == pytest.approx(0.5)
    assert f.provenance["regulation_resolution_s"] == 60


def test_regulation_without_a_signal_pays_nothing_and_has_no_factor() -> None:
    i = inputs(ONE_SITE, program=program(product="regulation", is_regulation=True))
    f = settlement_figures(i)
    assert f.regulation is None and f.performance_factor is None
    assert f.sites[0].performance_factor is None
    assert f.capacity_payment == Decimal("0.00")
    assert f.penalty == Decimal("32.00")  # (0.8 − 0) × 100 kW × 200 per MWh × 1 h, both hours


def test_savings_by_hand() -> None:
    """Price 50 and 100 per MWh, 400 g/kWh, 25 % low-carbon, PV 20 kW in hour 1: metered cost 420 × 0.05 + 450 ×
    0.1 = 66.00, baseline cost 25 + 50 = 75.00 → saving 9.00; emissions (420 + 450) × 0.4 = 348 kg; PV 20 kWh of
    consumption 870 + 20 = 890 kWh; low-carbon 870 × 0.25 = 217.5 kWh."""
    s = site(
        1,
        baseline=[500, 500],
        metered=[420, 450],
        weights=[1, 1],
        price=[50, 100],
        carbon=[400, 400],
        low_carbon=[25, 25],
        pv=([20, 0],),
    )
    sv = settlement_figures(inputs((s,))).sites[0].savings
    assert (sv.metered_cost, sv.baseline_cost, sv.cost_saving) == (
        Decimal("66.00"),
        Decimal("75.00"),
        Decimal("9.00"),
    )
    assert sv.metered_emissions_kg == pytest.approx(348.0)
    assert sv.baseline_emissions_kg == pytest.approx(400.0)
    assert (sv.pv_kwh, sv.consumption_kwh, sv.low_carbon_kwh) == (20.0, 890.0, 217.5)
    assert sv.pv_share_pct == pytest.approx(100 * 20 / 890)


def test_fingerprint_changes_with_the_meter_and_not_otherwise() -> None:
    same = settlement_figures(inputs(ONE_SITE)).fingerprint
    assert settlement_figures(inputs(ONE_SITE)).fingerprint == same
    later = (dataclasses.replace(ONE_SITE[0], metered_kw=np.array([420.0, 451.0])),)
    assert settlement_figures(inputs(later)).fingerprint != same


def test_planned_weights_take_the_newest_plan_and_carry_shares_forward() -> None:
    """Hour 1: plan v1 gives site 1 a 30 kW and site 2 a 10 kW reduction, v2 replaces it with 10 / 10: shares 0.5
    each. Hour 2 has no setpoint: it takes hour 1's shares."""
    rows = [
        (1, INDEX[0], 100.0, 70.0, 1, 5),
        (2, INDEX[0], 100.0, 90.0, 1, 5),
        (1, INDEX[0], 100.0, 90.0, 2, 5),
        (2, INDEX[0], 100.0, 90.0, 2, 5),
    ]
    weights = planned_weights(rows, INDEX, fallback_site_ids=[])
    assert list(weights[1]) == [0.5, 0.5] and list(weights[2]) == [0.5, 0.5]
    fallback = planned_weights([], INDEX, fallback_site_ids=[3, 4, 5])
    assert sorted(fallback) == [3, 4, 5] and list(fallback[3]) == [pytest.approx(1 / 3)] * 2


def test_regulation_resolution_is_the_coarsest_meter_within_the_interval() -> None:
    assert regulation_resolution_s(step_s=300, meter_resolutions_s=[2, 60]) == 60
    assert regulation_resolution_s(step_s=300, meter_resolutions_s=[900]) == 300
    assert regulation_resolution_s(step_s=300, meter_resolutions_s=[]) == 300
    assert regulation_resolution_s(step_s=300, meter_resolutions_s=[120]) == 300  # 120 does not divide 300


def test_mirrored_choice_values_match_the_models() -> None:
    """The pure modules compare against literal choice values; they must be the models' values."""
    assert obligations.FIXED == PricingMode.FIXED and obligations.PAY_AS_BID == PricingMode.PAY_AS_BID
    assert (
        baselines.FORECAST == BaselineMethod.FORECAST and baselines.HIGH_X_OF_Y == BaselineMethod.HIGH_X_OF_Y
    )
    assert baselines.ADJUSTMENT_DEFAULT == Adjustment.DEFAULT and baselines.ADJUSTMENT_NONE == Adjustment.NONE


PURE = ["calculation", "baselines", "obligations", "savings", "fingerprints", "intervals", "performance"]


@pytest.mark.parametrize("module", PURE)
def test_calculation_modules_import_no_django_or_models(module: str) -> None:
    """The compute step imports no Django, no app models and no selectors at run time (type-only imports of the
    input dataclasses under ``TYPE_CHECKING`` aside)."""
    path = Path(calculation.__file__).with_name(f"{module}.py")
    tree = ast.parse(path.read_text())
    runtime = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = [a.name for n in runtime if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in runtime if isinstance(n, ast.ImportFrom) and n.level == 0]
    relative = [n.module or "" for n in runtime if isinstance(n, ast.ImportFrom) and n.level > 0]
    assert not [m for m in names if m.split(".")[0] in {"django", "apps", "rest_framework", "celery"}]
    assert set(relative) <= set(PURE)
