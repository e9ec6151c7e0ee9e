"""Routes of the time-series API, registered on the project's single API router."""

from rest_framework.routers import BaseRouter

from .views import TimeSeriesViewSet


def register(router: BaseRouter) -> None:
    """``/timeseries/`` (list, create), ``/timeseries/{id}/`` and ``/timeseries/{id}/data/`` (read, ingest)."""
    router.register("timeseries", TimeSeriesViewSet, basename="timeseries")
