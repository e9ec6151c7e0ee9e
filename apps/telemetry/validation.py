"""Vectorised parsing and validation of a batch of ``(start, value)`` rows.

A batch arrives as JSON records (``[{"start": "2022-09-01T00:00:00Z", "value": 12.5}, ...]``), as CSV text with
a ``start,value`` header, or as arrays (importer, benchmarks). Every check runs over whole numpy arrays; only
the reasons of the first :data:`MAX_REPORTED_ERRORS` refused rows are formatted. The batch is all-or-nothing:
:func:`~apps.telemetry.checks.validate_batch` either returns the clean arrays or raises :class:`BatchRefused` naming each refused row
(``rows[17].start``) and the reason, with the total number of errors. This module parses and holds the types;
the checks against a series are in :mod:`apps.telemetry.checks`.

Checks: a timestamp must be an ISO 8601 string *with* a UTC offset (``Z`` or ``±HH:MM``), aligned to the
series resolution (counted from 1970-01-01T00:00Z), and not repeated inside the batch; a value must be a finite
number within the quantity's physical range (and the owner's limits, see :class:`Bounds`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

#: At most this many row errors are listed in a refusal; the total is always given.
MAX_REPORTED_ERRORS = 100
US_PER_S = 1_000_000


@dataclass(frozen=True)
class RowError:
    """One refused row: 0-based index in the batch, the field (``start``/``value``, ``None`` = the row)."""

    row: int
    field: str | None
    reason: str

    @property
    def path(self) -> str:
        """Path into the request body, e.g. ``rows[17].start``."""
        return f"rows[{self.row}]" + (f".{self.field}" if self.field else "")


class BatchRefused(ValidationError):
    """The whole batch is refused; ``row_errors`` lists the first errors by row, ``total`` counts them all.

    A ``django.core.exceptions.ValidationError`` keyed by ``rows[i].field`` so that the API's problem format
    (``errors: [{"field", "reason"}]``) reports each row; a last entry without field gives the total.
    """

    def __init__(self, errors: Sequence[RowError], total: int | None = None, *, detail: str = "") -> None:
        self.row_errors = list(errors)[:MAX_REPORTED_ERRORS]
        self.total = len(errors) if total is None else total
        messages: dict[str, list[str]] = {}
        for error in self.row_errors:
            messages.setdefault(error.path, []).append(error.reason)
        summary = detail or f"{self.total} error(s) in the batch; nothing was written."
        if self.total > len(self.row_errors):
            summary += f" The first {len(self.row_errors)} are listed."
        messages[NON_FIELD_ERRORS] = [summary]
        super().__init__(messages)


def batch_refused(reason: str) -> BatchRefused:
    """A refusal of the batch as a whole (no row to name), e.g. a CSV without the ``start,value`` header."""
    return BatchRefused([], 1, detail=reason)


@dataclass(frozen=True)
class Bounds:
    """Inclusive physical range of a value with the reason quoted when a value falls outside it."""

    lower: float
    upper: float
    unit: str
    lower_reason: str
    upper_reason: str


@dataclass
class CleanBatch:
    """A validated batch: ``starts_us`` (int64 µs since 1970-01-01T00:00Z, UTC) and ``values`` (float64)."""

    starts_us: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class RawBatch:
    """A parsed but unchecked batch. ``start_ok`` / ``value_ok`` mark rows whose field parsed; ``errors`` holds
    the parse errors found so far as ``(rows, field, reason_of_row)`` groups."""

    starts_us: np.ndarray
    values: np.ndarray
    start_ok: np.ndarray
    value_ok: np.ndarray
    errors: list[tuple[np.ndarray, str | None, Callable[[int], str]]]
    start_text: Callable[[int], str]

    @property
    def n(self) -> int:
        return len(self.values)


def has_utc_offset(text: str) -> bool:
    """An ISO 8601 timestamp string ends with a UTC offset (``Z``, ``±HH:MM``, ``±HHMM`` or ``±HH``) after the
    time part. ``2022-09-01`` and ``2022-09-01T00:00:00`` have none."""
    if text[-1:] in ("Z", "z"):
        return True
    sign = max(text.rfind("+"), text.rfind("-"))
    sep = text.find("T")
    if sep < 0:
        sep = text.find(" ")
    return 0 <= sep < sign


def _parse_start_strings(items: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, list]:
    """Start values (anything) → (µs since epoch, ok mask, error groups)."""
    n = len(items)
    is_str = np.fromiter((type(s) is str for s in items), dtype=bool, count=n)
    has_offset = np.zeros(n, dtype=bool)
    if is_str.all():
        has_offset = np.fromiter((has_utc_offset(s) for s in items), dtype=bool, count=n)
        candidates = (
            items
            if has_offset.all()
            else [s if ok else None for s, ok in zip(items, has_offset, strict=True)]
        )
    else:
        for i in np.flatnonzero(is_str):
            has_offset[i] = has_utc_offset(items[int(i)])
        candidates = [s if ok else None for s, ok in zip(items, has_offset, strict=True)]
    parsed = pd.to_datetime(pd.Series(candidates, dtype=object), format="ISO8601", utc=True, errors="coerce")
    starts_us = parsed.dt.as_unit("us").to_numpy(dtype="datetime64[us]").view(np.int64)
    parsed_ok = ~np.isnat(parsed.to_numpy(dtype="datetime64[us]"))
    errors: list = []
    missing = np.array([s is None for s in items], dtype=bool) if not is_str.all() else np.zeros(n, bool)
    if missing.any():
        errors.append((np.flatnonzero(missing), "start", lambda i: "start is required."))
    not_str = ~is_str & ~missing
    if not_str.any():
        errors.append(
            (
                np.flatnonzero(not_str),
                "start",
                lambda i: f"start must be an ISO 8601 string with a UTC offset, not {items[i]!r}.",
            )
        )
    no_offset = is_str & ~has_offset
    if no_offset.any():
        errors.append(
            (
                np.flatnonzero(no_offset),
                "start",
                lambda i: (
                    f"timestamp '{items[i]}' has no UTC offset; send e.g. '{items[i]}Z' or "
                    f"'{items[i]}+02:00'."
                ),
            )
        )
    unparsable = is_str & has_offset & ~parsed_ok
    if unparsable.any():
        errors.append(
            (
                np.flatnonzero(unparsable),
                "start",
                lambda i: f"'{items[i]}' is not an ISO 8601 timestamp (e.g. 2022-09-01T00:15:00Z).",
            )
        )
    return starts_us, parsed_ok & is_str & has_offset, errors


def _to_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _parse_values(items: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, list]:
    """JSON values → (float64, ok mask, error groups). Booleans and strings are not numbers."""
    n = len(items)
    numeric = np.fromiter((type(v) is float or type(v) is int for v in items), dtype=bool, count=n)
    if numeric.all():
        try:
            return np.fromiter(items, dtype=np.float64, count=n), numeric, []
        except OverflowError:  # an integer beyond float range: becomes ±inf below and is refused as infinite
            pass
    values = np.full(n, np.nan)
    idx = np.flatnonzero(numeric)
    values[idx] = [_to_float(items[int(i)]) for i in idx]
    errors: list = []
    missing = np.array([v is None for v in items], dtype=bool)
    if missing.any():
        errors.append((np.flatnonzero(missing), "value", lambda i: "value is required (null given)."))
    wrong = ~numeric & ~missing
    if wrong.any():
        errors.append(
            (np.flatnonzero(wrong), "value", lambda i: f"value must be a number, not {items[i]!r}.")
        )
    return values, numeric, errors


def parse_records(records: Any) -> RawBatch:
    """Parse JSON records ``[{"start": str, "value": number}, ...]`` (structure errors become row errors).

    Raises:
        BatchRefused: the body is not a list.
    """
    if not isinstance(records, list):
        raise batch_refused('expected a JSON array of {"start": ..., "value": ...} objects.')
    errors: list = []
    try:
        starts = [r["start"] for r in records]
        values = [r["value"] for r in records]
    except (KeyError, TypeError, IndexError):
        starts, values = [], []
        not_object, no_start, no_value = [], [], []
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                not_object.append(i)
                starts.append(None)
                values.append(None)
                continue
            if "start" not in r:
                no_start.append(i)
            if "value" not in r:
                no_value.append(i)
            starts.append(r.get("start", ""))
            values.append(r.get("value", 0.0))
        if not_object:
            errors.append(
                (np.array(not_object), None, lambda i: 'each row must be an object {"start", "value"}.')
            )
        if no_start:
            errors.append((np.array(no_start), "start", lambda i: "start is required."))
        if no_value:
            errors.append((np.array(no_value), "value", lambda i: "value is required."))
        bad = set(not_object) | set(no_start) | set(no_value)
        starts_us, start_ok, start_errors = _parse_start_strings(starts)
        vals, value_ok, value_errors = _parse_values(values)
        keep = np.ones(len(records), dtype=bool)
        keep[list(bad)] = False
        start_ok &= keep
        value_ok &= keep
        errors += [(rows[keep[rows]], f, r) for rows, f, r in start_errors + value_errors]
        return RawBatch(starts_us, vals, start_ok, value_ok, errors, lambda i: str(starts[i]))
    starts_us, start_ok, start_errors = _parse_start_strings(starts)
    vals, value_ok, value_errors = _parse_values(values)
    return RawBatch(
        starts_us, vals, start_ok, value_ok, start_errors + value_errors, lambda i: str(starts[i])
    )


def parse_csv(text: str) -> RawBatch:
    """Parse CSV text with a header containing ``start`` and ``value`` (other columns are ignored); blank lines
    are skipped and rows are numbered from 0 after the header.

    Raises:
        BatchRefused: not CSV, or the header lacks ``start`` or ``value``.
    """
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise batch_refused(f"the body is not CSV with a 'start,value' header: {exc}") from exc
    frame.columns = [str(c).lstrip("\ufeff").strip().lower() for c in frame.columns]  # BOM from spreadsheets
    missing = [c for c in ("start", "value") if c not in frame.columns]
    if missing:
        raise batch_refused(f"the CSV header must name the columns 'start' and 'value' (missing: {missing}).")
    starts = frame["start"].str.strip().tolist()
    raw_values = frame["value"].str.strip()
    starts_for_parse = [s if s else None for s in starts]
    starts_us, start_ok, errors = _parse_start_strings(starts_for_parse)
    values = pd.to_numeric(raw_values, errors="coerce").to_numpy(dtype=np.float64)
    nan_literal = raw_values.str.lower().isin(["nan", "+nan", "-nan"]).to_numpy()
    empty = (raw_values == "").to_numpy()
    not_number = np.isnan(values) & ~nan_literal & ~empty
    texts = raw_values.tolist()
    if empty.any():
        errors.append((np.flatnonzero(empty), "value", lambda i: "value is empty."))
    if not_number.any():
        errors.append((np.flatnonzero(not_number), "value", lambda i: f"value '{texts[i]}' is not a number."))
    value_ok = ~empty & ~not_number
    return RawBatch(starts_us, values, start_ok, value_ok, errors, lambda i: starts[i])


def from_arrays(starts: Any, values: Any) -> RawBatch:
    """A batch from arrays: ``starts`` timezone-aware datetimes (DatetimeIndex, Series or numpy datetime64
    meaning UTC) and ``values`` numbers. Naive pandas datetimes are refused as having no offset."""
    index = pd.DatetimeIndex(starts)
    if index.tz is None and not isinstance(starts, np.ndarray):
        n = len(index)
        return RawBatch(
            np.zeros(n, np.int64),
            np.asarray(values, dtype=np.float64),
            np.zeros(n, bool),
            np.ones(n, bool),
            [(np.arange(n), "start", lambda i: "timestamps have no time zone; localise them to UTC.")],
            lambda i: str(index[i]),
        )
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    starts_us = index.as_unit("us").asi8
    ok = starts_us != np.iinfo(np.int64).min
    vals = np.asarray(values, dtype=np.float64)
    errors: list[tuple[np.ndarray, str | None, Callable[[int], str]]] = []
    if not ok.all():
        errors.append((np.flatnonzero(~ok), "start", lambda i: "start is missing (NaT)."))
    return RawBatch(
        starts_us,
        vals,
        ok,
        np.ones(len(vals), bool),
        errors,
        lambda i: pd.Timestamp(starts_us[i], unit="us", tz="UTC").isoformat(),
    )
