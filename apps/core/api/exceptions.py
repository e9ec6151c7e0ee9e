"""The API's error format: every 4xx/5xx body is a problem document (RFC 9457) with a list of field errors.

Example body::

    {"type": "urn:vpp:problem:invalid", "title": "Invalid input.", "status": 400,
     "detail": "pue: Ensure this value is greater than or equal to 1.",
     "errors": [{"field": "pue", "reason": "Ensure this value is greater than or equal to 1."}]}

``field`` is a dotted path into the request body (``rows[3].start`` for the fourth row of a batch), or
``null`` for an error about the request as a whole.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.api.parsers import MalformedBody
from apps.core.errors import DomainError

_TITLES = {
    400: "Invalid input.",
    401: "Authentication required.",
    403: "Permission denied.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict with the current state.",
    413: "Payload too large.",
    415: "Unsupported media type.",
    429: "Too many requests.",
}


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str | None]]:
    """Flatten DRF's nested error structure into ``[{"field": path, "reason": text}]``.

    Dicts add ``.key`` to the path, lists of dicts and integer keys (DRF's ``{index: errors}`` of list items) add
    ``[i]``; ``non_field_errors`` and ``detail`` map to the
    enclosing path (``None`` at the top level).
    """
    out: list[dict[str, str | None]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "detail", "__all__"):
                path = prefix
            elif isinstance(key, int):  # DRF reports a ListField / many=True item as {index: errors}
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.extend({"field": prefix or None, "reason": str(item)} for item in detail)
        else:
            for index, item in enumerate(detail):
                if item in ({}, [], None, ""):
                    continue
                out.extend(flatten_errors(item, f"{prefix}[{index}]"))
    else:
        out.append({"field": prefix or None, "reason": str(detail)})
    return out


def problem_response(
    status_code: int,
    errors: list[dict[str, str | None]],
    *,
    code: str = "invalid",
    headers: dict | None = None,
) -> Response:
    """Build a problem-details response with ``errors``; ``detail`` joins the first few reasons."""
    detail = "; ".join(f"{e['field']}: {e['reason']}" if e["field"] else str(e["reason"]) for e in errors[:5])
    body = {
        "type": f"urn:vpp:problem:{code}",
        "title": _TITLES.get(status_code, "Error."),
        "status": status_code,
        "detail": detail,
        "errors": errors,
    }
    return Response(body, status=status_code, headers=headers, content_type="application/problem+json")


def _django_validation_errors(exc: DjangoValidationError) -> list[dict[str, str | None]]:
    if hasattr(exc, "error_dict"):
        return flatten_errors({k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()})
    return [{"field": None, "reason": m} for m in exc.messages]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: domain errors, Django validation errors and DRF errors as problem documents."""
    if isinstance(exc, DomainError):
        return problem_response(exc.status, [{"field": exc.field, "reason": exc.reason}], code=exc.code)
    if isinstance(exc, DjangoValidationError):
        return problem_response(status.HTTP_400_BAD_REQUEST, _django_validation_errors(exc))
    if isinstance(exc, RequestDataTooBig):
        return problem_response(
            413,
            [{"field": None, "reason": "The request body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE."}],
            code="too_large",
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = exc.default_code if isinstance(exc.default_code, str) else "error"
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
    elif isinstance(exc, MalformedBody):
        errors = [{"field": "body", "reason": str(exc.detail)}]
    else:
        errors = [{"field": None, "reason": str(exc.detail)}]
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return problem_response(response.status_code, errors, code=code, headers=headers)


def _api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: a URL under ``/api/`` that matches no route (e.g. ``statements/not-a-month/``) answers a
    problem document like every other API error; other paths get Django's page."""
    if _api_path(request):
        return _problem_json(404, "No API endpoint at this path.", code="not_found")
    return defaults.page_not_found(request, exception)


def api_not_found(request: HttpRequest, unmatched: str = "") -> HttpResponse:
    """The last route under ``/api/``: a path no API route matches answers a 404 problem document in every
    settings module. (``handler404`` alone is not enough: with ``DEBUG`` on, Django answers its HTML debug page
    instead of calling it.)

    Like ``CommonMiddleware`` with ``APPEND_SLASH``, a ``GET``/``HEAD`` of a route without its trailing slash is
    redirected (301) to it; for other methods the 404 names the route with the slash (a redirect would lose the
    body)."""
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        with_slash = request.path_info + "/"
        try:
            match = resolve(with_slash, getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            if request.method in ("GET", "HEAD"):
                return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
            return _problem_json(
                404,
                f"No API endpoint at this path; did you mean {request.path}/ (with the slash)?",
                code="not_found",
            )
    return _problem_json(404, "No API endpoint at this path.", code="not_found")


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an unexpected error under ``/api/`` answers a 500 problem document (no internals); other
    paths get Django's page. The exception itself is logged by Django's request logger."""
    if _api_path(request):
        return _problem_json(500, "Internal error; it has been logged.", code="server_error")
    return defaults.server_error(request)


def _problem_json(status_code: int, reason: str, *, code: str) -> HttpResponse:
    body = {
        "type": f"urn:vpp:problem:{code}",
        "title": _TITLES.get(status_code, "Server error."),
        "status": status_code,
        "detail": reason,
        "errors": [{"field": None, "reason": reason}],
    }
    return JsonResponse(body, status=status_code, content_type="application/problem+json")
