"""``manage.py seed_demo``: create the demo aggregator, owners, operator, users and sites (idempotent)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.assets.demo_portfolio import demo_portfolio_seed


class Command(BaseCommand):
    help = "Seed the demo portfolio: an aggregator, two site owners, a market operator, users and sites."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("VPP_DEMO_PASSWORD", "vpp-demo-2022"),
            help="password of the demo users (default: $VPP_DEMO_PASSWORD or vpp-demo-2022)",
        )
        parser.add_argument("--force", action="store_true", help="seed even when DEBUG is off")

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("refusing to seed demo users with DEBUG off; pass --force if you mean it.")
        result = demo_portfolio_seed(password=str(options["password"]))
        verb = "Seeded" if result.created else "Demo portfolio already present:"
        self.stdout.write(f"{verb} {len(result.sites)} sites.")
        self.stdout.write(
            "Logins (password: {}): {}".format(options["password"], ", ".join(result.usernames))
        )
