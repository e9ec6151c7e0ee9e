"""Who is calling the VTN: business logic (``bl``) or a VEN (``ven`` bound to one site).

Definition.md §Security "Assumptions": "Client requests must be associated with a client role, and roles
define what operations on what API objects a given client may perform." The role is the API client's
(:class:`~apps.accounts.choices.ApiClientRole`), resolved from its bearer token:

- ``bl``: the aggregator's OpenADR business logic; full access (§"Object Privacy": "BL clients are given carte
  blanche access to all objects").
- ``ven``: a site owner's API client bound to one site by a :class:`~apps.assets.models.SiteCredential`; it
  acts as that site's VEN and sees only its own objects and the programs/events targeted at it.

Every other caller (people, other API-client roles, market operators) has no VTN access (HTTP 403).
Token scopes are recorded on the token but do not change what a role may do.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.choices import ApiClientRole
from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.assets.selectors import site_bound_to_client
from apps.core.errors import NotPermitted

BL = ApiClientRole.BL.value
VEN = ApiClientRole.VEN.value


@dataclass(frozen=True)
class VtnCaller:
    """An authenticated VTN client: ``role`` (``bl`` | ``ven``), its ``client_id`` (the spec's ``clientID``)
    and, for a VEN, the ``site`` it speaks for."""

    role: str
    client_id: str
    principal: Principal
    site: Site | None = None

    @property
    def is_bl(self) -> bool:
        return self.role == BL

    @property
    def is_ven(self) -> bool:
        return self.role == VEN


def caller_for(principal: Principal) -> VtnCaller:
    """Resolve ``principal`` to a VTN caller.

    Raises:
        NotPermitted: not an API client, a role without VTN access, or a ``ven`` client bound to no site.
    """
    client = principal.api_client
    if client is None:
        raise NotPermitted(
            "The VTN is for OpenADR API clients: use a bearer token of a 'bl' or 'ven' client."
        )
    if client.role == BL and principal.is_aggregator:
        return VtnCaller(role=BL, client_id=client.client_id, principal=principal)
    if client.role == VEN and principal.is_site_owner:
        site = site_bound_to_client(api_client_id=client.pk)
        if site is None:
            raise NotPermitted("This VEN client is not bound to a site (create_api_client --site).")
        return VtnCaller(role=VEN, client_id=client.client_id, principal=principal, site=site)
    raise NotPermitted(f"API clients with role '{client.role}' have no access to the OpenADR VTN.")
