"""Who is calling: a person (session) or an API client (bearer token), resolved to organisation, kind and role.

Every scoped query starts from a :class:`Principal`, so a view never reads ``request.user`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.core.errors import NotPermitted

from .choices import WRITE_ROLES, OrganisationKind
from .models import ApiClient, Organisation


@dataclass(frozen=True)
class Principal:
    """The caller. ``organisation`` is ``None`` for a user without membership (sees nothing)."""

    organisation: Organisation | None
    role: str | None
    user: Any = None
    api_client: ApiClient | None = None

    @property
    def org(self) -> Organisation:
        """The caller's organisation.

        Raises:
            NotPermitted: the caller belongs to no organisation.
        """
        if self.organisation is None:
            raise NotPermitted("Your account is not a member of any organisation.")
        return self.organisation

    @property
    def kind(self) -> str | None:
        return self.organisation.kind if self.organisation else None

    @property
    def is_aggregator(self) -> bool:
        return self.kind == OrganisationKind.AGGREGATOR

    @property
    def is_site_owner(self) -> bool:
        return self.kind == OrganisationKind.SITE_OWNER

    @property
    def is_market_operator(self) -> bool:
        return self.kind == OrganisationKind.MARKET_OPERATOR

    @property
    def can_write(self) -> bool:
        """Admins, staff and OpenADR business-logic clients may change data; viewers and VENs only read."""
        return self.role in WRITE_ROLES

    @property
    def actor_label(self) -> str:
        """Human-readable name of the caller for audit records."""
        if self.api_client is not None:
            return f"api:{self.api_client.client_id}"
        return f"user:{getattr(self.user, 'username', '?')}"


class ApiClientIdentity:
    """What ``request.user`` is when an API client authenticated with a bearer token."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, api_client: ApiClient) -> None:
        self.api_client = api_client
        self.username = f"api:{api_client.client_id}"

    def __str__(self) -> str:
        return self.username


def principal_for(user: Any) -> Principal:
    """Resolve ``request.user`` (a User, an :class:`ApiClientIdentity` or anonymous) to a :class:`Principal`."""
    if isinstance(user, ApiClientIdentity):
        client = user.api_client
        return Principal(organisation=client.organisation, role=client.role, user=user, api_client=client)
    if user is None or not user.is_authenticated:
        return Principal(organisation=None, role=None, user=user)
    membership = getattr(user, "membership", None)
    if membership is None:
        return Principal(organisation=None, role=None, user=user)
    return Principal(organisation=membership.organisation, role=membership.role, user=user)


class PrincipalMixin:
    """For API views: ``self.principal`` is the caller resolved from ``self.request.user``.

    Every app's viewsets use this one mixin, so scoping always starts from the same :class:`Principal`.
    """

    request: Any

    @property
    def principal(self) -> Principal:
        return principal_for(self.request.user)
