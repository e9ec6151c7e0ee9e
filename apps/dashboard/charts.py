"""Chart specifications for ``static/dashboard/charts.js``, built and resampled on the server.

A view builds a small JSON-able spec with one of the builders below and puts it in the page with Django's
``json_script``; the browser helper turns it into an Apache ECharts option. Time series are resampled here,
never in the browser: a year of 15-minute data (35 040 points per series) becomes at most ``max_points``
buckets (mean with the bucket's min–max as a band), so pages stay small and fast whatever the period.

Spec shapes (all numbers plain floats, missing values ``null``):

- ``{"kind": "bar", "unit", "categories": [str], "series": [{"name", "values": [float]}], "horizontal",
  "stacked", "colors"?: [css colour per category]}``
- ``{"kind": "donut", "unit", "slices": [{"name", "value"}]}``
- ``{"kind": "timeseries", "unit", "step_s", "t": [epoch ms], "series": [{"name", "values", "lower"?,
  "upper"?, "style"?}]}`` where ``lower``/``upper`` draw a band (min–max of a bucket, or forecast p10–p90)
  and ``style`` is ``"line"`` (default), ``"step"`` (setpoints) or ``"dashed"`` (forecast); with ``"unit2"`` set,
  series with ``"axis": 1`` are drawn against a second value axis on the right in that unit; ``"markArea"``:
  ``[[start ms, end ms, label]]`` shades periods (e.g. events); ``"range"``: ``[start ms, end ms]`` of the time
  axis.

An ``"empty"`` key with a sentence replaces the chart with that sentence (no data is not a zero).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Bucket widths the resampler may choose, in seconds (15 min … 1 week), aligned to UTC. Half days are left out
#: on purpose: 12-hour buckets of a daily load cycle alternate day/night means and draw a zigzag, so a year of
#: data goes to daily buckets (365 points: the daily mean with its min–max band).
BUCKET_WIDTHS_S = (900, 1800, 3600, 7200, 10800, 21600, 86400, 172800, 604800)
DEFAULT_MAX_POINTS = 1000


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not np.isfinite(value):
        return None
    return round(value, digits)


def bar_chart(
    *,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    unit: str,
    horizontal: bool = False,
    stacked: bool = False,
    colors: Sequence[str] | None = None,
    empty: str = "",
) -> dict:
    """Bars per category, one bar group per entry of ``series`` (name → one value per category), or one bar
    per category with the series stacked on each other (``stacked``); ``colors`` colours each category's bar
    (for a single series)."""
    spec: dict = {
        "kind": "bar",
        "unit": unit,
        "horizontal": horizontal,
        "stacked": stacked,
        "categories": list(categories),
        "series": [{"name": name, "values": [_num(v) for v in values]} for name, values in series.items()],
    }
    if colors is not None:
        spec["colors"] = list(colors)
    if empty and not any(v for values in series.values() for v in values):
        spec["empty"] = empty
    return spec


def donut_chart(*, slices: Mapping[str, float], unit: str, empty: str = "") -> dict:
    """Shares of a whole (name → value); zero slices are dropped."""
    spec: dict = {
        "kind": "donut",
        "unit": unit,
        "slices": [{"name": name, "value": _num(v)} for name, v in slices.items() if v],
    }
    if empty and not spec["slices"]:
        spec["empty"] = empty
    return spec


@dataclass(frozen=True)
class Resampled:
    """One series on a regular bucket grid: bucket starts (epoch ms, UTC) and mean, min and max per bucket.

    Buckets are half-open ``[start, start + step_s)``; a bucket without data is NaN, so gaps stay gaps.
    """

    t_ms: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    step_s: int


def bucket_width_s(*, span_s: float, native_step_s: int, max_points: int = DEFAULT_MAX_POINTS) -> int:
    """The smallest width of :data:`BUCKET_WIDTHS_S` (and not finer than the data) giving ≤ ``max_points``
    buckets over ``span_s`` seconds; the widest one if none does."""
    for width in BUCKET_WIDTHS_S:
        if width >= native_step_s and span_s / width <= max_points:
            return width
    return BUCKET_WIDTHS_S[-1]


def _native_step_s(seconds: np.ndarray) -> int:
    """Median spacing of sorted epoch seconds (the data's resolution), 15 min for a single point."""
    return int(np.median(np.diff(seconds))) if len(seconds) > 1 else BUCKET_WIDTHS_S[0]


def resample(
    series: pd.Series, *, max_points: int = DEFAULT_MAX_POINTS, step_s: int | None = None
) -> Resampled:
    """Resample a time series (tz-aware ``DatetimeIndex``, values in the series' unit) for display.

    Args:
        series: values indexed by interval start; NaNs are missing data.
        max_points: upper bound on the number of buckets returned.
        step_s: force a bucket width (seconds); by default the smallest of :data:`BUCKET_WIDTHS_S` that is
            no finer than the data's median spacing and keeps the count within ``max_points``.

    Returns:
        :class:`Resampled`, buckets aligned to the Unix epoch (UTC), so neighbouring pages line up.

    Raises:
        ValueError: the index is not a timezone-aware ``DatetimeIndex``.
    """
    index = series.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("resample needs a timezone-aware DatetimeIndex (UTC inside, DESIGN.md).")
    if series.empty:
        empty = np.array([], dtype=float)
        return Resampled(np.array([], dtype=np.int64), empty, empty, empty, step_s or BUCKET_WIDTHS_S[0])
    series = series.sort_index()
    seconds = series.index.as_unit("s").asi8
    if step_s is None:
        native = _native_step_s(seconds)
        span = float(seconds[-1] - seconds[0]) + native
        step_s = bucket_width_s(span_s=span, native_step_s=native, max_points=max_points)
    keys = seconds // step_s
    first, last = int(keys[0]), int(keys[-1])
    n = last - first + 1
    values = series.to_numpy(dtype=float)
    ok = np.isfinite(values)
    slot = (keys - first)[ok]
    v = values[ok]
    count = np.bincount(slot, minlength=n)
    total = np.bincount(slot, weights=v, minlength=n)
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    np.minimum.at(low, slot, v)
    np.maximum.at(high, slot, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    low = np.where(count > 0, low, np.nan)
    high = np.where(count > 0, high, np.nan)
    t_ms = (np.arange(first, last + 1, dtype=np.int64) * step_s) * 1000
    return Resampled(t_ms=t_ms, mean=mean, low=low, high=high, step_s=step_s)


@dataclass(frozen=True)
class Line:
    """A series for :func:`timeseries_chart`. ``lower``/``upper`` (same index) draw a band around it, e.g.
    forecast p10–p90; without them, the resampled bucket min–max is drawn when ``envelope`` is set."""

    name: str
    values: pd.Series
    lower: pd.Series | None = None
    upper: pd.Series | None = None
    style: str = "line"
    envelope: bool = False
    axis: int = 0


def timeseries_chart(
    *,
    lines: Sequence[Line],
    unit: str,
    unit2: str | None = None,
    marks: Sequence[tuple[pd.Timestamp, pd.Timestamp, str]] = (),
    x_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    empty: str = "",
) -> dict:
    """Lines (and bands) over time on one shared bucket grid, resampled server-side to ≤ ``max_points``.

    All lines share one bucket width (chosen from the whole span and the densest line's resolution), so they
    align point for point. Lines with ``axis=1`` use the right-hand axis in ``unit2`` (e.g. a battery's kW
    setpoint next to its kWh state of charge). ``marks`` shades periods ``(start, end, label)`` such as events;
    ``x_range`` fixes the time axis (so the charts of one page line up whatever data each has) and the bucket
    width is chosen for its whole span.
    Lines without data are left out; none with data gives an ``empty`` spec.
    """
    present = [line for line in lines if not line.values.dropna().empty]
    if not present:
        return {"kind": "timeseries", "unit": unit, "t": [], "series": [], "empty": empty or "No data."}
    longest = max(present, key=lambda line: len(line.values))
    native = _native_step_s(longest.values.sort_index().index.as_unit("s").asi8)
    start = min(line.values.index.min() for line in present)
    end = max(line.values.index.max() for line in present)
    span = (end - start).total_seconds() + native
    if x_range is not None:
        span = max(span, (pd.Timestamp(x_range[1]) - pd.Timestamp(x_range[0])).total_seconds())
    step_s = bucket_width_s(span_s=span, native_step_s=native, max_points=max_points)
    sampled = [resample(line.values, step_s=step_s) for line in present]
    start_ms = min(int(r.t_ms[0]) for r in sampled)
    end_ms = max(int(r.t_ms[-1]) for r in sampled)
    t_ms = np.arange(start_ms, end_ms + 1, step_s * 1000, dtype=np.int64)

    def on_grid(r: Resampled, field: str) -> list[float | None]:
        out = np.full(len(t_ms), np.nan)
        pos = (r.t_ms - start_ms) // (step_s * 1000)
        out[pos] = getattr(r, field)
        return [_num(x) for x in out]

    series = []
    for line, r in zip(present, sampled, strict=True):
        item: dict = {"name": line.name, "values": on_grid(r, "mean"), "style": line.style}
        if line.axis and unit2:
            item["axis"] = 1
        if line.lower is not None and line.upper is not None:
            item["lower"] = on_grid(resample(line.lower, step_s=step_s), "mean")
            item["upper"] = on_grid(resample(line.upper, step_s=step_s), "mean")
        elif line.envelope:
            item["lower"] = on_grid(r, "low")
            item["upper"] = on_grid(r, "high")
        series.append(item)
    spec = {"kind": "timeseries", "unit": unit, "step_s": step_s, "t": t_ms.tolist(), "series": series}
    if unit2 and any(line.axis for line in present):
        spec["unit2"] = unit2
    if x_range is not None:
        spec["range"] = [int(pd.Timestamp(x).value // 1_000_000) for x in x_range]
    if marks:
        spec["markArea"] = [
            [int(pd.Timestamp(a).value // 1_000_000), int(pd.Timestamp(b).value // 1_000_000), label]
            for a, b, label in marks
        ]
    return spec
