"""Input validation and time helpers shared by every forecaster.

Conventions (DESIGN.md): a series is a ``pd.Series`` of floats on a tz-aware UTC ``DatetimeIndex`` at a fixed
frequency; each label is the start of a half-open interval ``[start, start + freq)``. Missing values are NaN on
the grid, never missing rows.
"""

from __future__ import annotations

import re
from datetime import time

import numpy as np
import pandas as pd

_ISO_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(value: str | pd.Timedelta) -> pd.Timedelta:
    """Parse an ISO 8601 duration such as ``PT15M``, ``PT1H``, ``PT24H`` or ``P1D`` into a ``pd.Timedelta``.

    Only day, hour, minute and second designators are accepted (years/months have no fixed length).

    Raises:
        ValueError: the text is not such a duration, or it is zero.
    """
    if isinstance(value, pd.Timedelta):
        delta = value
    else:
        match = _ISO_DURATION.match(str(value).strip().upper())
        if match is None or not any(match.groupdict().values()):
            raise ValueError(f"duration {value!r} is not an ISO 8601 duration like 'PT1H', 'PT15M' or 'P1D'")
        parts = {k: int(v) for k, v in match.groupdict().items() if v}
        delta = pd.Timedelta(**parts)
    if delta <= pd.Timedelta(0):
        raise ValueError(f"duration {value!r} must be positive")
    return delta


def parse_clock(value: str | time) -> time:
    """Parse a local wall-clock time ``HH:MM`` (e.g. the issue time ``10:00``).

    Raises:
        ValueError: the text is not ``HH:MM`` with 0 <= HH < 24 and 0 <= MM < 60.
    """
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"issue time {value!r} must be a local clock time 'HH:MM', e.g. '10:00'")
    return time(int(match.group(1)), int(match.group(2)))


def check_utc_index(index: pd.Index, *, name: str = "series") -> pd.DatetimeIndex:
    """Check that ``index`` is a sorted, unique, tz-aware ``DatetimeIndex`` and return it converted to UTC.

    Raises:
        ValueError: not a DatetimeIndex, naive timestamps, duplicates or unsorted labels.
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"{name} must have a DatetimeIndex, got {type(index).__name__}")
    if index.tz is None:
        raise ValueError(
            f"{name} has naive timestamps; timestamps must be timezone-aware (UTC), e.g. '2023-01-01T00:00:00Z'"
        )
    if index.has_duplicates:
        raise ValueError(f"{name} has duplicate timestamps, e.g. {index[index.duplicated()][0]}")
    if not index.is_monotonic_increasing:
        raise ValueError(f"{name} timestamps are not sorted in increasing order")
    return index.tz_convert("UTC").as_unit("ns")


def infer_freq(index: pd.DatetimeIndex, *, name: str = "series") -> pd.Timedelta:
    """Return the fixed step of a regular index.

    Raises:
        ValueError: fewer than two points, or the steps are not all equal (irregular frequency).
    """
    if len(index) < 2:
        raise ValueError(f"{name} needs at least two timestamps to have a frequency")
    steps = np.diff(index.as_unit("ns").asi8)
    if not np.all(steps == steps[0]):
        values, counts = np.unique(steps, return_counts=True)
        seen = ", ".join(str(pd.Timedelta(int(v), unit="ns")) for v in values[np.argsort(-counts)][:3])
        raise ValueError(
            f"{name} has an irregular frequency (steps seen: {seen}); resample it to a fixed step and "
            "leave missing values as NaN"
        )
    return pd.Timedelta(int(steps[0]), unit="ns")


def check_series(series: pd.Series, *, name: str = "series", freq: pd.Timedelta | None = None) -> pd.Series:
    """Validate a value series and return a float copy on a UTC index.

    Args:
        series: values on a tz-aware DatetimeIndex at a fixed step; NaN marks missing values.
        name: used in error messages.
        freq: the expected step; inferred when None.

    Raises:
        ValueError: naive or unsorted timestamps, irregular frequency, a step that does not divide one day, or a
            step different from ``freq``.
    """
    if not isinstance(series, pd.Series):
        raise ValueError(f"{name} must be a pandas Series, got {type(series).__name__}")
    index = check_utc_index(series.index, name=name)
    step = infer_freq(index, name=name)
    if freq is not None and step != freq:
        raise ValueError(f"{name} has step {step}, expected {freq}")
    if pd.Timedelta(days=1) % step != pd.Timedelta(0):
        raise ValueError(f"{name} step {step} must divide one day (e.g. PT5M, PT15M, PT1H)")
    out = pd.Series(
        pd.to_numeric(series, errors="coerce").to_numpy(dtype=float), index=index, name=series.name
    )
    out.index.freq = step
    return out


def check_frame(frame: pd.DataFrame, *, name: str = "weather") -> pd.DataFrame:
    """Validate a weather-style frame: tz-aware sorted unique index, numeric columns; return a UTC float copy.

    The frame may have a different (even irregular) step from the load series; it is interpolated onto the
    forecast grid by :func:`align_to_index`.

    Raises:
        ValueError: naive/unsorted/duplicate timestamps or no numeric column.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    index = check_utc_index(frame.index, name=name)
    if all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        numeric = frame.astype(float)
    else:
        numeric = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    numeric = numeric.loc[:, numeric.notna().any()]
    if numeric.shape[1] == 0:
        raise ValueError(f"{name} has no numeric column")
    numeric.index = index
    return numeric


def align_to_index(frame: pd.DataFrame, index: pd.DatetimeIndex, *, max_gap: pd.Timedelta) -> pd.DataFrame:
    """Put ``frame`` onto ``index`` by time interpolation between neighbouring samples.

    Values further than ``max_gap`` from any sample stay NaN (no extrapolation across long gaps).
    Shape: (len(index), frame.shape[1]).
    """
    union = frame.index.union(index)
    filled = frame.reindex(union).interpolate(method="time", limit_area="inside")
    nearest = pd.Series(frame.index, index=frame.index).reindex(union, method="nearest")
    too_far = (union.to_series() - nearest).abs() > max_gap
    filled[too_far.to_numpy()] = np.nan
    return filled.reindex(index)


def local_midnight(ts: pd.Timestamp, tz: str) -> pd.Timestamp:
    """The local midnight (in ``tz``) that starts the local day containing ``ts``, returned in UTC."""
    local = ts.tz_convert(tz)
    return (
        pd.Timestamp(local.date())
        .tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        .tz_convert("UTC")
    )
