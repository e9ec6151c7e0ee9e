"""Time-series charts of one site: IT load, grid power, PV and battery, actuals against forecasts (p50 with the
p10–p90 band) with the dispatch setpoints overlaid, over a chosen period and resampled on the server.

Reads only through selectors: the site's series from :func:`apps.telemetry.selectors.timeseries_list` (scoped
to the caller), their points from :func:`~apps.telemetry.selectors.datapoints_series`, forecasts from
:func:`apps.forecasts.selectors.forecast_known_at` and setpoints from
:func:`apps.dispatch.selectors.setpoint_frame`. The ``site`` must already be looked up in the caller's scope.
Over long periods (many intervals per chart bucket, :data:`AGGREGATE_IN_DATABASE`) the bucketed
variants of those selectors are used instead (``datapoints_bucketed``, ``forecast_bands_bucketed``,
``setpoint_frame_bucketed``): PostgreSQL averages each series into the chart's buckets (``date_bin``), so a
year of 15-minute data crosses the wire as 365 rows a series instead of 35 040.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db.models import Q

from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.dispatch.selectors import setpoint_frame, setpoint_frame_bucketed
from apps.forecasts.selectors import forecast_bands, forecast_bands_bucketed, forecast_latest_run
from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import (
    datapoints_bucketed,
    datapoints_series,
    timeseries_extent,
    timeseries_list,
)

from .charts import Line, bucket_width_s, timeseries_chart

#: Periods a site page offers (query value → days), the default first.
PERIODS: dict[str, int] = {"7d": 7, "1d": 1, "30d": 30, "1y": 365}
DEFAULT_PERIOD = "7d"
#: How far past the last metered interval a day-ahead forecast is shown.
FORECAST_AHEAD = pd.Timedelta(days=1)
#: When each of the chart's buckets holds at least :data:`DB_AGGREGATE_MIN_INTERVALS` intervals of the data (a
#: year of 15-minute data in daily buckets: 96), read actuals, forecasts and setpoints already averaged per bucket
#: by the database (one row per bucket instead of one per interval). Off: read every interval and resample in
#: Python (same figures; kept for comparison and tests).
AGGREGATE_IN_DATABASE = True
#: Below this many intervals a bucket, the packed interval reads are faster than ``date_bin … GROUP BY``
#: (benchmarks/dashboard/site_page.py --compare, loaded 2-core machine: 30 days in hourly buckets 78 ms
#: aggregated vs 56 ms packed; a year in daily buckets 143 ms vs 183 ms).
DB_AGGREGATE_MIN_INTERVALS = 16


@dataclass(frozen=True)
class SiteCharts:
    """Chart specs of a site page over ``[start, end)`` (UTC) and what they were built from."""

    period: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    load: dict
    grid: dict
    pv: dict
    battery: dict
    series_count: int
    forecast_models: list[str]

    @property
    def has_data(self) -> bool:
        return self.start is not None


def _empty(sentence: str) -> dict:
    return {"kind": "timeseries", "unit": "kW", "t": [], "series": [], "empty": sentence}


def _window(main: list[TimeSeries], period: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """``[end − period, end)`` where ``end`` is the end of the newest metered interval of the main series plus
    the day-ahead forecast beyond it (capped at :data:`FORECAST_AHEAD`); ``None`` when nothing is metered."""
    last: pd.Timestamp | None = None
    step = pd.Timedelta(minutes=15)
    for series in main:
        _, newest, _ = timeseries_extent(series=series)
        if newest is not None:
            candidate = pd.Timestamp(newest) + pd.Timedelta(seconds=series.resolution_s)
            if last is None or candidate > last:
                last, step = candidate, pd.Timedelta(seconds=series.resolution_s)
    if last is None:
        return None
    end = last
    for series in main:
        run = forecast_latest_run(series=series)
        if run is not None:
            end = max(end, min(pd.Timestamp(run.horizon_end), last + FORECAST_AHEAD))
    end = end.ceil(step)
    return end - pd.Timedelta(days=PERIODS[period]), end


def _with_forecast(
    series: TimeSeries,
    label: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    models: set[str],
    axis: int = 0,
    bucket_s: int | None = None,
) -> list[Line]:
    """The actuals of ``series`` and, where forecasts were stored for it, their p50 with the p10–p90 band (the
    latest run issued before ``end`` for each interval). With ``bucket_s`` the database averages both into
    buckets of that width (the chart's), so a long period reads one row per bucket."""
    if bucket_s is None:
        actual = datapoints_series(series=series, start=start, end=end)
        known = forecast_bands(series=series, start=start, end=end, belief_time=end)
    else:
        actual = datapoints_bucketed(series=series, start=start, end=end, bucket_s=bucket_s)["mean"]
        known = forecast_bands_bucketed(
            series=series, start=start, end=end, belief_time=end, bucket_s=bucket_s
        )
    lines = [Line(label, actual, axis=axis)]
    if not known.empty:
        lines.append(
            Line(
                f"{label} forecast (p50, p10–p90 band)",
                known["p50"],
                lower=known["p10"],
                upper=known["p90"],
                style="dashed",
                axis=axis,
            )
        )
        models.add(label)
    return lines


def _activation_marks(starts: pd.DatetimeIndex, step: pd.Timedelta) -> list[tuple[Any, Any, str]]:
    """Contiguous runs of the activation setpoint intervals starting at ``starts`` (sorted) as ``(start, end,
    "event")`` periods to shade."""
    marks: list[tuple[Any, Any, str]] = []
    for t in starts:
        if marks and marks[-1][1] == t:
            marks[-1] = (marks[-1][0], t + step, "event")
        else:
            marks.append((t, t + step, "event"))
    return marks


@dataclass
class _Drawing:
    """What every chart of one site page shares: the window, the bucket width (``None``: native points), the
    activation marks and the forecast models seen so far (filled as lines are drawn)."""

    start: pd.Timestamp
    end: pd.Timestamp
    bucket_s: int | None
    marks: list[tuple[Any, Any, str]]
    models: set[str] = field(default_factory=set)

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.start, self.end

    def lines(self, item: TimeSeries, label: str) -> list[Line]:
        return _with_forecast(item, label, self.start, self.end, self.models, bucket_s=self.bucket_s)


def _setpoints(principal: Principal, site: Site, d: _Drawing, native_s: int) -> pd.DataFrame:
    """The site's setpoints in the window (bucketed like the series) and, as a side effect, the activation marks."""
    if d.bucket_s is None:
        setpoints = setpoint_frame(principal=principal, site_id=site.pk, start=d.start, end=d.end)
        activation_starts = setpoints.index[setpoints["kind"] == "activation"]
    else:
        setpoints, activation_starts = setpoint_frame_bucketed(
            principal=principal, site_id=site.pk, start=d.start, end=d.end, bucket_s=d.bucket_s
        )
    d.marks.extend(_activation_marks(activation_starts, pd.Timedelta(seconds=native_s)))
    return setpoints


def _grid_chart(meter: list[TimeSeries], setpoints: pd.DataFrame, d: _Drawing) -> dict:
    lines: list[Line] = []
    for item in meter:
        lines += d.lines(item, "Grid power (metered)")
    if not setpoints.empty:
        lines.append(Line("Setpoint: planned grid power", setpoints["target_kw"].astype(float), style="step"))
        lines.append(Line("Plan baseline", setpoints["baseline_kw"].astype(float), style="dashed"))
    return timeseries_chart(
        lines=lines, unit="kW", marks=d.marks, x_range=d.window, empty="No grid power metered in this period."
    )


def _battery_chart(soc: list[TimeSeries], setpoints: pd.DataFrame, d: _Drawing) -> dict:
    lines: list[Line] = []
    for item in soc:
        lines += d.lines(item, f"State of charge {item.owner.name}")
    if not setpoints.empty and setpoints["battery_kw"].astype(float).abs().sum() > 0:
        battery_kw = setpoints["battery_kw"].astype(float)
        lines.append(Line("Setpoint: battery power (+ = charge)", battery_kw, style="step", axis=1))
    return timeseries_chart(
        lines=lines,
        unit="kWh",
        unit2="kW",
        marks=d.marks,
        x_range=d.window,
        empty="No battery data in this period.",
    )


def site_charts(*, principal: Principal, site: Site, period: str = DEFAULT_PERIOD) -> SiteCharts:
    """The four charts of the site page for ``period`` (a key of :data:`PERIODS`) ending at the site's newest
    data. Actuals, forecasts and setpoints in kW (state of charge in kWh); a year of 15-minute data is drawn as
    daily means with their min–max band (:func:`~apps.dashboard.charts.timeseries_chart`).

    Raises:
        ValueError: unknown ``period``.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    owned = Q(site=site) | Q(battery__site=site) | Q(pv_array__site=site)
    series = list(timeseries_list(principal=principal).filter(owned, name="").order_by("pk"))
    by_quantity: dict[str, list[TimeSeries]] = {}
    for item in series:
        by_quantity.setdefault(item.quantity, []).append(item)
    site_level = {q: [s for s in by_quantity.get(q, []) if s.site_id == site.pk] for q in Quantity.values}
    it = site_level[Quantity.IT_POWER_KW][:1]
    meter = site_level[Quantity.SITE_POWER_KW][:1]
    window = _window(it + meter, period)
    if window is None:
        nothing = _empty("Nothing metered at this site yet.")
        return SiteCharts(period, None, None, nothing, nothing, nothing, nothing, len(series), [])
    start, end = window
    native_s = (it + meter)[0].resolution_s
    width_s = bucket_width_s(span_s=(end - start).total_seconds(), native_step_s=native_s)
    aggregate = AGGREGATE_IN_DATABASE and width_s >= DB_AGGREGATE_MIN_INTERVALS * native_s
    d = _Drawing(start, end, width_s if aggregate else None, [])
    setpoints = _setpoints(principal, site, d, native_s)
    load_lines = [line for item in it for line in d.lines(item, "IT power served (metered)")]
    load = timeseries_chart(
        lines=load_lines, unit="kW", marks=d.marks, x_range=window, empty="No IT load metered in this period."
    )
    pv_series = site_level[Quantity.PV_POWER_KW] + [
        s for s in by_quantity.get(Quantity.PV_POWER_KW, []) if s.pv_array_id
    ]
    pv_lines = [
        line
        for item in pv_series
        for line in d.lines(item, "PV" if item.site_id else f"PV {item.owner.name}")
    ]
    pv = timeseries_chart(
        lines=pv_lines, unit="kW", x_range=window, empty="No PV generation metered in this period."
    )
    grid = _grid_chart(meter, setpoints, d)
    battery = _battery_chart(by_quantity.get(Quantity.SOC_KWH, []), setpoints, d)
    return SiteCharts(period, start, end, load, grid, pv, battery, len(series), sorted(d.models))
