"""``manage.py create_api_client --org ORG --role ROLE [--site SITE] [--name NAME] [--scope S ...]``

Creates an API client and prints its id and secret once (the secret is stored only as a digest). With
``--site`` the client is bound to that site (a site control system or OpenADR VEN). Lives in ``assets``
because binding to a site needs the asset registry, which sits above ``accounts``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.accounts.choices import ApiClientRole
from apps.accounts.selectors import organisation_get
from apps.accounts.services import api_client_create
from apps.assets.models import Site
from apps.assets.services import site_credential_bind
from apps.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API client for an organisation and print its client id and secret (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug or name")
        parser.add_argument("--role", required=True, choices=[r.value for r in ApiClientRole])
        parser.add_argument(
            "--site", help="site id or name to bind the client to (VEN / site control system)"
        )
        parser.add_argument("--name", default="", help="a label for the client")
        parser.add_argument("--scope", action="append", default=[], help="a scope to grant (repeatable)")

    def handle(self, *args: object, **options: object) -> None:
        organisation = organisation_get(slug_or_name=str(options["org"]))
        if organisation is None:
            raise CommandError(f"no organisation with slug or name '{options['org']}'.")
        site = None
        if options["site"]:
            ref = str(options["site"])
            sites = Site.objects.filter(owner=organisation)
            site = sites.filter(pk=int(ref)).first() if ref.isdigit() else sites.filter(name=ref).first()
            if site is None:
                raise CommandError(f"organisation '{organisation.slug}' has no site '{ref}'.")
        try:
            with transaction.atomic():
                issued = api_client_create(
                    organisation=organisation,
                    role=str(options["role"]),
                    name=str(options["name"]),
                    scopes=list(options["scope"]),  # type: ignore[call-overload]
                )
                if site is not None:
                    site_credential_bind(api_client_id=issued.api_client.pk, site=site)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.reason}") from exc
        self.stdout.write(f"client_id={issued.api_client.client_id}")
        self.stdout.write(f"client_secret={issued.client_secret}")
        self.stderr.write("Store the secret now: it is not shown again.")
