"""Reusable field validators for physical and reference values (units in the names of the fields using them)."""

from __future__ import annotations

import re
import zoneinfo

from django.core.exceptions import ValidationError

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def validate_iana_timezone(value: str) -> None:
    """Reject a time-zone name that is not in the IANA database (e.g. ``Europe/Berlin`` is valid).

    Raises:
        ValidationError: the name is unknown.
    """
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone name (e.g. 'America/Los_Angeles').")


def validate_currency_code(value: str) -> None:
    """Reject anything that is not three upper-case letters (ISO 4217 alphabetic code shape)."""
    if not _CURRENCY_RE.match(value or ""):
        raise ValidationError(f"'{value}' is not an ISO 4217 currency code (three upper-case letters).")
