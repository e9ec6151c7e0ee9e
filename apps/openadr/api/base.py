"""Plumbing of the VTN API: bearer authentication, role permission, problem documents, paging and query filters.

- Authentication: ``Authorization: Bearer <token>`` from ``POST /auth/token`` (or ``/api/v1/auth/token``); no
  session authentication (so no CSRF), missing or bad token → 401.
- Permission: each view lists the roles (``bl``, ``ven``) allowed per HTTP method
  (:mod:`apps.openadr.access`); any other caller → 403.
- Errors: every 4xx/5xx body is an RFC 9457 problem document (openadr3.yaml ``components.schemas.problem``,
  Definition.md §"Problem") with ``type``, ``title``, ``status``, ``detail``, ``instance`` (the request's URL)
  and ``errors`` (field → reason, see :mod:`apps.core.api.exceptions`). Unexpected exceptions become a 500
  problem (logged, transaction rolled back).
- Paging (Definition.md §"Response Filtering", openadr3.yaml ``skip``/``limit``): ``skip`` ≥ 0 (default 0),
  0 ≤ ``limit`` ≤ 50 (default 50); a value outside these bounds is a 400 (the spec's parameter schema has
  ``maximum: 50``), not silently clamped. Lists are JSON arrays ordered by id.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, permissions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from apps.accounts.authentication import ApiTokenAuthentication
from apps.accounts.principal import principal_for
from apps.core.api.exceptions import exception_handler, problem_response
from apps.core.errors import DomainError, NotPermitted

from ..access import VtnCaller, caller_for

logger = logging.getLogger(__name__)

MAX_LIMIT = 50
OBJECT_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
PROBLEM_CONTENT_TYPE = "application/problem+json"


def vtn_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The project's problem handler, plus ``instance``: the absolute URL of the failed request."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict):
        request = context["request"]
        response.data["instance"] = request.build_absolute_uri(request.path)
    return response


def problem(
    request: HttpRequest, status: int, reason: str, *, code: str, field: str | None = None
) -> Response:
    """A problem response built outside the exception path (e.g. the token endpoint)."""
    response = problem_response(status, [{"field": field, "reason": reason}], code=code)
    response.data["instance"] = request.build_absolute_uri(request.path)
    return response


class VtnAccess(permissions.BasePermission):
    """Authenticated as a VTN client whose role is allowed for this method by ``view.roles``."""

    message = "Not allowed."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        try:
            caller = caller_for(principal_for(request.user))
        except NotPermitted as exc:
            self.message = exc.reason
            return False
        view.vtn_caller = caller
        method = "GET" if request.method == "HEAD" else str(request.method)
        if method == "OPTIONS" or not hasattr(view, method.lower()):
            return True  # OPTIONS metadata, or a method the endpoint lacks: DRF answers 405
        if caller.role not in view.roles.get(method, ()):
            who = "business logic" if caller.is_bl else "a VEN"
            self.message = f"{who} may not {method} {request.path} (openadr3.yaml security scopes)."
            return False
        return True


def _storable(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) in parsed JSON that PostgreSQL cannot store — a NUL
    character or a lone UTF-16 surrogate (``"\\ud800"``, legal in JSON text, refused by ``jsonb`` and
    ``text``) — or ``None`` when every string is storable (``"body"`` for the top level)."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return path or "body"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _storable(key, where) is not None:
                return where
            found = _storable(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _storable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class VtnJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) strings that cannot be stored: NUL characters and lone surrogates.
    Found by tests/reliability/test_openadr_fuzz.py (they were a 500 from PostgreSQL)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        bad = _storable(data)
        if bad is not None or (isinstance(data, str) and _storable(data, "body") is not None):
            raise exceptions.ParseError(
                f"{bad or 'body'}: NUL characters and lone surrogates are not allowed."
            )
        return data


class VtnView(APIView):
    """Base of every VTN endpoint: bearer auth, role permission, JSON only, problem errors, no OpenAPI entry
    in the project's own schema (the VTN's API is openadr3.yaml)."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [VtnAccess]
    renderer_classes = [JSONRenderer]
    parser_classes = [VtnJSONParser]
    schema = None
    roles: ClassVar[dict[str, frozenset[str]]] = {}
    vtn_caller: VtnCaller

    def get_exception_handler(self):
        return vtn_exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(
            exc, (exceptions.APIException, DomainError, ValidationError, Http404, PermissionDenied)
        ):
            return super().handle_exception(exc)
        logger.exception("OpenADR VTN: unexpected error on %s %s", self.request.method, self.request.path)
        set_rollback()
        return problem(self.request, 500, "Internal server error.", code="server_error")

    @property
    def caller(self) -> VtnCaller:
        return self.vtn_caller


def _plain_problem(request: HttpRequest, status: int, code: str, title: str, detail: str) -> JsonResponse:
    body = {
        "type": f"urn:vpp:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.build_absolute_uri(request.path),
        "errors": [{"field": None, "reason": detail}],
    }
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Problem 404 for any path under the VTN that names no endpoint."""
    return _plain_problem(
        request, 404, "not_found", "Not found.", f"No OpenADR 3.1.0 endpoint at {request.path}."
    )


# --- query parameters --------------------------------------------------------------------------------------


def _refuse(name: str, reason: str) -> ValidationError:
    return ValidationError({name: [reason]})


def paging(request: Request) -> tuple[int, int]:
    """``(skip, limit)`` from the query (see the module docstring). Raises ValidationError (400)."""
    skip = int_param(request, "skip", default=0, maximum=None)
    limit = int_param(request, "limit", default=MAX_LIMIT, maximum=MAX_LIMIT)
    return skip, limit


def int_param(request: Request, name: str, *, default: int, maximum: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        raise _refuse(name, f"must be a whole number ≥ 0, not '{raw}'.")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise _refuse(name, f"must be at most {maximum} (openadr3.yaml), not {value}.")
    return value


def object_id_param(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not OBJECT_ID_RE.match(raw):
        raise _refuse(name, "an objectID has 1–128 letters, digits, '_' or '-'.")
    return raw


def text_param(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not 1 <= len(raw) <= 128:
        raise _refuse(name, "must have 1–128 characters.")
    if "\x00" in raw:
        raise _refuse(name, "must not contain NUL characters.")
    return raw


def targets_param(request: Request) -> list[str]:
    """The ``targets`` query: repeated parameters (``?targets=a&targets=b``, OpenAPI form/explode)."""
    values = request.query_params.getlist("targets")
    for value in values:
        if not 1 <= len(value) <= 128:
            raise _refuse("targets", "each target has 1–128 characters.")
        if (
            "\x00" in value
        ):  # PostgreSQL text cannot hold NUL (found by tests/reliability/test_openadr_fuzz.py)
            raise _refuse("targets", "a target must not contain NUL characters.")
    return values


def bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _refuse(name, f"must be true or false, not '{raw}'.")


def check_object_id(object_id: str) -> None:
    """A path id that is not an ``objectID`` is a bad request; one that names nothing is a 404 later."""
    if not OBJECT_ID_RE.match(object_id):
        raise ValidationError({"id": ["an objectID has 1–128 letters, digits, '_' or '-'."]})
