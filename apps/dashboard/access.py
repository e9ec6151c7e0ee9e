"""Who may open which page: the caller's :class:`~apps.accounts.principal.Principal` decides.

Anonymous callers are sent to the login page; a logged-in person without the right kind of organisation gets
403 (staff pages refuse site owners and market operators; portal pages refuse everyone but site owners).
Objects of other organisations are never refused with 403 but looked up in a scoped queryset, so they are 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from apps.accounts.principal import Principal, principal_for

View = Callable[..., HttpResponseBase]

#: Where anonymous callers go (by URL name, so it holds before ``settings.LOGIN_URL`` points here too).
LOGIN_URL = "dashboard:login"


def login_required_here(view: View) -> View:
    """``login_required`` sending anonymous callers to the dashboard's login page."""
    return login_required(view, login_url=LOGIN_URL)


def principal_of(request: HttpRequest) -> Principal:
    """The principal of the request, resolved once per request."""
    cached = getattr(request, "_vpp_principal", None)
    if cached is None:
        cached = principal_for(request.user)
        request._vpp_principal = cached  # type: ignore[attr-defined]
    return cached


def _requires(test: Callable[[Principal], bool], refusal: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required_here
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not test(principal_of(request)):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


member_required = _requires(
    lambda p: p.organisation is not None, "Your account is not a member of any organisation."
)
aggregator_required = _requires(lambda p: p.is_aggregator, "This page is for the aggregator's staff.")
asset_reader_required = _requires(
    lambda p: p.is_aggregator or p.is_site_owner, "Market operators have no access to the asset registry."
)
owner_required = _requires(lambda p: p.is_site_owner, "The portal is for site owners.")
owner_writer_required = _requires(
    lambda p: p.is_site_owner and p.can_write,
    "Only a site owner's admins and staff may enrol or change sites; viewers may only read.",
)
operator_required = _requires(lambda p: p.is_market_operator, "This page is for market operators.")
