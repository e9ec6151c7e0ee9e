"""Request parsers of the ingestion endpoint: JSON that lets NaN/Infinity through (so that the row is named in
the refusal instead of the whole body failing to parse) and ``text/csv``."""

from __future__ import annotations

import codecs
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class LenientJSONParser(parsers.JSONParser):
    """``application/json`` accepting the non-standard ``NaN``/``Infinity`` literals, which the ingestion
    service then refuses row by row."""

    strict = False


class CSVText(str):
    """Marks a request body that arrived as CSV text."""


class CSVParser(parsers.BaseParser):
    """``text/csv`` body → :class:`CSVText` (the service parses it into arrays)."""

    media_type = "text/csv"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> CSVText:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return CSVText(codecs.getreader(encoding)(stream).read())
        except UnicodeDecodeError as exc:
            raise ParseError(f"CSV body is not valid {encoding}: {exc}") from exc
