"""Routes of the accounts API registered on the project's single API router (``me`` and the token endpoint are
plain paths in :mod:`vpp.api`)."""

from rest_framework.routers import BaseRouter

from .audit import AuditEntryViewSet


def register(router: BaseRouter) -> None:
    router.register("audit", AuditEntryViewSet, basename="audit-entry")
