"""Routes of the time-series API, registered on the project's single API router, and the site-state route."""

from django.urls import path
from rest_framework.routers import BaseRouter

from .state import SiteStateView
from .views import TimeSeriesViewSet


def register(router: BaseRouter) -> None:
    """``/timeseries/`` (list, create), ``/timeseries/{id}/`` and ``/timeseries/{id}/data/`` (read, ingest)."""
    router.register("timeseries", TimeSeriesViewSet, basename="timeseries")


#: ``/sites/{id}/state/`` (read the latest, report): the site registry (assets) sits below telemetry, so the
#: route is here rather than an action of the sites viewset.
urlpatterns = [path("sites/<int:site_id>/state/", SiteStateView.as_view(), name="site-state")]
