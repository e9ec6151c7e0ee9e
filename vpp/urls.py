"""Root URL configuration: admin, REST API (``/api/v1/``), its schema and docs (Swagger UI served from the
project: drf-spectacular-sidecar, no CDN), and a health check."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.api.exceptions import api_not_found


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe: the process answers."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("vpp.api")),
    # Last of the API: any other /api/ path is a 404 problem document, DEBUG or not (see api_not_found).
    re_path(r"^api/(?P<unmatched>.*)$", api_not_found, name="api-not-found"),
    path("openadr3/3.1.0/", include("apps.openadr.urls")),
    path("green/", include("apps.greenpower.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("apps.dashboard.urls")),
]

# Unknown paths and crashes under /api/ answer problem documents (RFC 9457) like every other API error.
handler404 = "apps.core.api.exceptions.page_not_found"
handler500 = "apps.core.api.exceptions.server_error"
