"""Strict input for every write endpoint of ``/api/v1/``: one mechanism, used by every app's input serializers.

- :class:`StrictSerializer` / :class:`StrictModelSerializer` refuse keys that are not fields of the serializer
  (a misspelt ``requsted_kw`` is a 400 naming it, not silently dropped) and date-times without a time zone
  (``2022-09-01T00:00`` is a 400, not read as UTC). Nested strict serializers (``intervals=…(many=True)``) are
  strict row by row, so the error names ``intervals[2].bogus``.
- :class:`EmptyInputSerializer` is the body of a command that takes none (close the gate, acknowledge): any
  field sent is unknown.
- :func:`refuse_unknown_row_fields` checks a bulk batch (500 000 rows of data points) against its documented
  row serializer without validating row by row through DRF (too slow for such batches).

A read-only field (``id``, ``enrolment_status``) is refused too, with its own reason: DRF would drop it
silently, and a client that sends ``enrolment_status`` must learn that it did not change it. The published
schema says the same (:class:`apps.core.api.schema.StrictSerializerExtension`: request bodies of strict
serializers have ``additionalProperties: false`` and no read-only properties). The OAuth2 token endpoint is not strict on purpose: RFC 6749 §3.2 requires the authorization server
to ignore unrecognized request parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

#: At most this many unknown-field errors are listed for a bulk batch (the total is said in the last one).
MAX_ROW_ERRORS = 100


def _accepted(allowed: Iterable[str]) -> str:
    names = sorted(allowed)
    return "accepted: " + (", ".join(names) if names else "none (this request takes no body)") + "."


def unknown_field_reason(allowed: Iterable[str]) -> str:
    """The reason given for an unknown field: it lists the accepted fields, so the fix is in the message."""
    return f"unknown field; {_accepted(allowed)}"


def read_only_field_reason(allowed: Iterable[str]) -> str:
    """The reason given for a read-only field sent in a request body, with the accepted fields."""
    return f"read-only field; it cannot be set; {_accepted(allowed)}"


class StrictDateTimeField(serializers.DateTimeField):
    """A ``DateTimeField`` that refuses a date-time without a UTC offset instead of reading it in ``TIME_ZONE``.

    ``2022-09-01T00:15:00Z`` and ``2022-09-01T02:15:00+02:00`` are accepted (and kept as aware datetimes);
    ``2022-09-01T00:15:00`` and ``2022-09-01`` are refused with ``naive``. The project convention (DESIGN.md
    "Time"): timezone-aware UTC everywhere inside; a naive time from outside is ambiguous by hours.
    """

    default_error_messages = {
        "naive": "'{value}' has no time zone; send an ISO 8601 time with an offset, e.g. 2022-09-01T00:15:00Z.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        """Parse ``value`` as DRF does, after refusing a naive string or datetime (``ValidationError`` ``naive``)."""
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # DRF reports the invalid format
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive", value=value)
        elif isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive", value=value.isoformat())
        parsed_value = super().to_internal_value(value)
        try:
            # In UTC inside (DESIGN.md); an offset the database cannot store (e.g. +19:00) is read correctly too.
            return parsed_value.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("invalid", format="an ISO 8601 date-time within years 1..9999 in UTC")


def _strict_datetime(field: serializers.Field) -> serializers.Field:
    """``field`` itself, or a :class:`StrictDateTimeField` built with its arguments when it is a plain
    ``DateTimeField`` (declared on the serializer or built from a model's ``DateTimeField``). DRF keeps every
    field's constructor arguments (``Field.__new__`` stores ``_args`` / ``_kwargs``) to copy fields; the same
    arguments build the strict one."""
    if type(field) is serializers.DateTimeField:
        return StrictDateTimeField(*getattr(field, "_args", ()), **getattr(field, "_kwargs", {}))
    if isinstance(field, serializers.ListField) and type(field.child) is serializers.DateTimeField:
        kwargs = {**getattr(field, "_kwargs", {}), "child": _strict_datetime(field.child)}
        return type(field)(*getattr(field, "_args", ()), **kwargs)
    return field


class StrictInputMixin:
    """Serializer mixin: unknown keys and naive date-times are validation errors.

    ``to_internal_value`` (the step DRF runs on each object of the input, nested ones included) adds
    ``{key: "unknown field; accepted: …"}`` for every key of a mapping input that is not a writable field of
    the serializer, and refuses a string holding a NUL character (which PostgreSQL text cannot store), before
    the fields' own validation runs (so a relation lookup never sees such a value). ``get_fields`` swaps
    plain ``DateTimeField``\\s for :class:`StrictDateTimeField`.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        return {name: _strict_datetime(field) for name, field in fields.items()}

    def to_internal_value(self, data: Any) -> Any:
        fields: Mapping[str, serializers.Field] = self.fields  # type: ignore[attr-defined]
        unknown: dict[str, list[str]] = {}
        nul: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            writable = [name for name, field in fields.items() if not field.read_only]
            for key in data:
                if key not in fields:
                    unknown[str(key)] = [unknown_field_reason(writable)]
                elif fields[key].read_only:
                    unknown[str(key)] = [read_only_field_reason(writable)]
                elif isinstance(data[key], str) and "\x00" in data[key]:
                    # PostgreSQL text cannot hold NUL: refused here, before a lookup sends it to the database.
                    nul[str(key)] = ["must not contain a NUL character."]
        if nul:
            raise serializers.ValidationError({**unknown, **nul})
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from exc
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    """Base of every input serializer of the API (see the module docstring)."""


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Base of every model serializer the API writes through (see the module docstring)."""


class EmptyInputSerializer(StrictSerializer):
    """The body of a command that takes none: an empty body or ``{}`` passes; any field is unknown."""


def refuse_unknown_row_fields(
    rows: Any, row_serializer: type[serializers.Serializer], *, path: str = "rows"
) -> None:
    """Refuse the unknown keys of a bulk batch ``[{...}, ...]`` against the fields of ``row_serializer`` (the row
    shape documented in the OpenAPI schema, so the documented and the enforced shapes are one).

    Only the key sets are checked (one set comparison per row); the values are left to the batch's own
    vectorised validation. Anything but a list of mappings is left to it too.

    Raises:
        rest_framework.serializers.ValidationError: ``{"rows[3].bogus": "unknown field; accepted: …"}`` for
            at most :data:`MAX_ROW_ERRORS` keys, the last one saying how many there were in all.
    """
    if not isinstance(rows, list):
        return
    allowed = frozenset(row_serializer().fields)
    try:
        if set().union(*rows) <= allowed:  # the common case, at C speed: no row has another key
            return
    except TypeError:
        pass  # a row that is not iterable (a number): the batch's own validation names it
    bad = [i for i, row in enumerate(rows) if isinstance(row, Mapping) and not row.keys() <= allowed]
    if not bad:
        return
    reason = unknown_field_reason(allowed)
    errors: dict[str, str] = {}
    total = 0
    for i in bad:
        for key in rows[i]:
            if key in allowed:
                continue
            total += 1
            if len(errors) < MAX_ROW_ERRORS:
                errors[f"{path}[{i}].{key}"] = reason
    if total > len(errors):
        errors[path] = f"{total} unknown fields in all; the first {len(errors)} are listed."
    raise serializers.ValidationError(errors)
