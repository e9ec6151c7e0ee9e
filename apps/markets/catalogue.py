"""Program rules taken from real flexibility programs, as seed data. Each template names its source.

Figures the project brief gives (Guangdong, Hunan) are marked as such; the others come from the market
operators' own rule books, cited per template. Prices are illustrative defaults for the demo, not tariffs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import transaction

from apps.accounts.models import Organisation
from apps.core.models import MarketZone

from .choices import BaselineMethod, PricingMode, Product
from .models import Program


@dataclass(frozen=True)
class ProgramTemplate:
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
        "caiso-pdr-peak",
        "CAISO PDR peak shaving",
        Product.PEAK_SHAVING,
        100,
        10,
        120,
        600,
        60,
        240,
        60,
        15,
        PricingMode.PAY_AS_CLEAR,
        0.0,
        0.0,
        1000.0,
        BaselineMethod.TEN_OF_TEN,
        1.0,
        0.8,
        200.0,
        "CAISO Tariff §4.13.3 and BPM for Demand Response §10.1.1 (100 kW minimum; 10-in-10 baseline, ±20 % "
        "day-of adjustment); $1,000/MWh bid cap (CAISO Tariff §39.6.1.1).",
    ),
    # ERCOT Emergency Response Service, 10-minute ramp: ≥ 100 kW; deployed within 10 min; obligation up to
    # 8 cumulative hours per standard contract term (ERCOT Nodal Protocols §3.14.3).
    "ercot-ers-10": ProgramTemplate(
        "ercot-ers-10",
        "ERCOT ERS-10",
        Product.SPINNING_RESERVE,
        100,
        1,
        10,
        600,
        10,
        480,
        30,
        15,
        PricingMode.PAY_AS_BID,
        20.0,
        0.0,
        5000.0,
        BaselineMethod.HIGH_X_OF_Y,
        1.0,
        0.95,
        500.0,
        "ERCOT Nodal Protocols §3.14.3 Emergency Response Service (≥ 100 kW, ERS-10 ramp 10 min, "
        "≤ 8 cumulative hours per term).",
    ),
    # ERCOT ERS-30: the same service with a 30-minute ramp (Nodal Protocols §3.14.3).
    "ercot-ers-30": ProgramTemplate(
        "ercot-ers-30",
        "ERCOT ERS-30",
        Product.SPINNING_RESERVE,
        100,
        1,
        30,
        1800,
        30,
        480,
        30,
        15,
        PricingMode.PAY_AS_BID,
        12.0,
        0.0,
        5000.0,
        BaselineMethod.HIGH_X_OF_Y,
        1.0,
        0.95,
        500.0,
        "ERCOT Nodal Protocols §3.14.3 Emergency Response Service (≥ 100 kW, ERS-30 ramp 30 min).",
    ),
    # PJM Synchronized Reserve: full response within 10 minutes, events expected to last up to 30 minutes;
    # demand resources ≥ 0.1 MW (PJM Manual 11 §4.1, Manual 18B).
    "pjm-sync-reserve": ProgramTemplate(
        "pjm-sync-reserve",
        "PJM Synchronized Reserve",
        Product.SPINNING_RESERVE,
        100,
        100,
        0,
        600,
        10,
        30,
        60,
        5,
        PricingMode.PAY_AS_CLEAR,
        0.0,
        0.0,
        1000.0,
        BaselineMethod.FORECAST,
        1.0,
        0.9,
        300.0,
        "PJM Manual 11 §4.1 (10-minute synchronized reserve, events up to 30 min, 0.1 MW minimum).",
    ),
    # PJM Regulation (RegA/RegD signals every 2 s), hourly commitment, performance score per Manual 12 §4.5.6.
    "pjm-regulation": ProgramTemplate(
        "pjm-regulation",
        "PJM Regulation",
        Product.REGULATION_UP,
        100,
        100,
        0,
        300,
        60,
        60,
        60,
        5,
        PricingMode.PAY_AS_CLEAR,
        30.0,
        0.0,
        1000.0,
        BaselineMethod.FORECAST,
        1.0,
        0.4,
        0.0,
        "PJM Manual 11 §3.2 (0.1 MW minimum, hourly commitment) and Manual 12 §4.5.6 (performance score: "
        "correlation, delay and precision).",
    ),
    # Guangdong virtual power plant: aggregated ≥ 5 MW, response ≥ 1 h (figures from the project brief).
    "guangdong-vpp": ProgramTemplate(
        "guangdong-vpp",
        "Guangdong VPP peak shaving",
        Product.PEAK_SHAVING,
        5000,
        100,
        1440,
        600,
        60,
        240,
        720,
        60,
        PricingMode.PAY_AS_CLEAR,
        0.0,
        0.0,
        3500.0,
        BaselineMethod.TEN_OF_TEN,
        1.2,
        0.8,
        0.0,
        "Guangdong virtual power plant rules as summarised in the project brief: ≥ 5 MW aggregated, ≥ 1 h.",
    ),
    # Hunan VPP unit: ≥ 10 MW, ≥ 1 h (figures from the project brief).
    "hunan-vpp": ProgramTemplate(
        "hunan-vpp",
        "Hunan VPP unit",
        Product.PEAK_SHAVING,
        10000,
        100,
        1440,
        600,
        60,
        240,
        720,
        60,
        PricingMode.PAY_AS_CLEAR,
        0.0,
        0.0,
        3500.0,
        BaselineMethod.TEN_OF_TEN,
        1.2,
        0.8,
        0.0,
        "Hunan virtual power plant unit rules as summarised in the project brief: ≥ 10 MW, ≥ 1 h.",
    ),
}

#: Which templates the demo operator runs in which zone of the bundled data.
DEMO_PROGRAMS = [
    ("caiso-pdr-peak", "CAISO_NP15"),
    ("ercot-ers-10", "ERCOT_HUB"),
    ("pjm-sync-reserve", "PJM_DOM"),
    ("pjm-regulation", "PJM_DOM"),
    ("caiso-pdr-peak", "NYISO_CAPITL"),
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
                operator=operator, zone=MarketZone.objects.get(code=zone), template=CATALOGUE[key]
            )
            for key, zone in DEMO_PROGRAMS
        ]
