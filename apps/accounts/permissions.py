"""DRF permission classes built on :class:`~apps.accounts.principal.Principal`."""

from __future__ import annotations

from rest_framework import permissions

from .principal import principal_for


class IsMember(permissions.BasePermission):
    """Authenticated and belonging to an organisation (a bare user account sees nothing)."""

    message = "Your account is not a member of any organisation."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and (
            principal_for(request.user).organisation is not None
        )


class AssetsAccess(IsMember):
    """Aggregators and site owners may use the asset registry; market operators may not.

    Safe methods need membership; writes need a writing role (admin or staff).
    """

    message = "Market operators have no access to the asset registry; viewers may only read."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        principal = principal_for(request.user)
        if principal.is_market_operator:
            return False
        return request.method in permissions.SAFE_METHODS or principal.can_write
