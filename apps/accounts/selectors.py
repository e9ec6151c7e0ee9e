"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from .models import AccessToken, ApiClient, Organisation
from .principal import Principal
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


def site_owner_list(*, principal: Principal) -> QuerySet[Organisation]:
    """Site-owner organisations visible to ``principal``: all for the aggregator, its own for a site owner, none
    otherwise."""
    from .choices import OrganisationKind

    qs = Organisation.objects.filter(kind=OrganisationKind.SITE_OWNER)
    if principal.is_aggregator:
        return qs
    if principal.is_site_owner:
        return qs.filter(pk=principal.org.pk)
    return qs.none()


def site_owner_get_visible(*, principal: Principal, organisation_id: int) -> Organisation | None:
    """Site owner ``organisation_id`` if ``principal`` may see it (:func:`site_owner_list`), else ``None``."""
    return site_owner_list(principal=principal).filter(pk=organisation_id).first()


# System-job reads (no caller scoping)


def organisation_get_by_id(*, organisation_id: int) -> Organisation | None:
    """The organisation with id ``organisation_id``, or ``None``."""
    return Organisation.objects.filter(pk=organisation_id).first()


def organisation_get_by_slug(*, slug: str) -> Organisation | None:
    """The organisation with slug ``slug``, or ``None``."""
    return Organisation.objects.filter(slug=slug).first()


def username_taken(*, username: str) -> bool:
    """Whether a user named ``username`` exists."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username).exists()
