"""Program rules taken from real flexibility programs, as seed data. Each template names its source.

Figures the project brief gives (Guangdong, Hunan) are marked as such; the others come from the market
operators' own rule books, cited per template. Prices are illustrative defaults for the demo, not tariffs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import transaction

from apps.accounts.models import Organisation
from apps.core.models import MarketZone
from apps.core.selectors import market_zone_require

from .choices import BaselineMethod, PricingMode, Product
from .models import Program


@dataclass(frozen=True, kw_only=True)
class ProgramTemplate:
    """The rules of one real program, built with keywords (the fields of :class:`~apps.markets.models.Program`
    that :func:`program_from_template` copies; see that model for each rule's meaning).

    Units are in the names: kW, minutes, seconds, currency per MW·h of capacity (``capacity_price_per_mw_h``)
    or per MWh of energy; ``performance_cap`` and ``penalty_threshold`` are fractions of the award (1.0 =
    100 %); ``price_cap_per_mwh`` is ``None`` for no cap. ``product``, ``pricing_mode`` and
    ``baseline_method`` are values of the choices in :mod:`apps.markets.choices`. ``rule_source`` cites the
    rule book each figure comes from.
    """

    code: str
    name: str
    product: str
    min_bid_kw: float
    bid_granularity_kw: float
    notice_minutes: int
    response_time_seconds: int
    min_duration_minutes: int
    max_duration_minutes: int
    gate_closure_lead_minutes: int
    settlement_interval_minutes: int
    pricing_mode: str
    capacity_price_per_mw_h: float
    energy_price_per_mwh: float
    price_cap_per_mwh: float | None
    baseline_method: str
    performance_cap: float
    penalty_threshold: float
    shortfall_penalty_per_mwh: float
    rule_source: str


CATALOGUE: dict[str, ProgramTemplate] = {
    # CAISO Proxy Demand Resource: 100 kW minimum (CAISO Tariff §4.13.3 / BPM for Demand Response); customer
    # baseline "10 in 10" non-event days with a day-of adjustment capped at ±20 % (BPM for DR, §10.1.1).
    "caiso-pdr-peak": ProgramTemplate(
        code="caiso-pdr-peak",
        name="CAISO PDR peak shaving",
        product=Product.PEAK_SHAVING,
        min_bid_kw=100,
        bid_granularity_kw=10,
        notice_minutes=120,
        response_time_seconds=600,
        min_duration_minutes=60,
        max_duration_minutes=240,
        gate_closure_lead_minutes=60,
        settlement_interval_minutes=15,
        pricing_mode=PricingMode.PAY_AS_CLEAR,
        capacity_price_per_mw_h=0.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=1000.0,
        baseline_method=BaselineMethod.TEN_OF_TEN,
        performance_cap=1.0,
        penalty_threshold=0.8,
        shortfall_penalty_per_mwh=200.0,
        rule_source="CAISO Tariff §4.13.3 and BPM for Demand Response §10.1.1 (100 kW minimum; 10-in-10 baseline, ±20 % "
        "day-of adjustment); $1,000/MWh bid cap (CAISO Tariff §39.6.1.1).",
    ),
    # ERCOT Emergency Response Service, 10-minute ramp: ≥ 100 kW; deployed within 10 min; obligation up to
    # 8 cumulative hours per standard contract term (ERCOT Nodal Protocols §3.14.3).
    "ercot-ers-10": ProgramTemplate(
        code="ercot-ers-10",
        name="ERCOT ERS-10",
        product=Product.SPINNING_RESERVE,
        min_bid_kw=100,
        bid_granularity_kw=1,
        notice_minutes=10,
        response_time_seconds=600,
        min_duration_minutes=10,
        max_duration_minutes=480,
        gate_closure_lead_minutes=30,
        settlement_interval_minutes=15,
        pricing_mode=PricingMode.PAY_AS_BID,
        capacity_price_per_mw_h=20.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=5000.0,
        baseline_method=BaselineMethod.HIGH_X_OF_Y,
        performance_cap=1.0,
        penalty_threshold=0.95,
        shortfall_penalty_per_mwh=500.0,
        rule_source="ERCOT Nodal Protocols §3.14.3 Emergency Response Service (≥ 100 kW, ERS-10 ramp 10 min, "
        "≤ 8 cumulative hours per term).",
    ),
    # NYISO Emergency Demand Response Program: ≥ 100 kW (aggregations), 2 hours' notice, events of at least
    # 4 hours, paid the greater of 500 USD/MWh and the zonal real-time LBMP, with no capacity payment and no
    # penalty for under-performance (NYISO EDRP Manual); performance against the Customer Baseline Load, the
    # average of the 5 highest of the 10 most recent like days (the program's BaselineTerms: high 5 of 10).
    "nyiso-edrp": ProgramTemplate(
        code="nyiso-edrp",
        name="NYISO EDRP",
        product=Product.PEAK_SHAVING,
        min_bid_kw=100,
        bid_granularity_kw=10,
        notice_minutes=120,
        response_time_seconds=7200,
        min_duration_minutes=240,
        max_duration_minutes=480,
        gate_closure_lead_minutes=60,
        settlement_interval_minutes=60,
        pricing_mode=PricingMode.FIXED,
        capacity_price_per_mw_h=0.0,
        energy_price_per_mwh=500.0,
        price_cap_per_mwh=None,
        baseline_method=BaselineMethod.HIGH_X_OF_Y,
        performance_cap=1.0,
        penalty_threshold=0.0,
        shortfall_penalty_per_mwh=0.0,
        rule_source="NYISO Emergency Demand Response Program Manual (≥ 100 kW, 2 h notice, 4 h minimum event, "
        "energy paid at the greater of 500 USD/MWh and the zonal LBMP, no penalties); CBL: 5 highest of the 10 "
        "most recent like days.",
    ),
    # ERCOT ERS-30: the same service with a 30-minute ramp (Nodal Protocols §3.14.3).
    "ercot-ers-30": ProgramTemplate(
        code="ercot-ers-30",
        name="ERCOT ERS-30",
        product=Product.SPINNING_RESERVE,
        min_bid_kw=100,
        bid_granularity_kw=1,
        notice_minutes=30,
        response_time_seconds=1800,
        min_duration_minutes=30,
        max_duration_minutes=480,
        gate_closure_lead_minutes=30,
        settlement_interval_minutes=15,
        pricing_mode=PricingMode.PAY_AS_BID,
        capacity_price_per_mw_h=12.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=5000.0,
        baseline_method=BaselineMethod.HIGH_X_OF_Y,
        performance_cap=1.0,
        penalty_threshold=0.95,
        shortfall_penalty_per_mwh=500.0,
        rule_source="ERCOT Nodal Protocols §3.14.3 Emergency Response Service (≥ 100 kW, ERS-30 ramp 30 min).",
    ),
    # PJM Synchronized Reserve: full response within 10 minutes, events expected to last up to 30 minutes;
    # demand resources ≥ 0.1 MW (PJM Manual 11 §4.1, Manual 18B).
    "pjm-sync-reserve": ProgramTemplate(
        code="pjm-sync-reserve",
        name="PJM Synchronized Reserve",
        product=Product.SPINNING_RESERVE,
        min_bid_kw=100,
        bid_granularity_kw=100,
        notice_minutes=0,
        response_time_seconds=600,
        min_duration_minutes=10,
        max_duration_minutes=30,
        gate_closure_lead_minutes=60,
        settlement_interval_minutes=5,
        pricing_mode=PricingMode.PAY_AS_CLEAR,
        capacity_price_per_mw_h=0.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=1000.0,
        baseline_method=BaselineMethod.FORECAST,
        performance_cap=1.0,
        penalty_threshold=0.9,
        shortfall_penalty_per_mwh=300.0,
        rule_source="PJM Manual 11 §4.1 (10-minute synchronized reserve, events up to 30 min, 0.1 MW minimum).",
    ),
    # PJM Regulation (RegA/RegD signals every 2 s), hourly commitment, performance score per Manual 12 §4.5.6.
    "pjm-regulation": ProgramTemplate(
        code="pjm-regulation",
        name="PJM Regulation",
        product=Product.REGULATION_UP,
        min_bid_kw=100,
        bid_granularity_kw=100,
        notice_minutes=0,
        response_time_seconds=300,
        min_duration_minutes=60,
        max_duration_minutes=60,
        gate_closure_lead_minutes=60,
        settlement_interval_minutes=5,
        pricing_mode=PricingMode.PAY_AS_CLEAR,
        capacity_price_per_mw_h=30.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=1000.0,
        baseline_method=BaselineMethod.FORECAST,
        performance_cap=1.0,
        penalty_threshold=0.4,
        shortfall_penalty_per_mwh=0.0,
        rule_source="PJM Manual 11 §3.2 (0.1 MW minimum, hourly commitment) and Manual 12 §4.5.6 (performance score: "
        "correlation, delay and precision).",
    ),
    # Guangdong virtual power plant: aggregated ≥ 5 MW, response ≥ 1 h (figures from the project brief).
    "guangdong-vpp": ProgramTemplate(
        code="guangdong-vpp",
        name="Guangdong VPP peak shaving",
        product=Product.PEAK_SHAVING,
        min_bid_kw=5000,
        bid_granularity_kw=100,
        notice_minutes=1440,
        response_time_seconds=600,
        min_duration_minutes=60,
        max_duration_minutes=240,
        gate_closure_lead_minutes=720,
        settlement_interval_minutes=60,
        pricing_mode=PricingMode.PAY_AS_CLEAR,
        capacity_price_per_mw_h=0.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=3500.0,
        baseline_method=BaselineMethod.TEN_OF_TEN,
        performance_cap=1.2,
        penalty_threshold=0.8,
        shortfall_penalty_per_mwh=0.0,
        rule_source="Guangdong virtual power plant rules as summarised in the project brief: ≥ 5 MW aggregated, ≥ 1 h.",
    ),
    # Hunan VPP unit: ≥ 10 MW, ≥ 1 h (figures from the project brief).
    "hunan-vpp": ProgramTemplate(
        code="hunan-vpp",
        name="Hunan VPP unit",
        product=Product.PEAK_SHAVING,
        min_bid_kw=10000,
        bid_granularity_kw=100,
        notice_minutes=1440,
        response_time_seconds=600,
        min_duration_minutes=60,
        max_duration_minutes=240,
        gate_closure_lead_minutes=720,
        settlement_interval_minutes=60,
        pricing_mode=PricingMode.PAY_AS_CLEAR,
        capacity_price_per_mw_h=0.0,
        energy_price_per_mwh=0.0,
        price_cap_per_mwh=3500.0,
        baseline_method=BaselineMethod.TEN_OF_TEN,
        performance_cap=1.2,
        penalty_threshold=0.8,
        shortfall_penalty_per_mwh=0.0,
        rule_source="Hunan virtual power plant unit rules as summarised in the project brief: ≥ 10 MW, ≥ 1 h.",
    ),
}

#: Which templates the demo operator runs in which zone of the bundled data.
DEMO_PROGRAMS = [
    ("caiso-pdr-peak", "CAISO_NP15"),
    ("ercot-ers-10", "ERCOT_HUB"),
    ("pjm-sync-reserve", "PJM_DOM"),
    ("pjm-regulation", "PJM_DOM"),
    ("nyiso-edrp", "NYISO_CAPITL"),
]


def program_from_template(*, operator: Organisation, zone: MarketZone, template: ProgramTemplate) -> Program:
    """Create (or return the existing) program of ``operator`` in ``zone`` with the template's rules."""
    code = f"{template.code}-{zone.code.lower().replace('_', '-')}"
    fields = {k: v for k, v in asdict(template).items() if k != "code"}
    program, _ = Program.objects.get_or_create(
        operator=operator, code=code, defaults={**fields, "zone": zone}
    )
    return program


def demo_programs_seed(*, operator: Organisation) -> list[Program]:
    """The demo operator's programs in the four US demo zones (idempotent)."""
    with transaction.atomic():
        return [
            program_from_template(
                operator=operator, zone=market_zone_require(code=zone), template=CATALOGUE[key]
            )
            for key, zone in DEMO_PROGRAMS
        ]
