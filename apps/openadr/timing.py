"""OpenADR 3 time values: RFC 3339 date-times, ISO 8601 durations and the resolution of interval windows.

Rules (User Guide §7.3 "Event and Interval Timing", §7.4 "Variable duration intervals"):

- ``intervalPeriod.start`` of ``0001-01-01`` or ``0001-01-01T00:00:00`` means "now" (a 'do it now' event);
  it is represented here by :data:`NOW`.
- A duration of ``P9999Y`` means infinity (:attr:`Duration.is_infinite`).
- An interval without its own ``intervalPeriod`` (or without one of its fields) takes the default of the
  enclosing object (``event.intervalPeriod``, ``report.resources[i].intervalPeriod``); an interval without its
  own start begins when the previous interval ends (the first one at the default start).
- A payload with *n* values over an interval of duration *d* describes *n* consecutive sub-intervals of
  *d / n* each ("multi-valued payloads").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

#: The pattern of ``components.schemas.duration`` in openadr3.yaml (ISO 8601 durations).
DURATION_RE: Final = re.compile(
    r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
#: From this many years on, a duration means "infinity" (User Guide §7.3: ``P9999Y``).
INFINITE_YEARS: Final = 9999


class _Now:
    """The 'now' start (``0001-01-01``): resolved by the client when it reads the event."""

    def __repr__(self) -> str:
        return "NOW"


NOW: Final = _Now()


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration: calendar part (``months``, years folded in) and exact part (``seconds``)."""

    months: int
    seconds: float
    negative: bool = False

    @property
    def is_infinite(self) -> bool:
        return self.months >= INFINITE_YEARS * 12

    @property
    def is_exact(self) -> bool:
        """No month/year part: the duration has a fixed length in seconds."""
        return self.months == 0

    def after(self, start: datetime) -> datetime | None:
        """``start + self`` (calendar-aware for months and years); ``None`` for an infinite duration."""
        if self.is_infinite:
            return None
        sign = -1 if self.negative else 1
        moved = _add_months(start, sign * self.months) if self.months else start
        return moved + sign * timedelta(seconds=self.seconds)

    def as_timedelta(self) -> timedelta:
        """The exact length. Raises ValueError for a duration with months or years (no fixed length)."""
        if not self.is_exact:
            raise ValueError("a duration in months or years has no fixed length.")
        return (-1 if self.negative else 1) * timedelta(seconds=self.seconds)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration (``PT15M``, ``P1D``, ``P1W``, ``P9999Y``, ``PT0.5S``).

    Raises:
        ValueError: ``text`` does not match the spec's duration pattern.
    """
    match = DURATION_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"'{text}' is not an ISO 8601 duration (e.g. PT15M, PT1H, P1D).")
    sign, years, months, days, unit, hours, minutes, seconds = match.groups()
    day_count = int(days or 0) * (7 if unit == "W" else 1)
    exact = day_count * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return Duration(months=int(years or 0) * 12 + int(months or 0), seconds=exact, negative=sign == "-")


def duration_iso(delta: timedelta) -> str:
    """ISO 8601 form of a positive ``timedelta``: 900 s → ``PT15M``, 1 day → ``P1D``, 90 s → ``PT1M30S``."""
    total = delta.total_seconds()
    if total <= 0:
        raise ValueError("a duration must be positive.")
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock_part = "".join(
        f"{value:g}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value
    )
    return "P" + (f"{int(days)}D" if days else "") + (f"T{clock_part}" if clock_part else "")


def parse_datetime(text: str) -> datetime | _Now:
    """Parse an RFC 3339 date-time (with a UTC offset) to an aware UTC datetime, or the 'now' sentinel.

    ``0001-01-01`` and ``0001-01-01T00:00:00`` (with or without offset) mean "now" (User Guide §7.3).

    Raises:
        ValueError: not a date-time, or a date-time without UTC offset (RFC 3339 §5.6 requires one).
    """
    if not isinstance(text, str) or not text:
        raise ValueError("a date-time must be a non-empty string.")
    if text.startswith("0001-01-01"):
        return NOW
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not an RFC 3339 date-time (e.g. 2023-06-15T09:30:00Z).") from exc
    if "T" not in text.upper() and " " not in text:
        raise ValueError(f"'{text}' is a date; a date-time with time and UTC offset is required.")
    if parsed.tzinfo is None:
        raise ValueError(f"'{text}' has no UTC offset (RFC 3339 requires one, e.g. 'Z' or '+01:00').")
    return parsed.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, milliseconds when not whole seconds."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Window:
    """The resolved temporal window of one interval: ``start`` (aware UTC, :data:`NOW` or ``None`` when
    unknown) and ``duration`` (``None`` when unknown); ``interval_id`` is the interval's ``id``."""

    interval_id: Any
    start: datetime | _Now | None
    duration: Duration | None

    @property
    def end(self) -> datetime | None:
        """End of the window, ``None`` when unknown, open (infinite) or relative to 'now'."""
        if not isinstance(self.start, datetime) or self.duration is None:
            return None
        return self.duration.after(self.start)


def _period_fields(period: dict[str, Any] | None) -> tuple[datetime | _Now | None, Duration | None]:
    period = period or {}
    start = parse_datetime(period["start"]) if period.get("start") else None
    duration = parse_duration(period["duration"]) if period.get("duration") else None
    return start, duration


def resolve_windows(
    default_period: dict[str, Any] | None,
    intervals: list[dict[str, Any]],
    *,
    fallback: dict[Any, Window] | None = None,
) -> list[Window]:
    """Windows of ``intervals`` under the inheritance rules of the module docstring.

    ``fallback`` maps interval ids to windows used for fields still unknown after inheritance (a report's
    intervals that answer an event's intervals by id, User Guide §7.5 "interval id").
    """
    default_start, default_duration = _period_fields(default_period)
    next_start: datetime | _Now | None = default_start
    windows: list[Window] = []
    for interval in intervals:
        own_start, own_duration = _period_fields(interval.get("intervalPeriod"))
        duration = own_duration or default_duration
        if own_start is NOW:
            # 'now' on the first interval is the event's start when it has one; later ones follow on
            start = next_start if windows else (default_start if default_start is not None else NOW)
        else:
            start = own_start if own_start is not None else next_start
        known = (fallback or {}).get(interval.get("id"))
        if known is not None:
            start = start if start is not None else known.start
            duration = duration or known.duration
        window = Window(interval.get("id"), start, duration)
        windows.append(window)
        next_start = window.end if isinstance(start, datetime) else (NOW if start is NOW else None)
    return windows


def lifespan_end(
    default_period: dict[str, Any] | None, intervals: list[dict[str, Any]] | None, event_duration: str | None
) -> datetime | None:
    """When an event has transpired (User Guide §7.3 "lifespan"): the latest interval end, or the first start
    plus ``event.duration`` when given. ``None`` means open-ended, 'now'-relative or unknown (still active)."""
    windows = resolve_windows(default_period, intervals or [])
    if not windows:
        start, duration = _period_fields(default_period)
        windows = [Window(None, start, duration)]
    if event_duration:
        first = windows[0].start
        return parse_duration(event_duration).after(first) if isinstance(first, datetime) else None
    ends = [w.end for w in windows]
    if any(end is None for end in ends):
        return None
    return max(ends)  # type: ignore[type-var]
