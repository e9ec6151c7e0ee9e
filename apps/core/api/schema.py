"""Shared OpenAPI components: the problem-details body documented on every endpoint's error responses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class FieldErrorSerializer(serializers.Serializer):
    """One refused field: a dotted path into the request body (or null) and the reason."""

    field = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details with the list of field errors."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)  # type: ignore[assignment]


def problem(description: str) -> OpenApiResponse:
    """An OpenAPI response documented as a problem-details body."""
    return OpenApiResponse(ProblemSerializer, description=description)


PROBLEM_RESPONSES = {
    400: problem("Invalid input; `errors` names each field and reason."),
    401: problem("Missing or invalid credentials."),
    403: problem("Not allowed for the caller's organisation or role."),
    404: problem("Not found (or not visible to the caller)."),
}
CONFLICT_RESPONSE = {409: problem("Conflicts with the current state; `detail` says why.")}
