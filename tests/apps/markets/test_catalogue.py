"""The program catalogue: templates built with keywords, copied field for field into the seeded programs."""

from __future__ import annotations

import io
from dataclasses import FrozenInstanceError, asdict, fields

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.markets.catalogue import CATALOGUE, DEMO_PROGRAMS, ProgramTemplate
from apps.markets.choices import BaselineMethod, PricingMode, Product
from apps.markets.models import Program
from tests.conftest import World


def test_templates_take_keywords_only_and_are_frozen() -> None:
    values = asdict(CATALOGUE["caiso-pdr-peak"])
    with pytest.raises(TypeError):
        ProgramTemplate(*values.values())  # type: ignore[misc]
    template = ProgramTemplate(**values)
    assert template == CATALOGUE["caiso-pdr-peak"]
    with pytest.raises(FrozenInstanceError):
        template.min_bid_kw = 1.0  # type: ignore[misc]


def test_catalogue_keeps_the_rule_books_figures() -> None:
    """A few figures of each source, so a field shifted by one position would fail."""
    caiso = CATALOGUE["caiso-pdr-peak"]
    assert (caiso.product, caiso.min_bid_kw, caiso.bid_granularity_kw, caiso.notice_minutes) == (
        Product.PEAK_SHAVING,
        100,
        10,
        120,
    )
    assert (caiso.pricing_mode, caiso.price_cap_per_mwh, caiso.baseline_method) == (
        PricingMode.PAY_AS_CLEAR,
        1000.0,
        BaselineMethod.TEN_OF_TEN,
    )
    assert (caiso.penalty_threshold, caiso.shortfall_penalty_per_mwh) == (0.8, 200.0)
    ers = CATALOGUE["ercot-ers-10"]
    assert (ers.notice_minutes, ers.response_time_seconds, ers.max_duration_minutes) == (10, 600, 480)
    assert (ers.pricing_mode, ers.capacity_price_per_mw_h, ers.price_cap_per_mwh) == (
        PricingMode.PAY_AS_BID,
        20.0,
        5000.0,
    )
    assert CATALOGUE["ercot-ers-30"].response_time_seconds == 1800
    assert all(t.rule_source for t in CATALOGUE.values())
    assert {code for code, _ in DEMO_PROGRAMS} <= set(CATALOGUE)


def test_seed_programs_copies_every_template_field(world: World) -> None:
    out = io.StringIO()
    call_command("seed_programs", "--operator", world.operator.slug, stdout=out)
    call_command("seed_programs", "--operator", world.operator.slug, stdout=io.StringIO())  # idempotent
    assert Program.objects.count() == len(DEMO_PROGRAMS)
    for key, zone in DEMO_PROGRAMS:
        template = CATALOGUE[key]
        program = Program.objects.get(
            operator=world.operator, code=f"{key}-{zone.lower().replace('_', '-')}", zone_id=zone
        )
        for field in fields(ProgramTemplate):
            if field.name != "code":
                assert getattr(program, field.name) == getattr(template, field.name), field.name


def test_seed_programs_needs_a_market_operator(world: World) -> None:
    with pytest.raises(CommandError, match="no market operator"):
        call_command("seed_programs", "--operator", world.owner_a.slug, stdout=io.StringIO())


def test_every_demo_program_runs_in_its_own_market() -> None:
    """A program's rule book belongs to one ISO: the demo never runs CAISO rules in NYISO (issue #18)."""
    for code, zone_code in DEMO_PROGRAMS:
        assert code.split("-")[0].upper() == zone_code.split("_")[0], (code, zone_code)
