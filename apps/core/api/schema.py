"""Shared OpenAPI components: the problem-details body documented on every endpoint's error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
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


PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Problems any operation can answer through the project's exception handler: bad input (a body, a filter or a
#: paging parameter), no or bad credentials, a forbidden role, an unknown or invisible object.
_EVERY_OPERATION = {
    "400": "Invalid input (body, filter or paging parameter); `errors` names each field and reason.",
    "401": "Missing or invalid credentials.",
    "403": "Not allowed for the caller's organisation or role.",
    "404": "Not found (or not visible to the caller).",
}
_WITH_BODY = {
    "413": "The request body is too large.",
    "415": "Unsupported media type of the request body.",
}


def problem_media_type_hook(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: document every problem response the API really sends.

    - Error bodies are problem documents served as ``application/problem+json``
      (:func:`apps.core.api.exceptions.problem_response`): every ``4xx``/``5xx`` response documented as
      ``application/json`` with the ``Problem`` schema moves to that media type.
    - Every operation can answer 400, 401, 403 and 404 (:data:`_EVERY_OPERATION`), and one with a request body
      413 and 415; missing ones are added with the ``Problem`` schema.
    """
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            extra = {**_EVERY_OPERATION, **(_WITH_BODY if "requestBody" in operation else {})}
            for code, description in extra.items():
                responses.setdefault(
                    code,
                    {"description": description, "content": {"application/json": {"schema": problem_ref}}},
                )
            for code, response in responses.items():
                content = response.get("content", {})
                body = content.get("application/json")
                if (
                    str(code)[:1] in "45"
                    and body
                    and body.get("schema", {}).get("$ref", "").endswith("/Problem")
                ):
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return result


class StrictSerializerExtension(OpenApiSerializerExtension):
    """Documents what :class:`apps.core.api.strict.StrictInputMixin` enforces: the request body of a strict
    serializer has ``additionalProperties: false`` (an unknown field is a 400), so the published schema and the
    API refuse the same bodies. Responses are unchanged."""

    target_class = "apps.core.api.strict.StrictInputMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
