"""The single API router: every app registers its viewsets here under ``/api/v1/``."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.accounts.api.urls import register as register_accounts
from apps.accounts.api.views import MeView, TokenView
from apps.assets.api.urls import register as register_assets
from apps.dispatch.api.urls import register as register_dispatch
from apps.greenpower.api.urls import register as register_greenpower
from apps.markets.api.urls import register as register_markets
from apps.settlement.api.urls import register as register_settlement
from apps.telemetry.api.urls import register as register_telemetry
from apps.telemetry.api.urls import urlpatterns as telemetry_urls

router = DefaultRouter()
register_accounts(router)
register_assets(router)
register_telemetry(router)
register_markets(router)
register_dispatch(router)
register_settlement(router)
register_greenpower(router)

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token", TokenView.as_view(), name="auth-token"),
    *telemetry_urls,
    *router.urls,
]
