from rest_framework.routers import BaseRouter

from .views import DeliveryViewSet, PlanViewSet, WebhookViewSet


def register(router: BaseRouter) -> None:
    router.register("dispatch/deliveries", DeliveryViewSet, basename="dispatch-delivery")
    router.register("dispatch/plans", PlanViewSet, basename="dispatch-plan")
    router.register("dispatch/webhooks", WebhookViewSet, basename="dispatch-webhook")
