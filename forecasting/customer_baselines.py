"""Customer baseline methods: what a site would have drawn had there been no event. Pure functions on pandas.

Nothing here touches the ORM: callers pass the site's metered history (kW per settlement interval, indexed by
interval start, UTC) and the calendar facts (holidays, earlier event days); every function returns a
:class:`Baseline` with the values over the event window and the provenance of the figure (days used, adjustment).

Days are the site's *local* calendar days (``tz``, IANA), and "the same interval" means the same local
wall-clock time of day, as the market rules define it.

A customer baseline is a forecast of the counterfactual load, so it lives in this pure library: settlement
computes it after the event on the metered history; bidding estimates it before gate closure
(``apps.markets.baseline_estimate``) so as not to offer more than the meters can show.

Sources:

- "10 of 10": CAISO Business Practice Manual for Demand Response, §10.1.1 (Customer Load Baseline, "10 in 10
  non-event-day" with a day-of "load point adjustment" capped at ±20 %) and NYISO's Customer Baseline Load
  (NYISO EDRP/SCR Manual, "average day CBL with weather-sensitive adjustment", also a ratio capped at ±20 %).
  Both select the 10 most recent eligible days (weekdays, not holidays, not event days) and average them per
  interval; the adjustment multiplies the baseline by actual ÷ baseline over hours just before the event.
  The window of those hours is a parameter (default: the 4 hours ending 1 hour before the event start; the
  hour just before is left out so that pre-event load shifting does not inflate the baseline).
- "High X of Y": PJM Manual 11 (Energy & Ancillary Services Market Operations), §10 Demand Resource
  participation, Customer Baseline Load: of the Y (5) most recent eligible weekdays, the X (4) with the highest
  average load over the event hours are averaged per interval; PJM then applies a Symmetric Additive
  Adjustment (actual − baseline over the 3 hours ending 1 hour before the event, added to every event
  interval). The adjustment is optional here (``adjustment="additive"``), with the same cap rule as above
  expressed as a fraction of the unadjusted baseline.
- Forecast: the aggregator's own forecast of the site's grid power issued before gate closure (FlexMeasures'
  belief-time semantics); see :func:`forecast_baseline`.

Simplifications (the settlement app sets them per program, where they are parameters):
the adjustment window and cap are parameters rather than each operator's exact wording; PJM's exclusion of
low-usage days (below 25 % of the average) and NYISO's weather-sensitive variants are not implemented; a day
with any missing meter reading at the event's times of day is skipped rather than patched; holidays are the
public holidays of the zone's country and state (``holidays`` package), not an operator-published list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np
import pandas as pd

#: Country and subdivision (``holidays`` package codes) of each bundled market zone, for the holiday calendar.
ZONE_HOLIDAY_CALENDAR: dict[str, tuple[str, str | None]] = {
    "CAISO_NP15": ("US", "CA"),
    "ERCOT_HUB": ("US", "TX"),
    "PJM_DOM": ("US", "VA"),
    "NYISO_CAPITL": ("US", "NY"),
    "DE_LU": ("DE", None),
}


class BaselineError(ValueError):
    """Not enough data for the method (no eligible day with complete data, or no forecast)."""


@dataclass(frozen=True)
class Baseline:
    """A baseline over an event window.

    ``values``: kW per interval (float64), indexed by interval start (UTC) — exactly the requested event
    intervals. ``days``: the local days averaged (empty for a forecast). ``adjustment``: the factor applied
    (multiplicative: ratio, 1.0 = none) or offset in kW (additive: 0.0 = none); ``adjustment_capped`` says whether
    the ±cap bound was hit. ``method`` and ``detail`` document what was done (stored for audit).
    """

    values: pd.Series
    method: str
    days: tuple[date, ...] = ()
    adjustment: float | None = None
    adjustment_kind: str | None = None
    adjustment_capped: bool = False
    detail: dict = field(default_factory=dict)


def holiday_dates(*, zone_code: str, years: Iterable[int]) -> set[date]:
    """Public holidays of the zone's country and subdivision in ``years`` (``holidays`` package).

    Returns an empty set for a zone without a known calendar (documented fallback: no holiday exclusion).
    """
    country, subdivision = ZONE_HOLIDAY_CALENDAR.get(zone_code, (None, None))
    if country is None:
        return set()
    return set(holidays_lib.country_holidays(country, subdiv=subdivision, years=sorted(set(years))).keys())


def local_days(spans: Iterable[tuple[datetime, datetime | None]], tz: str) -> set[date]:
    """The local calendar days (``tz``, IANA) that the ``(start, end)`` spans touch (aware datetimes; an open
    end counts as its start): the "event days" the day-matching rules exclude from baseline days."""
    zone = ZoneInfo(tz)
    days: set[date] = set()
    for start, end in spans:
        day, last = start.astimezone(zone).date(), (end or start).astimezone(zone).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days


def eligible_days(
    *,
    event_day: date,
    lookback_days: int,
    exclude_weekends: bool = True,
    holidays: set[date] | frozenset[date] = frozenset(),
    event_days: set[date] | frozenset[date] = frozenset(),
) -> list[date]:
    """Candidate baseline days before ``event_day``, most recent first.

    A day is eligible unless it is a Saturday or Sunday (when ``exclude_weekends``), a holiday, or a day on which
    the site had an earlier event (``event_days``). Only the ``lookback_days`` days before the event day are
    considered (CAISO and PJM both look back 45 days for 10 or 5 days).
    """
    days = []
    for back in range(1, lookback_days + 1):
        day = event_day - timedelta(days=back)
        if exclude_weekends and day.weekday() >= 5:
            continue
        if day in holidays or day in event_days:
            continue
        days.append(day)
    return days


def _day_matrix(history: pd.Series, tz: str) -> pd.DataFrame:
    """History (kW, UTC index) as a local-day × local-time-of-day table."""
    local = history.dropna().tz_convert(tz)
    frame = pd.DataFrame(
        {"day": local.index.date, "tod": local.index.time, "kw": local.to_numpy(dtype=float)}
    )
    return frame.pivot_table(index="day", columns="tod", values="kw", aggfunc="mean")


def _local_times(index: pd.DatetimeIndex, tz: str) -> list[time]:
    return list(index.tz_convert(tz).time)


def _average_of_days(matrix: pd.DataFrame, days: list[date], times: list[time]) -> np.ndarray:
    return matrix.loc[days, times].mean(axis=0).to_numpy(dtype=float)


def _complete_days(matrix: pd.DataFrame, candidates: list[date], times: list[time]) -> list[date]:
    """Candidates that have a value at every one of ``times`` (a day with missing meter data is skipped)."""
    if any(t not in matrix.columns for t in times):
        return []
    rows = matrix.reindex(index=candidates)[times]
    return [d for d in candidates if d in matrix.index and not rows.loc[d].isna().any()]


def _adjust(
    base: np.ndarray,
    *,
    kind: str | None,
    actual_window: float | None,
    baseline_window: float | None,
    cap: float,
) -> tuple[np.ndarray, float | None, bool]:
    """Apply a day-of adjustment. Multiplicative: ``ratio = actual / baseline`` over the window, clipped to
    ``[1 − cap, 1 + cap]``. Additive: ``offset = actual − baseline`` clipped to ``± cap × baseline`` (window
    means, kW). Returns ``(adjusted, factor or offset, capped)``; no adjustment when the window lacks data."""
    if kind is None or actual_window is None or baseline_window is None:
        return base, None, False
    if kind == "multiplicative":
        if baseline_window <= 0:
            return base, None, False
        raw = actual_window / baseline_window
        ratio = min(max(raw, 1.0 - cap), 1.0 + cap)
        return base * ratio, ratio, not np.isclose(raw, ratio)
    if kind == "additive":
        raw = actual_window - baseline_window
        bound = cap * abs(baseline_window)
        offset = min(max(raw, -bound), bound)
        return base + offset, offset, not np.isclose(raw, offset)
    raise ValueError(f"unknown adjustment {kind!r}; use 'multiplicative', 'additive' or None")


def _window_means(
    history: pd.Series,
    matrix: pd.DataFrame,
    days: list[date],
    *,
    event_start: datetime,
    step: pd.Timedelta,
    tz: str,
    hours: float,
    gap_hours: float,
) -> tuple[float | None, float | None, tuple[pd.Timestamp, pd.Timestamp]]:
    """Mean actual and mean baseline (kW) over ``[start − gap − hours, start − gap)``; ``None`` if incomplete."""
    end = pd.Timestamp(event_start) - pd.Timedelta(hours=gap_hours)
    begin = end - pd.Timedelta(hours=hours)
    grid = pd.date_range(begin, end, freq=step, inclusive="left")
    actual = history.reindex(grid)
    times = _local_times(grid, tz)
    if actual.isna().any() or any(t not in matrix.columns for t in times):
        return None, None, (begin, end)
    base = matrix.loc[days, times].mean(axis=0)
    if base.isna().any():
        return None, None, (begin, end)
    return float(actual.mean()), float(base.mean()), (begin, end)


def ten_of_ten(
    history: pd.Series,
    *,
    event_index: pd.DatetimeIndex,
    tz: str,
    candidate_days: list[date],
    n_days: int = 10,
    adjustment: str | None = "multiplicative",
    adjustment_hours: float = 4.0,
    adjustment_gap_hours: float = 1.0,
    cap: float = 0.20,
) -> Baseline:
    """CAISO/NYISO "10 of 10" baseline with a day-of adjustment capped at ±``cap`` (module docstring: sources).

    Args:
        history: metered site grid power (kW, + = import) per settlement interval, UTC index, covering the
            candidate days and the adjustment window of the event day.
        event_index: the event's settlement-interval starts (UTC).
        tz: the site's IANA time zone (days and times of day are local).
        candidate_days: eligible days, most recent first (:func:`eligible_days`).
        n_days: how many of the most recent eligible days with complete data to average (10).
        adjustment: ``"multiplicative"`` (CAISO/NYISO ratio), ``"additive"`` or ``None``.
        adjustment_hours, adjustment_gap_hours: window ``[start − gap − hours, start − gap)`` of the adjustment.
        cap: bound of the adjustment (0.20 = ratio within 0.8…1.2).

    Returns:
        :class:`Baseline` with one value per ``event_index`` entry.

    Raises:
        BaselineError: no eligible day has data at every event interval.
    """
    return _day_matching(
        history,
        event_index=event_index,
        tz=tz,
        candidate_days=candidate_days,
        pick=n_days,
        of=n_days,
        method="10_of_10",
        adjustment=adjustment,
        adjustment_hours=adjustment_hours,
        adjustment_gap_hours=adjustment_gap_hours,
        cap=cap,
    )


def high_x_of_y(
    history: pd.Series,
    *,
    event_index: pd.DatetimeIndex,
    tz: str,
    candidate_days: list[date],
    x: int = 4,
    y: int = 5,
    adjustment: str | None = "additive",
    adjustment_hours: float = 3.0,
    adjustment_gap_hours: float = 1.0,
    cap: float = 0.20,
) -> Baseline:
    """PJM "High X of Y" Customer Baseline Load (PJM Manual 11 §10; default High 4 of 5).

    Of the ``y`` most recent eligible days with complete data over the event intervals, the ``x`` with the
    highest mean load over those intervals are averaged per interval; then PJM's Symmetric Additive Adjustment
    (``adjustment="additive"``: actual − baseline over the 3 hours ending 1 hour before the event) is added,
    bounded by ``cap`` × the baseline's window mean. Arguments, return value and errors as :func:`ten_of_ten`.
    """
    return _day_matching(
        history,
        event_index=event_index,
        tz=tz,
        candidate_days=candidate_days,
        pick=x,
        of=y,
        method=f"high_{x}_of_{y}",
        adjustment=adjustment,
        adjustment_hours=adjustment_hours,
        adjustment_gap_hours=adjustment_gap_hours,
        cap=cap,
    )


def _day_matching(
    history: pd.Series,
    *,
    event_index: pd.DatetimeIndex,
    tz: str,
    candidate_days: list[date],
    pick: int,
    of: int,
    method: str,
    adjustment: str | None,
    adjustment_hours: float,
    adjustment_gap_hours: float,
    cap: float,
) -> Baseline:
    if len(event_index) == 0:
        raise BaselineError("the event has no intervals")
    step = event_index[1] - event_index[0] if len(event_index) > 1 else pd.Timedelta(hours=1)
    matrix = _day_matrix(history, tz)
    times = _local_times(event_index, tz)
    complete = _complete_days(matrix, candidate_days, times)[:of]
    if not complete:
        raise BaselineError(f"{method}: no eligible day with complete meter data at the event's times of day")
    if pick < of:
        load = matrix.loc[complete, times].mean(axis=1)
        # highest mean load first; ties keep the more recent day (stable sort on the recency order)
        ranked = sorted(complete, key=lambda d: -float(load.loc[d]))
        days = ranked[:pick]
    else:
        days = complete
    base = _average_of_days(matrix, days, times)
    actual_w, base_w, window = _window_means(
        history,
        matrix,
        days,
        event_start=event_index[0],
        step=step,
        tz=tz,
        hours=adjustment_hours,
        gap_hours=adjustment_gap_hours,
    )
    adjusted, factor, capped = _adjust(
        base, kind=adjustment, actual_window=actual_w, baseline_window=base_w, cap=cap
    )
    return Baseline(
        values=pd.Series(adjusted, index=event_index, name="baseline_kw"),
        method=method,
        days=tuple(days),
        adjustment=factor,
        adjustment_kind=adjustment if factor is not None else None,
        adjustment_capped=capped,
        detail={
            "days": [d.isoformat() for d in days],
            "window": [window[0].isoformat(), window[1].isoformat()],
            "window_actual_kw": actual_w,
            "window_baseline_kw": base_w,
            "unadjusted_kw": [float(v) for v in base],
        },
    )


def forecast_baseline(
    forecast_kw: pd.Series, *, event_index: pd.DatetimeIndex, pue: float | None = None, issued_at: str = ""
) -> Baseline:
    """Baseline from a forecast known at gate closure.

    Args:
        forecast_kw: p50 forecast (kW) indexed by interval start (UTC), any resolution: values finer than the
            settlement interval are averaged, coarser ones held over their interval.
        event_index: settlement-interval starts of the event (UTC).
        pue: when given, ``forecast_kw`` is an IT-power forecast and the site's grid power is approximated as
            IT × PUE. The approximation ignores PV generation and battery power behind the meter (it
            overstates grid import by the PV output in daylight), and is used only when no forecast of the
            site's grid power exists.
        issued_at: belief time of the forecast, recorded in ``detail``.

    Raises:
        BaselineError: the forecast misses an event interval.
    """
    if forecast_kw.empty:
        raise BaselineError("forecast: no forecast issued before gate closure")
    step = event_index[1] - event_index[0] if len(event_index) > 1 else pd.Timedelta(hours=1)
    ordered = forecast_kw.sort_index()
    native = ordered.index[1] - ordered.index[0] if len(ordered) > 1 else step
    if native > step:
        values = ordered.reindex(event_index, method="ffill", tolerance=native - pd.Timedelta(microseconds=1))
    else:
        values = ordered.resample(step, origin="epoch").mean().reindex(event_index)
    if values.isna().any():
        raise BaselineError(
            "forecast: the forecast known at gate closure does not cover every event interval"
        )
    factor = pue if pue is not None else 1.0
    return Baseline(
        values=(values * factor).rename("baseline_kw"),
        method="forecast" if pue is None else "forecast_it_x_pue",
        detail={"issued_at": issued_at, "pue": pue},
    )
