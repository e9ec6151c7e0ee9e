"""Request parsers of the ingestion endpoint.

Bulk batches are larger than ordinary API bodies (500 000 rows of JSON ≈ 25 MB), so these parsers read the
request stream themselves, with their own size limit (:data:`MAX_BODY_BYTES`), instead of Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) that applies to the rest of the API. The JSON parser lets the
non-standard ``NaN``/``Infinity`` literals through, so that the refusal names the row rather than failing the
whole body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException

from apps.core.api.parsers import MalformedBody

#: Largest ingestion body accepted (bytes).
MAX_BODY_BYTES = 64 * 1024 * 1024


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The body exceeds {MAX_BODY_BYTES // (1024 * 1024)} MB; split the batch."
    default_code = "too_large"


def _read_body(stream: Any, parser_context: Mapping[str, Any] | None) -> str:
    if stream is None:
        return ""
    request = (parser_context or {}).get("request")
    declared = 0
    if request is not None:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
    if declared > MAX_BODY_BYTES:
        raise BodyTooLarge()
    data = stream.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise BodyTooLarge()
    encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the body is not valid {encoding}: {exc}") from exc


class IngestJSONParser(parsers.BaseParser):
    """``application/json`` → Python objects; accepts ``NaN``/``Infinity`` (refused later, row by row)."""

    media_type = "application/json"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        text = _read_body(stream, parser_context)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise MalformedBody(f"JSON parse error - {exc}") from exc


class CSVText(str):
    """Marks a request body that arrived as CSV text."""


class CSVParser(parsers.BaseParser):
    """``text/csv`` body → :class:`CSVText` (the service parses it into arrays)."""

    media_type = "text/csv"

    def parse(  # type: ignore[override]  # the body is text, not a mapping
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> CSVText:
        return CSVText(_read_body(stream, parser_context))
