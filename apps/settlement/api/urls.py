"""Routes of the settlement API, registered on the project's single API router."""

from rest_framework.routers import BaseRouter

from .views import MarketPerformanceViewSet, SettlementRunViewSet, SiteSettlementViewSet, StatementViewSet


def register(router: BaseRouter) -> None:
    router.register("market/performance", MarketPerformanceViewSet, basename="market-performance")
    router.register("settlement/runs", SettlementRunViewSet, basename="settlement-run")
    router.register("settlement/sites", SiteSettlementViewSet, basename="settlement-site")
    router.register("settlement/statements", StatementViewSet, basename="settlement-statement")
