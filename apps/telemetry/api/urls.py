"""Routes of the time-series API, registered on the project's single API router."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Register the telemetry viewsets (none yet)."""
