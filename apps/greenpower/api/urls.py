"""Routes of the green-power API, registered on the project's single API router under ``green/``."""

from rest_framework.routers import BaseRouter

from .views import ComputeModelViewSet, GreenContractViewSet, LedgerViewSet, WorkUnitViewSet


def register(router: BaseRouter) -> None:
    router.register("green/contracts", GreenContractViewSet, basename="green-contract")
    router.register("green/work-units", WorkUnitViewSet, basename="green-work-unit")
    router.register("green/compute-models", ComputeModelViewSet, basename="green-compute-model")
    router.register("green/ledger", LedgerViewSet, basename="green-ledger")
