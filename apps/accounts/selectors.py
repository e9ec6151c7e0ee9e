"""Reads for accounts."""

from __future__ import annotations

from django.utils import timezone

from .models import AccessToken, ApiClient, Organisation
from .services import digest


def api_client_for_token(*, token: str) -> ApiClient | None:
    """The active API client holding the unexpired bearer ``token``, or ``None``."""
    access = (
        AccessToken.objects.select_related("api_client__organisation")
        .filter(token_hash=digest(token), expires_at__gt=timezone.now(), api_client__is_active=True)
        .first()
    )
    return access.api_client if access else None


def organisation_get(*, slug_or_name: str) -> Organisation | None:
    """Find an organisation by slug or exact name."""
    return (
        Organisation.objects.filter(slug=slug_or_name).first()
        or Organisation.objects.filter(name=slug_or_name).first()
    )


def aggregator_organisation() -> Organisation | None:
    """The aggregator running this platform (the bidder in markets), or ``None`` before setup."""
    from .choices import OrganisationKind

    return Organisation.objects.filter(kind=OrganisationKind.AGGREGATOR).order_by("pk").first()
