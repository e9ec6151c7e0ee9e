"""Validation of request bodies against the OpenADR 3.1.0 OpenAPI definition shipped in ``spec/``.

The ``components.schemas`` of ``spec/openadr3.yaml`` are turned into JSON Schema (draft 4, which OpenAPI 3.0
schemas follow: ``nullable: true`` becomes "or null"; ``discriminator`` and ``example`` are dropped) and each
request body is checked against its schema (``programRequest``, ``eventRequest``, ``BlVenRequest`` …).
Definition.md §"Message validation": "A VTN SHALL reject request bodies that do not contain required fields";
§"Required and optional properties": a missing required property is a 400.

Payload values of the enumerated payload types (Definition.md §Enumerations, ``spec/enumerations``) are also
checked, e.g. ``IMPORT_CAPACITY_LIMIT`` and ``DISPATCH_SETPOINT`` values are numbers ≥ 0. ``maxItems`` of the
enumerations is not enforced, because User Guide §7.3 "multi-valued payloads" allows packing several values
(sub-intervals) into one payload. Private payload types (any other string) are accepted as they are.

Errors are raised as one ``django.core.exceptions.ValidationError`` keyed by the path into the body
(``intervals[0].payloads[1].values[0]``), which the API renders as a problem document (HTTP 400).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml
from django.core.exceptions import ValidationError

from .timing import parse_datetime

SPEC_DIR = Path(__file__).resolve().parent / "spec"
MAX_ERRORS = 20
_DROPPED_KEYWORDS = frozenset({"discriminator", "example", "nullable", "$id", "xml", "externalDocs"})

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document (parsed once per process)."""
    with (SPEC_DIR / "openadr3.yaml").open() as handle:
        return yaml.load(handle, Loader=_Loader)


@cache
def enumeration(name: str) -> dict[str, Any]:
    """``definitions`` of ``spec/enumerations/<name>.schema.yaml`` (e.g. ``event-interval-payloads``)."""
    with (SPEC_DIR / "enumerations" / f"{name}.schema.yaml").open() as handle:
        return yaml.load(handle, Loader=_Loader)["definitions"]


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema object → JSON Schema draft 4."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items() if key not in _DROPPED_KEYWORDS}
    if "$ref" in out:
        out = {"$ref": out["$ref"].replace("#/components/schemas/", "#/definitions/")}
    if node.get("nullable") is True:
        out.pop("default", None)
        return {"anyOf": [out, {"type": "null"}]}
    return out


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        parse_datetime(value)
    return True


@_FORMATS.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if isinstance(value, str):
        parts = urlsplit(value)
        if not parts.scheme or not (parts.netloc or parts.path):
            raise ValueError(f"'{value}' is not an absolute URI.")
    return True


@cache
def _validator(name: str) -> jsonschema.Draft4Validator:
    definitions = _to_json_schema(spec()["components"]["schemas"])
    schema = {"definitions": definitions, "$ref": f"#/definitions/{name}"}
    return jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


def _path(parts: Any, prefix: str = "") -> str:
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(error: jsonschema.ValidationError) -> str:
    if error.cause is not None:
        return str(error.cause)
    if error.validator == "pattern" and "P(?=" in str(error.validator_value):
        return f"{error.instance!r} is not an ISO 8601 duration (e.g. PT15M, PT1H, P1D)."
    if error.validator == "pattern":
        return f"{error.instance!r} may contain only letters, digits, '_' and '-'."
    return error.message


def _messages(errors: list[jsonschema.ValidationError], prefix: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message))[:MAX_ERRORS]:
        path = _path(error.absolute_path, prefix)
        message = _reason(error)
        if error.validator == "required" and isinstance(error.validator_value, list):
            missing = next((p for p in error.validator_value if p not in (error.instance or {})), None)
            if missing is not None:
                path = _path([*error.absolute_path, missing], prefix)
                message = "This field is required."
        elif error.validator == "anyOf" and error.context:
            # "null or <schema>": report the reason of the non-null branch
            deepest = max(error.context, key=lambda e: len(e.absolute_path))
            path = _path([*error.absolute_path, *deepest.relative_path], prefix)
            message = _reason(deepest)
            if deepest.validator == "required" and isinstance(deepest.validator_value, list):
                missing = next(
                    (p for p in deepest.validator_value if p not in (deepest.instance or {})), None
                )
                if missing is not None:
                    path = _path([*error.absolute_path, *deepest.relative_path, missing], prefix)
                    message = "This field is required."
        found.setdefault(path or "body", []).append(message)
    return found


def without_nulls(value: Any) -> Any:
    """``value`` with every object property whose value is ``null`` left out, at any depth (array items are
    kept). OpenAPI 3.0 optional properties default to absent and the spec's nullable ones to ``null``; the
    3.1.0 clients send ``"intervalPeriod": null`` for "none", so an explicit null is read as absent (a required
    property sent as null is then reported missing)."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def validate(body: Any, schema_name: str) -> dict[str, Any]:
    """Check ``body`` against ``components.schemas[schema_name]`` of openadr3.yaml and return it, with explicit
    nulls read as absent (:func:`without_nulls`).

    Raises:
        ValidationError: keyed by path into the body; nothing is written.
    """
    if not isinstance(body, dict):
        raise ValidationError({"body": ["The request body must be a JSON object."]})
    body = without_nulls(body)
    errors = list(_validator(schema_name).iter_errors(body))
    if errors:
        raise ValidationError(_messages(errors))
    return body


@cache
def _payload_validator(enumeration_name: str, payload_type: str) -> jsonschema.Draft4Validator | None:
    definition = enumeration(enumeration_name).get(payload_type)
    if definition is None:
        return None
    schema = {k: v for k, v in definition.items() if k not in ("$id", "maxItems", "description")}
    return jsonschema.Draft4Validator(schema)


def validate_payloads(intervals: list[dict[str, Any]] | None, *, enumeration_name: str, prefix: str) -> None:
    """Check the values of every payload of a known type in ``intervals`` against the enumerations.

    ``enumeration_name`` is ``event-interval-payloads`` or ``report-payloads``; ``prefix`` is the path of
    ``intervals`` in the body (``intervals`` or ``resources[0].intervals``).

    Raises:
        ValidationError: keyed by path (``intervals[2].payloads[0].values``).
    """
    found: dict[str, list[str]] = {}
    for i, interval in enumerate(intervals or []):
        for j, payload in enumerate(interval.get("payloads") or []):
            validator = _payload_validator(enumeration_name, payload["type"])
            if validator is None:
                continue
            errors = list(validator.iter_errors(payload["values"]))
            if errors:
                where = f"{prefix}[{i}].payloads[{j}].values"
                for path, messages in _messages(errors, where).items():
                    found.setdefault(path, []).extend(f"{payload['type']}: {m}" for m in messages)
    if found:
        raise ValidationError(found)
