"""Token endpoints of the VTN: ``GET /auth/server`` and ``POST /auth/token`` (Definition.md §"Token endpoint
discovery", RFC 6749 §4.4)."""

from __future__ import annotations

from collections.abc import Mapping

from django.urls import reverse
from rest_framework import parsers, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.views import basic_credentials
from apps.accounts.services import access_token_issue
from apps.accounts.throttling import TokenRateThrottle
from apps.core.errors import DomainError

from .base import (
    VtnView,
    problem,
)


class AuthServerView(VtnView):
    """``GET /auth/server``: the token endpoint's URL (Definition.md §"Token endpoint discovery")."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"tokenURL": request.build_absolute_uri(reverse("openadr:auth-token"))})


class AuthTokenView(VtnView):
    """``POST /auth/token``: OAuth2 client-credentials grant (RFC 6749 §4.4) issuing the project's bearer tokens.

    Client id and secret come as HTTP Basic (RFC 6749 §2.3.1) or in the form body; ``scope`` is a
    space-separated string in request and response (§3.3). Errors are problem documents that also carry RFC 6749
    §5.2's ``error`` / ``error_description`` (openadr3.yaml ``authError``): ``invalid_request`` and
    ``unsupported_grant_type`` (400), ``invalid_scope`` (400), ``invalid_client`` (401, with
    ``WWW-Authenticate: Basic`` when Basic was tried).
    """

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, parsers.JSONParser]

    def _error(self, status: int, error: str, description: str, field: str | None, basic: bool) -> Response:
        response = problem(self.request, status, description, code=error, field=field)
        response.data["error"] = error
        response.data["error_description"] = description
        if status == 401 and basic:
            response["WWW-Authenticate"] = 'Basic realm="openadr3"'
        return response

    def post(self, request: Request) -> Response:
        basic = basic_credentials(request)
        if not isinstance(request.data, Mapping):
            return self._error(
                400, "invalid_request", "send a form (or JSON object) body.", None, bool(basic)
            )
        data = request.data
        grant_type = data.get("grant_type")
        if not grant_type:
            return self._error(400, "invalid_request", "grant_type is required.", "grant_type", bool(basic))
        if grant_type != "client_credentials":
            return self._error(
                400,
                "unsupported_grant_type",
                "only client_credentials is supported.",
                "grant_type",
                bool(basic),
            )
        client_id, client_secret = basic or (data.get("client_id"), data.get("client_secret"))
        if not client_id or not client_secret:
            return self._error(
                400,
                "invalid_request",
                "client_id and client_secret are required (form body or HTTP Basic).",
                "client_id",
                False,
            )
        try:
            issued = access_token_issue(
                client_id=str(client_id), client_secret=str(client_secret), scope=str(data.get("scope") or "")
            )
        except DomainError as exc:
            if exc.field == "scope":
                return self._error(400, "invalid_scope", exc.reason, "scope", bool(basic))
            return self._error(401, "invalid_client", exc.reason, "client_id", bool(basic))
        body = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
        return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
