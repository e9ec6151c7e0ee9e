"""From a VEN's report to metered site power: USAGE/DEMAND readings → ``site_power_kw`` data points.

Which readings count (openadr3 enumerations, Definition.md §"Report Enumerations"):

- ``DEMAND``: real power over the interval, in the descriptor's ``units`` (``KW``; default ``KW``);
- ``USAGE``: energy over the interval, ``KWH`` (default ``KWH``), converted to mean power
  ``kW = kWh / interval hours``;
- only measurements: ``readingType`` absent, ``DIRECT_READ``, ``MEAN``, ``AVERAGE``, ``ESTIMATED`` or
  ``SUMMED``. Forecasts, peaks, states and private payload types stay in the report but are not telemetry.

A payload's descriptor is the report's ``payloadDescriptors`` entry of its type, else the event's
``reportDescriptors`` entry, else the program's ``REPORT_PAYLOAD_DESCRIPTOR``. When a resource gives both for an
interval, DEMAND wins over USAGE.

Timing: each report interval's window is resolved like an event's (:func:`apps.openadr.timing.resolve_windows`:
own ``intervalPeriod``, else the resource's, else following the previous interval), and a field still unknown is
taken from the event interval with the same ``id`` (User Guide §7.5 "interval id"). *n* values in a payload are
*n* sub-intervals (User Guide §7.3). Readings are then laid on the site series' grid (its resolution, counted
from 1970-01-01T00:00Z): an interval spanning several grid steps gives each the same mean power; shorter
intervals must together cover a grid step exactly, and give its duration-weighted mean.

Site power is one number per grid step: with a resource named ``AGGREGATED_REPORT`` only that resource counts;
otherwise the readings of the resources (the site's meters at its grid connection) are added, and must cover the
same grid steps.

Everything is checked before anything is written; a refusal names the path into the report body.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError

from .models import Event
from .timing import NOW, Window, resolve_windows

DEMAND = "DEMAND"
USAGE = "USAGE"
AGGREGATED_REPORT = "AGGREGATED_REPORT"
MEASURED_READING_TYPES = frozenset({None, "DIRECT_READ", "MEAN", "AVERAGE", "ESTIMATED", "SUMMED"})
_UNITS = {DEMAND: "KW", USAGE: "KWH"}


@dataclass(frozen=True)
class Piece:
    """One reading: ``start`` (epoch seconds, UTC), ``seconds`` long, mean power ``kw``; ``path`` into the body."""

    start: int
    seconds: int
    kw: float
    path: str


def _descriptor(payload_type: str, report: dict[str, Any], event: Event | None) -> dict[str, Any]:
    candidates: list[dict[str, Any]] = []
    candidates += report.get("payloadDescriptors") or []
    if event is not None:
        candidates += event.report_descriptors or []
        candidates += [
            d
            for d in event.program.payload_descriptors or []
            if d.get("objectType") == "REPORT_PAYLOAD_DESCRIPTOR"
        ]
    return next((d for d in candidates if d.get("payloadType") == payload_type), {})


def event_windows(event: Event | None) -> dict[Any, Window]:
    """Resolved windows of an event's intervals by interval id (for reports answering them)."""
    if event is None or not event.intervals:
        return {}
    windows = resolve_windows(event.interval_period, event.intervals)
    return {w.interval_id: w for w in windows}


def report_pieces(report: dict[str, Any], event: Event | None) -> dict[int, dict[str, list[Piece]]]:
    """The power readings of a validated report body, by resource index and payload type (DEMAND/USAGE).

    Raises:
        ValidationError: a reading's time cannot be determined, lies at 'now', lasts an infinite, calendar or
            fractional-second duration, or comes in units other than KW (DEMAND) / KWH (USAGE).
    """
    known = event_windows(event)
    errors: dict[str, list[str]] = {}
    found: dict[int, dict[str, list[Piece]]] = {}
    for r, resource in enumerate(report["resources"]):
        intervals = resource["intervals"]
        try:
            windows = resolve_windows(resource.get("intervalPeriod"), intervals, fallback=known)
        except ValueError as exc:  # already schema-checked; defensive
            errors.setdefault(f"resources[{r}]", []).append(str(exc))
            continue
        for i, (interval, window) in enumerate(zip(intervals, windows, strict=True)):
            for j, payload in enumerate(interval["payloads"]):
                kind = payload["type"]
                if kind not in _UNITS:
                    continue
                descriptor = _descriptor(kind, report, event)
                if descriptor.get("readingType") not in MEASURED_READING_TYPES:
                    continue
                path = f"resources[{r}].intervals[{i}]"
                units = (descriptor.get("units") or _UNITS[kind]).upper()
                if units != _UNITS[kind]:
                    errors.setdefault(f"{path}.payloads[{j}]", []).append(
                        f"{kind} in '{units}' is not supported; use {_UNITS[kind]}."
                    )
                    continue
                reason = _window_problem(window)
                if reason:
                    errors.setdefault(f"{path}.intervalPeriod", []).append(reason)
                    continue
                assert isinstance(window.start, datetime) and window.duration is not None
                values = payload["values"]
                total = window.duration.as_timedelta().total_seconds()
                sub = total / len(values)
                if sub != int(sub) or sub < 1:
                    errors.setdefault(f"{path}.intervalPeriod.duration", []).append(
                        f"each of the {len(values)} value(s) must cover a whole number of seconds."
                    )
                    continue
                start = int(window.start.timestamp())
                for k, value in enumerate(values):
                    kw = float(value) if kind == DEMAND else float(value) * 3600.0 / sub
                    piece = Piece(start + int(k * sub), int(sub), kw, f"{path}.payloads[{j}].values[{k}]")
                    found.setdefault(r, {}).setdefault(kind, []).append(piece)
    if errors:
        raise ValidationError(errors)
    return found


