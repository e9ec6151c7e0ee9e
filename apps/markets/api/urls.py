"""Routes of the markets API, registered on the project's single API router."""

from rest_framework.routers import BaseRouter

from .views import BidViewSet, EventViewSet, MarketActivationViewSet, MarketEventViewSet, MarketProgramViewSet


def register(router: BaseRouter) -> None:
    router.register("market/programs", MarketProgramViewSet, basename="market-program")
    router.register("market/events", MarketEventViewSet, basename="market-event")
    router.register("market/activations", MarketActivationViewSet, basename="market-activation")
    router.register("events", EventViewSet, basename="event")
    router.register("bids", BidViewSet, basename="bid")
