"""Routes of the asset registry, registered on the project's single API router."""

from rest_framework.routers import BaseRouter

from .views import BatteryViewSet, PVArrayViewSet, SiteViewSet, WorkloadClassViewSet


def register(router: BaseRouter) -> None:
    router.register("sites", SiteViewSet, basename="site")
    router.register("workload-classes", WorkloadClassViewSet, basename="workload-class")
    router.register("batteries", BatteryViewSet, basename="battery")
    router.register("pv-arrays", PVArrayViewSet, basename="pv-array")