def _window_problem(window: Window) -> str:
    if window.start is None or window.duration is None:
        return (
            "the time of this reading cannot be determined: give intervalPeriod start and duration here, on "
            "the resource, or in the event's interval with the same id."
        )
    if window.start is NOW:
        return "a reading cannot start at 'now' (0001-01-01); give its absolute start."
    if window.duration.negative or window.duration.is_infinite or not window.duration.is_exact:
        return "a reading needs a positive duration without years or months."
    if window.duration.seconds <= 0:
        return "a reading needs a positive duration."
    return ""


def smallest_step(pieces: dict[int, dict[str, list[Piece]]]) -> int:
    """The shortest reading in seconds (the resolution of a new series)."""
    return min(p.seconds for kinds in pieces.values() for ps in kinds.values() for p in ps)


def _on_grid(pieces: list[Piece], step: int) -> dict[int, float]:
    """Mean power per grid step ``[b, b + step)`` (epoch seconds) from readings of one resource and type."""
    full: dict[int, float] = {}
    partial: dict[int, list[Piece]] = defaultdict(list)
    errors: dict[str, list[str]] = {}
    for piece in pieces:
        end = piece.start + piece.seconds
        if piece.start % step == 0 and piece.seconds % step == 0:
            for b in range(piece.start, end, step):
                if b in full or b in partial:
                    errors.setdefault(piece.path, []).append(f"overlaps another reading at {_iso(b)}.")
                    break
                full[b] = piece.kw
            continue
        b = piece.start - piece.start % step
        if end > b + step:
            errors.setdefault(piece.path, []).append(
                f"[{_iso(piece.start)}, {_iso(end)}) is not aligned to the site series' {step} s grid."
            )
        elif b in full:
            errors.setdefault(piece.path, []).append(f"overlaps another reading at {_iso(b)}.")
        else:
            partial[b].append(piece)
    for b, spans in partial.items():
        spans.sort(key=lambda p: p.start)
        cursor, energy = b, 0.0
        for piece in spans:
            if piece.start != cursor:
                problem = "overlaps another reading" if piece.start < cursor else "leaves a gap before it"
                errors.setdefault(piece.path, []).append(f"{problem} in [{_iso(b)}, {_iso(b + step)}).")
                break
            cursor = piece.start + piece.seconds
            energy += piece.kw * piece.seconds
        else:
            if cursor != b + step:
                errors.setdefault(spans[-1].path, []).append(
                    f"the readings cover only part of [{_iso(b)}, {_iso(b + step)}) of the site series."
                )
            else:
                full[b] = energy / step
    if errors:
        raise ValidationError(errors)
    return full


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def site_power(report: dict[str, Any], pieces: dict[int, dict[str, list[Piece]]], step: int) -> pd.Series:
    """Site power (kW, + = import) per grid step of ``step`` seconds, indexed by aware UTC starts.

    Raises:
        ValidationError: overlapping readings, readings that do not fill a grid step, or resources covering
            different grid steps.
    """
    names = {r: report["resources"][r]["resourceName"] for r in pieces}
    chosen = [r for r in pieces if names[r] == AGGREGATED_REPORT] or sorted(pieces)
    per_resource: dict[int, dict[int, float]] = {}
    for r in chosen:
        grid = _on_grid(pieces[r].get(DEMAND, []), step)
        for b, kw in _on_grid(pieces[r].get(USAGE, []), step).items():
            grid.setdefault(b, kw)
        per_resource[r] = grid
    first = chosen[0]
    for r in chosen[1:]:
        if set(per_resource[r]) != set(per_resource[first]):
            raise ValidationError(
                {
                    f"resources[{r}]": [
                        f"covers other intervals than resources[{first}]; site power is their sum, so every "
                        "resource must report the same intervals (or report once as AGGREGATED_REPORT)."
                    ]
                }
            )
    starts = sorted(per_resource[first])
    values = [sum(per_resource[r][b] for r in chosen) for b in starts]
    index = pd.DatetimeIndex(pd.to_datetime(starts, unit="s", utc=True))
    return pd.Series(values, index=index, dtype="float64")
