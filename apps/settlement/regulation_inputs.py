"""Load the regulation signal of an event and each site's fast meter (the regulation part of
:mod:`apps.settlement.inputs`): reads through the markets and telemetry selectors only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from apps.assets.models import Site
from apps.markets.models import Event
from apps.markets.selectors import activation_first_with_signal
from apps.telemetry.choices import REGULATION_BASE_POINT_SERIES, REGULATION_METER_SERIES, Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import series_for, timeseries_resampled

from .intervals import regulation_resolution_s

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegulationSignal:
    """A regulation signal (fractions of the award every ``step_s`` from ``start``) and, per participating site
    in :attr:`~.inputs.SettlementInputs.sites` order, its metered ``site_power_kw`` at ``resolution_s`` over the
    event (``None`` without a readable meter) and its regulation base point at the same resolution (``None``
    without one: the response is then measured from the settlement baseline)."""

    values: tuple[float, ...]
    start: pd.Timestamp
    step_s: int
    resolution_s: int
    metered_kw: tuple[pd.Series | None, ...]
    base_point_kw: tuple[pd.Series | None, ...] = ()


def series_values(series: TimeSeries | None, start: datetime, end: datetime, step_s: int) -> pd.Series | None:
    """``series`` over ``[start, end)`` at ``step_s`` (NaN where missing), or ``None`` without a series or when
    the resolutions are incompatible."""
    if series is None:
        return None
    try:
        return timeseries_resampled(series=series, start=start, end=end, resolution_s=step_s).values
    except ValueError:
        logger.warning("series %s cannot be read at %s s", series.pk, step_s)
        return None


def _meter_of(site: Site) -> tuple[TimeSeries | None, TimeSeries | None]:
    """The site's regulation meter and base point (the dedicated 10-second series) when it has both, else its
    main meter and no base point."""
    fast = series_for(site=site, quantity=Quantity.SITE_POWER_KW, name=REGULATION_METER_SERIES)
    base = series_for(site=site, quantity=Quantity.SITE_POWER_KW, name=REGULATION_BASE_POINT_SERIES)
    if fast is not None and base is not None:
        return fast, base
    return series_for(site=site, quantity=Quantity.SITE_POWER_KW), None


def regulation_signal(event: Event, index: pd.DatetimeIndex, sites: list[Site]) -> RegulationSignal | None:
    """The first regulation signal of the event and each site's meter at the resolution the score is computed on
    (see :func:`.intervals.regulation_resolution_s`: the dedicated regulation meter's 10 s where the sites have
    one, PJM's scoring resolution), with the base points, over the event window."""
    activation = activation_first_with_signal(event_id=event.pk)
    if activation is None or not activation.signal or not sites:
        return None
    step_s = event.program.settlement_interval_minutes * 60
    meters = [_meter_of(s) for s in sites]
    res_s = regulation_resolution_s(
        step_s=step_s, meter_resolutions_s=[m.resolution_s for m, _ in meters if m is not None]
    )
    start = index[0].to_pydatetime()
    return RegulationSignal(
        values=tuple(float(v) for v in activation.signal),
        start=pd.Timestamp(activation.start),
        step_s=activation.signal_resolution_seconds or 2,
        resolution_s=res_s,
        metered_kw=tuple(series_values(m, start, event.end, res_s) for m, _ in meters),
        base_point_kw=tuple(series_values(b, start, event.end, res_s) for _, b in meters),
    )
