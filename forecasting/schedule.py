"""When forecasts are issued and which intervals they cover (the rolling-origin schedule)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from forecasting.timeseries import local_midnight, parse_clock, parse_duration


@dataclass(frozen=True)
class Origin:
    """One forecast: issued at ``issue_time`` (UTC) for the intervals starting at ``target_index`` (UTC).

    Only values whose interval ``[start, start + freq)`` ends at or before ``issue_time`` are known.
    """

    issue_time: pd.Timestamp
    target_index: pd.DatetimeIndex


@dataclass(frozen=True)
class DayAheadSchedule:
    """Day-ahead schedule: issued at ``issue_time`` local on day D-1 for the delivery window starting at local
    midnight of day D.

    The delivery window is ``horizon`` long; when ``horizon`` is a whole number of days it is that many *local
    calendar days* (23 or 25 hours across a DST change), otherwise ``horizon`` of absolute time.

    Attributes:
        tz: IANA time zone of the market / site, e.g. ``"America/Los_Angeles"``.
        issue_time: local wall-clock issue time on D-1 (``"10:00"`` or ``datetime.time``).
        horizon: ISO 8601 duration or Timedelta, e.g. ``"PT24H"``.
        freq: step of the forecast grid, e.g. ``"PT1H"`` or ``"PT15M"``.
    """

    tz: str = "UTC"
    issue_time: dt.time | str = dt.time(10, 0)
    horizon: pd.Timedelta | str = "PT24H"
    freq: pd.Timedelta | str = "PT1H"

    def __post_init__(self) -> None:
        object.__setattr__(self, "issue_time", parse_clock(self.issue_time))
        object.__setattr__(self, "horizon", parse_duration(self.horizon))
        object.__setattr__(self, "freq", parse_duration(self.freq))
        try:
            pd.Timestamp("2020-01-01", tz=self.tz)
        except Exception as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        if pd.Timedelta(days=1) % self.freq != pd.Timedelta(0):
            raise ValueError(f"freq {self.freq} must divide one day")

    @property
    def step(self) -> pd.Timedelta:
        """The grid step as a Timedelta."""
        return pd.Timedelta(self.freq)

    def origin_for(self, delivery_day: dt.date | str | pd.Timestamp) -> Origin:
        """The forecast for local delivery day ``delivery_day`` (a date in ``tz``)."""
        day = pd.Timestamp(delivery_day).date()
        start = pd.Timestamp(day).tz_localize(self.tz, nonexistent="shift_forward", ambiguous=True)
        horizon = pd.Timedelta(self.horizon)
        if horizon % pd.Timedelta(days=1) == pd.Timedelta(0):
            end_day = day + dt.timedelta(days=horizon // pd.Timedelta(days=1))
            end = pd.Timestamp(end_day).tz_localize(self.tz, nonexistent="shift_forward", ambiguous=True)
        else:
            end = start + horizon
        issue_local = dt.datetime.combine(day - dt.timedelta(days=1), self.issue_time)  # type: ignore[arg-type]
        issue = pd.Timestamp(issue_local).tz_localize(self.tz, nonexistent="shift_forward", ambiguous=True)
        start, end, issue = (t.tz_convert("UTC") for t in (start, end, issue))
        index = pd.date_range(start, end, freq=self.step, inclusive="left")
        return Origin(issue_time=issue, target_index=index)

    def origins(self, start: dt.date | str | pd.Timestamp, end: dt.date | str | pd.Timestamp) -> list[Origin]:
        """Forecasts for every local delivery day from ``start`` to ``end`` inclusive."""
        days = pd.date_range(pd.Timestamp(start).date(), pd.Timestamp(end).date(), freq="D")
        return [self.origin_for(d) for d in days]

    def delivery_day_of(self, issue_time: pd.Timestamp) -> dt.date:
        """The local delivery day served by a forecast issued at ``issue_time`` (the next local day)."""
        return (local_midnight(issue_time, self.tz).tz_convert(self.tz).date()) + dt.timedelta(days=1)

    def origin_at(self, issue_time: pd.Timestamp) -> Origin:
        """The forecast issued at ``issue_time`` (tz-aware): the delivery window of the next local day."""
        return Origin(
            issue_time=pd.Timestamp(issue_time).tz_convert("UTC"),
            target_index=self.origin_for(self.delivery_day_of(pd.Timestamp(issue_time))).target_index,
        )


def _local(day: dt.date, tz: str) -> pd.Timestamp:
    """Local midnight of ``day`` in ``tz``, in UTC."""
    stamp = pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
    return stamp.tz_convert("UTC")


@dataclass(frozen=True)
class IntradaySchedule:
    """Intraday updates: a forecast issued at any time ``t`` covers the rest of ``t``'s local day and the next
    local day, i.e. every grid interval starting at or after ``t`` and before local midnight two days on (so an
    update at 15:00 re-forecasts the rest of today and the whole day-ahead window).

    ``origins`` (the training and backtest origins) are issued every ``issue_every`` from local midnight; a fitted
    model can be asked for any issue time (:meth:`origin_at`). The lead time of the training samples therefore
    runs from one grid step to two days, so one model serves every update of the day.

    Attributes:
        tz: IANA time zone of the site / market.
        issue_every: spacing of the training / backtest issue times (ISO 8601 duration dividing one day).
        freq: step of the forecast grid.

    Raises:
        ValueError: unknown time zone, or a step / issue spacing that does not divide one day.
    """

    tz: str = "UTC"
    issue_every: pd.Timedelta | str = "PT3H"
    freq: pd.Timedelta | str = "PT1H"

    def __post_init__(self) -> None:
        object.__setattr__(self, "issue_every", parse_duration(self.issue_every))
        object.__setattr__(self, "freq", parse_duration(self.freq))
        try:
            pd.Timestamp("2020-01-01", tz=self.tz)
        except Exception as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        for name in ("freq", "issue_every"):
            if pd.Timedelta(days=1) % getattr(self, name) != pd.Timedelta(0):
                raise ValueError(f"{name} {getattr(self, name)} must divide one day")

    @property
    def step(self) -> pd.Timedelta:
        """The grid step as a Timedelta."""
        return pd.Timedelta(self.freq)

    def origin_at(self, issue_time: pd.Timestamp) -> Origin:
        """The update issued at ``issue_time`` (tz-aware): grid intervals from the first one starting at or after
        the issue time to the end of the next local day."""
        issue = pd.Timestamp(issue_time).tz_convert("UTC")
        today = issue.tz_convert(self.tz).date()
        end = _local(today + dt.timedelta(days=2), self.tz)
        first = issue.ceil(self.step)
        return Origin(
            issue_time=issue, target_index=pd.date_range(first, end, freq=self.step, inclusive="left")
        )

    def origins(self, start: dt.date | str | pd.Timestamp, end: dt.date | str | pd.Timestamp) -> list[Origin]:
        """Updates issued every ``issue_every`` (from local midnight) on every local day ``start`` .. ``end``."""
        out: list[Origin] = []
        for day in pd.date_range(pd.Timestamp(start).date(), pd.Timestamp(end).date(), freq="D"):
            first, last = _local(day.date(), self.tz), _local(day.date() + dt.timedelta(days=1), self.tz)
            out.extend(
                self.origin_at(t) for t in pd.date_range(first, last, freq=self.issue_every, inclusive="left")
            )
        return out


#: Either schedule: both give ``tz``, ``step``, ``origins(start, end)`` and ``origin_at(issue_time)``.
Schedule = DayAheadSchedule | IntradaySchedule
