"""The checks of a parsed batch against its series (:func:`validate_batch`), vectorised over whole numpy arrays;
the parsing and the types are in :mod:`apps.telemetry.validation`.

Checks: aligned to the series resolution (counted from 1970-01-01T00:00Z), not repeated inside the batch, a
finite value within the quantity's physical range (and the owner's limits, see
:class:`~apps.telemetry.validation.Bounds`). Only the reasons of the first
:data:`~apps.telemetry.validation.MAX_REPORTED_ERRORS` refused rows are formatted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from .durations import duration_iso
from .validation import MAX_REPORTED_ERRORS, BatchRefused, Bounds, CleanBatch, RawBatch, RowError

US_PER_S = 1_000_000
#: Refused rows of one check: their indices, the field (``None`` = the row) and how to word the reason of row i.
ErrorGroup = tuple[np.ndarray, str | None, Callable[[int], str]]


def _fmt_number(value: float) -> str:
    return f"{value:.6g}"


def _iso(us: int) -> str:
    return pd.Timestamp(int(us), unit="us", tz="UTC").isoformat().replace("+00:00", "Z")


def _misaligned(raw: RawBatch, resolution_s: int) -> tuple[np.ndarray, list[ErrorGroup]]:
    """Rows whose start is not a multiple of the resolution, as a mask and an error group."""
    misaligned = raw.start_ok & (raw.starts_us % (resolution_s * US_PER_S) != 0)
    if not misaligned.any():
        return misaligned, []
    label = duration_iso(resolution_s)
    return misaligned, [
        (
            np.flatnonzero(misaligned),
            "start",
            lambda i: (
                f"{raw.start_text(i)} is not aligned to the series resolution {label} (intervals start "
                f"at multiples of {label} from 00:00 UTC)."
            ),
        )
    ]


def _duplicates(starts: np.ndarray, candidates: np.ndarray) -> list[ErrorGroup]:
    """Rows among ``candidates`` whose start already appeared in an earlier row, naming that row."""
    candidate_rows = np.flatnonzero(candidates)
    dup_mask = pd.Series(starts[candidate_rows]).duplicated(keep="first").to_numpy()
    if not dup_mask.any():
        return []
    dup_rows = candidate_rows[dup_mask]
    dup_values = set(starts[dup_rows].tolist())
    first_row: dict[int, int] = {}
    for row in candidate_rows[~dup_mask]:
        value = int(starts[row])
        if value in dup_values:
            first_row[value] = int(row)
    return [
        (
            dup_rows,
            "start",
            lambda i: (
                f"duplicate start {_iso(starts[i])} in the batch (also in rows[{first_row[int(starts[i])]}])."
            ),
        )
    ]


def _value_errors(values: np.ndarray, value_ok: np.ndarray, bounds: Bounds) -> list[ErrorGroup]:
    """Rows whose value is NaN or infinite, below or above the bounds."""
    groups: list[ErrorGroup] = []
    finite = np.isfinite(values)
    nonfinite = value_ok & ~finite
    if nonfinite.any():
        groups.append(
            (
                np.flatnonzero(nonfinite),
                "value",
                lambda i: (
                    "value is NaN; send no row for a missing value."
                    if math.isnan(values[i])
                    else "value is infinite."
                ),
            )
        )
    checked = value_ok & finite
    with np.errstate(invalid="ignore"):
        below = checked & (values < bounds.lower)
        above = checked & (values > bounds.upper)
    unit = bounds.unit
    if below.any():
        groups.append(
            (
                np.flatnonzero(below),
                "value",
                lambda i: (
                    f"{_fmt_number(values[i])} {unit} is below {_fmt_number(bounds.lower)} {unit}: "
                    f"{bounds.lower_reason}."
                ),
            )
        )
    if above.any():
        groups.append(
            (
                np.flatnonzero(above),
                "value",
                lambda i: (
                    f"{_fmt_number(values[i])} {unit} is above {_fmt_number(bounds.upper)} {unit}: "
                    f"{bounds.upper_reason}."
                ),
            )
        )
    return groups


def validate_batch(raw: RawBatch, *, resolution_s: int, bounds: Bounds) -> CleanBatch:
    """Check a parsed batch against a series and return the clean arrays (sorted by start).

    Args:
        raw: the parsed batch (:func:`~apps.telemetry.validation.parse_records`,
            :func:`~apps.telemetry.validation.parse_csv` or :func:`~apps.telemetry.validation.from_arrays`).
        resolution_s: the series resolution in seconds; starts must be multiples of it since the epoch.
        bounds: inclusive physical range of the values.

    Raises:
        BatchRefused: any row is refused (all errors are counted, the first ones by row are listed).
    """
    starts, values = raw.starts_us, raw.values
    misaligned, alignment = _misaligned(raw, resolution_s)
    errors = [
        *raw.errors,
        *alignment,
        *_duplicates(starts, raw.start_ok & ~misaligned),
        *_value_errors(values, raw.value_ok, bounds),
    ]
    if errors:
        raise _refusal(errors)
    if raw.n > 1 and (np.diff(starts) < 0).any():
        order = np.argsort(starts, kind="stable")
        return CleanBatch(starts[order], values[order])
    return CleanBatch(starts, values)


def _refusal(groups: list[ErrorGroup]) -> BatchRefused:
    """Turn error groups into a :class:`BatchRefused` listing the first errors by row (stable in check order)."""
    rows = np.concatenate([np.asarray(g[0], dtype=np.int64) for g in groups])
    which = np.concatenate([np.full(len(g[0]), k, dtype=np.int64) for k, g in enumerate(groups)])
    total = len(rows)
    order = np.lexsort((which, rows))[:MAX_REPORTED_ERRORS]
    shown = [
        RowError(int(rows[j]), groups[which[j]][1], groups[which[j]][2](int(rows[j]))) for j in order.tolist()
    ]
    return BatchRefused(shown, total)
