"""``manage.py seed_programs [--operator SLUG]``: the demo operator's programs from the real-rules catalogue."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.choices import OrganisationKind
from apps.accounts.selectors import organisation_get
from apps.markets.catalogue import demo_programs_seed


class Command(BaseCommand):
    help = "Create the demo market operator's programs (CAISO PDR, ERCOT ERS-10, PJM reserve and regulation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--operator", default="demo-operator", help="slug of the market-operator organisation"
        )

    def handle(self, *args: object, **options: object) -> None:
        operator = organisation_get(slug_or_name=str(options["operator"]))
        if operator is None or operator.kind != OrganisationKind.MARKET_OPERATOR:
            raise CommandError(f"no market operator with slug '{options['operator']}' (run seed_demo first).")
        programs = demo_programs_seed(operator=operator)
        for program in programs:
            self.stdout.write(f"{program.code}: {program.name} in {program.zone_id}")
