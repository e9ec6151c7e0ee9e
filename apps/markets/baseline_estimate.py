"""The settlement baseline a site should expect for an event, estimated before gate closure.

Delivered flexibility is settled as ``baseline − metered`` with the program's customer baseline
(:mod:`forecasting.customer_baselines`), not against the aggregator's own load forecast. When the portfolio has
already moved load (a day-ahead schedule deferring work out of the evening peak, or migrating it to a cheaper
zone), the day-of adjustment lowers that baseline (a CAISO "10 in 10" ratio bottoms out at 0.8), and a bid sized
on the forecast promises more than the meters can show. Bidding therefore caps its quantity at what each site
can deliver against the baseline it should expect.

The estimate applies the program's method with the rule book's standard terms (CAISO/NYISO 10 of 10 with a
multiplicative adjustment over the 4 h ending 1 h before the event, PJM High 4 of 5 with an additive one over
3 h; ±20 %, 45-day lookback, weekends and holidays excluded) to the site's metered grid power known at the
belief time. The part of the adjustment window not yet metered is filled with the mean of the last metered hour
(persistence of the day-of level). Earlier event days are the local days with an activation of an event in a
program of the site's zone (settlement uses the site's own dispatch plans, which are not visible here).
A program that settles on the aggregator's forecast expects the baseline settlement will use: the forecast of
the site's IT demand known at gate closure (:func:`apps.forecasts.baseline_forecast.site_baseline_forecast`), or the latest
one before it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from apps.assets.models import Site
from apps.forecasts.baseline_forecast import site_baseline_forecast
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_for
from forecasting import customer_baselines as cbl

from .choices import BaselineMethod
from .models import Activation, Event

LOOKBACK_DAYS = 45
#: The unmetered part of the adjustment window is filled with the mean of the last this many metered hours.
PERSISTENCE_HOURS = 1.0


def _event_days(site: Site, before: datetime) -> set[date]:
    activations = Activation.objects.filter(
        event__program__zone_id=site.market_zone_id, start__lt=before
    ).values_list("start", "end")
    return cbl.local_days(activations, site.timezone)


def _forecast_baseline_kw(site: Site, event: Event, belief_time: datetime) -> np.ndarray | None:
    """A forecast-settled program's baseline as settlement will build it, from the forecast known at
    ``belief_time`` (at most gate closure): :func:`apps.forecasts.baseline_forecast.site_baseline_forecast` through
    :func:`forecasting.customer_baselines.forecast_baseline`."""
    known = site_baseline_forecast(
        site=site, start=event.start, end=event.end, belief_time=min(belief_time, event.gate_closure_at)
    )
    if known is None:
        return None
    step = timedelta(minutes=event.program.settlement_interval_minutes)
    index = pd.date_range(event.start, event.end, freq=step, inclusive="left")
    try:
        result = cbl.forecast_baseline(known.p50_kw, event_index=index, pue=known.pue)
    except cbl.BaselineError:
        return None
    return result.values.to_numpy(dtype=float)


def expected_baseline_kw(*, site: Site, event: Event, belief_time: datetime) -> np.ndarray | None:
    """The site's expected settlement baseline over ``event`` (kW per settlement interval, shape
    ``(n_intervals,)``), from what is metered at ``belief_time`` (for a forecast-settled program: the baseline
    forecast known then); ``None`` when the site has too little metered history or no baseline forecast (the bid
    then rests on the flexibility envelope alone).
    """
    method = event.program.baseline_method
    if method == BaselineMethod.FORECAST:
        return _forecast_baseline_kw(site, event, belief_time)
    meter = series_for(site=site, quantity=Quantity.SITE_POWER_KW)
    if meter is None:
        return None
    step = timedelta(minutes=event.program.settlement_interval_minutes)
    history = datapoints_series(
        series=meter, start=event.start - timedelta(days=LOOKBACK_DAYS + 7), end=min(belief_time, event.start)
    )
    if history.empty:
        return None
    history = history.resample(step).mean().dropna()
    index = pd.date_range(event.start, event.end, freq=step, inclusive="left")
    window_end = pd.Timestamp(event.start) - pd.Timedelta(hours=1)
    last = pd.Timestamp(history.index[-1])
    if last + step < window_end:  # fill the unmetered part of the adjustment window by persistence
        level = float(history[history.index > last - pd.Timedelta(hours=PERSISTENCE_HOURS)].mean())
        fill = pd.date_range(last + step, window_end, freq=step, inclusive="left")
        history = pd.concat([history, pd.Series(level, index=fill)])
    tz = site.timezone
    event_day = pd.Timestamp(event.start).tz_convert(tz).date()
    candidates = cbl.eligible_days(
        event_day=event_day,
        lookback_days=LOOKBACK_DAYS,
        holidays=cbl.holiday_dates(zone_code=site.market_zone_id, years={event_day.year - 1, event_day.year}),
        event_days=_event_days(site, event.start),
    )
    try:
        if method == BaselineMethod.HIGH_X_OF_Y:
            result = cbl.high_x_of_y(history, event_index=index, tz=tz, candidate_days=candidates)
        else:
            result = cbl.ten_of_ten(history, event_index=index, tz=tz, candidate_days=candidates)
    except cbl.BaselineError:
        return None
    return result.values.to_numpy(dtype=float)
