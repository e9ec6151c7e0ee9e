"""Accounts API: who am I, and the OAuth2 client-credentials token endpoint."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from drf_spectacular.utils import extend_schema
from rest_framework import parsers, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.permissions import IsMember
from apps.accounts.principal import principal_for
from apps.accounts.throttling import TokenRateThrottle
from apps.core.api.exceptions import problem_response
from apps.core.api.schema import PROBLEM_RESPONSES, problem
from apps.core.errors import DomainError

from .serializers import MeSerializer, TokenRequestSerializer, TokenResponseSerializer


class MeView(APIView):
    """The authenticated caller, its organisation and role."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: MeSerializer, **PROBLEM_RESPONSES}, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        principal = principal_for(request.user)
        data = {
            "type": "api_client" if principal.api_client else "user",
            "username": None if principal.api_client else request.user.get_username(),
            "client_id": principal.api_client.client_id if principal.api_client else None,
            "organisation": principal.organisation,
            "role": principal.role,
            "can_write": principal.can_write,
        }
        return Response(MeSerializer(data).data)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an HTTP Basic header (RFC 6749 §2.3.1: form-urlencoded parts)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


class TokenView(APIView):
    """OAuth2 client-credentials grant: exchange a client id and secret for a one-hour bearer token."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [parsers.FormParser, parsers.JSONParser, parsers.MultiPartParser]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: PROBLEM_RESPONSES[400],
            401: PROBLEM_RESPONSES[401],
            429: problem("Too many token requests from this address; retry after `Retry-After` seconds."),
        },
        operation_id="auth_token_create",
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        basic = basic_credentials(request)
        client_id, client_secret = basic or (data.get("client_id"), data.get("client_secret"))
        if not client_id or not client_secret:
            return problem_response(
                status.HTTP_400_BAD_REQUEST,
                [
                    {
                        "field": "client_id",
                        "reason": "client_id and client_secret are required (form or Basic).",
                    }
                ],
            )
        try:
            issued = services.access_token_issue(
                client_id=client_id, client_secret=client_secret, scope=data.get("scope", "")
            )
        except DomainError as exc:
            code = status.HTTP_400_BAD_REQUEST if exc.field == "scope" else status.HTTP_401_UNAUTHORIZED
            return problem_response(code, [{"field": exc.field, "reason": exc.reason}], code="invalid_client")
        body = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
        return Response(body, headers={"Cache-Control": "no-store"})
