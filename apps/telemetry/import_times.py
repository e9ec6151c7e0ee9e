"""Times of an imported CSV file (:mod:`apps.telemetry.importer`): parse a time column written with UTC offsets
or as local times of one IANA zone (DST fall-back hours inferred from order, or chosen), refuse what cannot be
placed, and infer the resolution of a new series from the times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .validation import MAX_REPORTED_ERRORS, has_utc_offset


class ImportRefused(Exception):
    """The file cannot be imported as asked; ``errors`` are human-readable lines (with CSV line numbers)."""

    def __init__(self, message: str, errors: Sequence[str] = (), total: int | None = None) -> None:
        self.errors = list(errors)
        self.total = len(self.errors) if total is None else total
        listed = "\n".join(f"  {e}" for e in self.errors[:MAX_REPORTED_ERRORS])
        more = (
            f"\n  … {self.total - len(self.errors[:MAX_REPORTED_ERRORS])} more"
            if self.total > MAX_REPORTED_ERRORS
            else ""
        )
        super().__init__(message + ("\n" + listed + more if listed else ""))


def parse_times(
    texts: pd.Series, *, tz: str | None, ambiguous: str = "infer", line_numbers: np.ndarray | None = None
) -> pd.DatetimeIndex:
    """Timestamp strings → UTC ``DatetimeIndex``.

    Strings with an offset are converted as they are; strings without one are local times in ``tz``.

    Raises:
        ImportRefused: unparsable times, naive times without ``tz``, a mix of both, times that do not exist
            in ``tz`` (spring forward) or a fall-back hour whose offset cannot be inferred from the order.
    """
    lines = line_numbers if line_numbers is not None else np.arange(len(texts)) + 2
    values = texts.astype(str).str.strip()
    empty = np.flatnonzero((values == "").to_numpy())
    if len(empty):
        raise ImportRefused(
            f"{len(empty)} row(s) have no time (drop them with --skip-rows-without-time if that is expected):",
            [f"line {lines[i]}: empty time cell." for i in empty[:MAX_REPORTED_ERRORS]],
            total=len(empty),
        )
    offset = np.fromiter((has_utc_offset(v) for v in values), dtype=bool, count=len(values))
    if offset.all():
        parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
        _refuse_unparsable(values, parsed, lines)
        return pd.DatetimeIndex(parsed)
    if offset.any():
        bad = np.flatnonzero(offset != offset[0])[:5]
        raise ImportRefused(
            "the time column mixes timestamps with and without UTC offset.",
            [f"line {lines[i]}: '{values.iloc[i]}'" for i in bad],
        )
    if not tz:
        raise ImportRefused(
            f"timestamps have no UTC offset (e.g. '{values.iloc[0]}'); pass the time zone they are in "
            "(--tz America/Los_Angeles, or --tz UTC)."
        )
    naive = pd.to_datetime(values, format="ISO8601", errors="coerce")
    _refuse_unparsable(values, naive, lines)
    index = pd.DatetimeIndex(naive)
    if ambiguous == "infer":
        amb: Any = "infer"
    elif ambiguous in ("dst", "standard"):
        amb = np.full(len(index), ambiguous == "dst")
    else:
        raise ImportRefused(f"ambiguous must be infer, dst or standard, not '{ambiguous}'.")
    probe = index.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    nonexistent_rows = [i for i in np.flatnonzero(probe.isna()) if _nonexistent(index[i], tz)]
    if nonexistent_rows:
        raise ImportRefused(
            f"{len(nonexistent_rows)} local time(s) do not exist in {tz} (the clocks jump forward on that day); "
            "fix or drop these rows:",
            [
                f"line {lines[i]}: {index[i]:%Y-%m-%d %H:%M} does not exist in {tz} (spring-forward gap)."
                for i in nonexistent_rows
            ],
        )
    try:
        local = index.tz_localize(tz, ambiguous=amb, nonexistent="raise")
    except Exception as exc:  # pytz/pandas AmbiguousTimeError; its class moved between pandas versions
        if "ambiguous" not in type(exc).__name__.lower() and "infer" not in str(exc).lower():
            raise
        rows = np.flatnonzero(probe.isna())[:MAX_REPORTED_ERRORS]
        raise ImportRefused(
            f"the fall-back hour in {tz} cannot be resolved from the order of the rows ({exc}); sort the file by "
            "time with the repeated hour given twice, or pass --ambiguous dst|standard.",
            [f"line {lines[i]}: {index[i]:%Y-%m-%d %H:%M} is ambiguous in {tz}." for i in rows],
        ) from exc
    return local.tz_convert("UTC")


def _nonexistent(moment: pd.Timestamp, tz: str) -> bool:
    try:
        pd.DatetimeIndex([moment]).tz_localize(tz, ambiguous="NaT", nonexistent="raise")
    except Exception:
        return True
    return False


def _refuse_unparsable(values: pd.Series, parsed: Any, lines: np.ndarray) -> None:
    bad = np.flatnonzero(pd.isna(np.asarray(parsed)))
    if len(bad):
        raise ImportRefused(
            f"{len(bad)} timestamp(s) are not ISO 8601:",
            [f"line {lines[i]}: '{values.iloc[i]}'" for i in bad[:MAX_REPORTED_ERRORS]],
            total=len(bad),
        )


def infer_resolution_s(times: pd.DatetimeIndex) -> int:
    """The most common step between consecutive distinct times, in seconds.

    Raises:
        ImportRefused: fewer than two distinct times.
    """
    steps = np.diff(np.unique(times.as_unit("s").asi8))
    if len(steps) == 0:
        raise ImportRefused("cannot infer the resolution from fewer than two times; pass --resolution.")
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])
