"""The one FilterSet base of the API: query parameters are checked as strictly as request bodies.

- A parameter holding a NUL character is a 400 naming it (PostgreSQL text cannot hold NUL; before this, such a
  value reached the database and failed there as a 500).
- Date-times are compared in UTC: an offset that Python accepts but PostgreSQL cannot store (beyond ±15:59, e.g.
  ``-16:53``) is converted first, and one that leaves the years 1..9999 once in UTC is a 400 naming the parameter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.forms.utils import ErrorDict, ErrorList
from rest_framework.exceptions import ValidationError


class StrictFilterSet(django_filters.FilterSet):
    """``django_filters.FilterSet`` that refuses NUL characters and reads date-times in UTC (see the module)."""

    def _nul_errors(self) -> dict[str, ErrorList]:
        data = self.data or {}
        items = data.lists() if hasattr(data, "lists") else ((key, [value]) for key, value in data.items())
        return {
            key: ErrorList(["must not contain a NUL character."])
            for key, values in items
            if any("\x00" in str(value) for value in values) or "\x00" in str(key)
        }

    def is_valid(self) -> bool:
        return not self._nul_errors() and super().is_valid()

    @property
    def errors(self) -> Any:
        nul = self._nul_errors()
        return ErrorDict(nul) if nul else self.form.errors

    def filter_queryset(self, queryset: Any) -> Any:
        for name, value in list(self.form.cleaned_data.items()):
            if isinstance(value, datetime) and value.tzinfo is not None:
                try:
                    self.form.cleaned_data[name] = value.astimezone(UTC)
                except (OverflowError, ValueError):
                    raise ValidationError({name: ["must lie within the years 1..9999 in UTC."]}) from None
        return super().filter_queryset(queryset)
