"""Bearer-token authentication for API clients (tokens from the OAuth2 client-credentials endpoint)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .principal import ApiClientIdentity
from .selectors import api_client_for_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>``. A missing header falls through to session auth."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            token = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Token contains invalid characters.") from exc
        api_client = api_client_for_token(token=token)
        if api_client is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return ApiClientIdentity(api_client), token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the bearer scheme in the OpenAPI schema."""

    target_class = "apps.accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Token from POST /api/v1/auth/token"}
