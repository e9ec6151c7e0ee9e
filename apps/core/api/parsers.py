"""The API's JSON parser: a malformed body is a 400 naming ``body`` with the position, and a key given twice in
one object is refused instead of the last one silently winning."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class MalformedBody(ParseError):
    """A request body that cannot be parsed. The exception handler names the field ``body``
    (:func:`apps.core.api.exceptions.exception_handler`)."""

    default_detail = "The request body is not valid JSON."
    default_code = "malformed_body"


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of :func:`json.loads`: the object, or :class:`MalformedBody` naming a repeated key."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedBody(f"the key '{key}' appears twice in one object.")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    """``parse_constant`` of :func:`json.loads`: ``NaN`` / ``Infinity`` are not JSON (RFC 8259 §6)."""
    raise MalformedBody(f"'{name}' is not a JSON number (RFC 8259 §6).")


def parse_json_body(raw: bytes, *, encoding: str) -> Any:
    """Decode and parse a JSON request body strictly (no repeated keys, no ``NaN``/``Infinity``).

    Raises:
        MalformedBody: not ``encoding`` text, not JSON (the reason gives line and column), a repeated key or
            a non-finite constant.
    """
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the body is not valid {encoding}: {exc.reason} at byte {exc.start}.") from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise MalformedBody(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (character {exc.pos})."
        ) from exc


class StrictJSONParser(JSONParser):
    """``application/json`` → Python objects with :func:`parse_json_body` (``DEFAULT_PARSER_CLASSES``)."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return parse_json_body(stream.read() if stream is not None else b"", encoding=encoding)
