"""Reads of the time-series store, scoped to what the caller may see, and fast reads into pandas.

Scoping: a site or asset series is visible to whoever sees the site (:func:`apps.assets.selectors.site_list`:
the aggregator sees all, a site owner its own, an API client bound to a site only that site, a market operator
none); a market-zone series (prices, carbon intensity, weather, system load) is visible to every member of an
organisation.

Reads return pandas objects indexed by interval start (``DatetimeIndex``, UTC). On PostgreSQL the server packs
the points of a range into one binary value that numpy decodes (no Python object per row); 15-minute and 1-hour
aggregates come from the rollups kept on ingestion (:func:`timeseries_rollup`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Max, Min, Q, QuerySet

from apps.accounts.principal import Principal
from apps.assets.selectors import site_list

from .. import pg, rollups
from ..choices import Aggregation
from ..durations import duration_iso
from ..models import DataPoint, TimeSeries, owner_field_of

US_PER_S = 1_000_000


def timeseries_list(*, principal: Principal) -> QuerySet[TimeSeries]:
    """Series visible to ``principal``: zone series for every member, site/asset series by site visibility."""
    qs = TimeSeries.objects.select_related("site", "battery__site", "pv_array__site", "market_zone")
    if principal.organisation is None:
        return qs.none()
    if principal.is_aggregator:
        return qs
    zone = Q(market_zone__isnull=False)
    if not principal.is_site_owner:
        return qs.filter(zone)
    sites = site_list(principal=principal).values("pk")
    return qs.filter(zone | Q(site__in=sites) | Q(battery__site__in=sites) | Q(pv_array__site__in=sites))


def timeseries_find(*, owner: Any, quantity: str, name: str = "") -> TimeSeries | None:
    """The series of ``owner`` (a site, battery, PV array or market zone) measuring ``quantity`` under
    ``name``, or ``None``. Not scoped: for jobs acting for the aggregator (scope with :func:`timeseries_list`
    for callers)."""
    probe = TimeSeries(**{owner_field_of(owner): owner}, quantity=quantity, name=name)
    return TimeSeries.objects.filter(
        owner_key=probe.compute_owner_key(), quantity=quantity, name=name
    ).first()


def timeseries_extent(*, series: TimeSeries) -> tuple[datetime | None, datetime | None, int | None]:
    """``(first start, last start, number of points)`` of ``series`` (index-only min/max; count included)."""
    agg = DataPoint.objects.filter(series=series).aggregate(first=Min("start"), last=Max("start"))
    count = DataPoint.objects.filter(series=series).count() if agg["first"] is not None else 0
    return agg["first"], agg["last"], count


def series_extent_of_sites(
    *, sites: QuerySet, quantity: str, name: str = ""
) -> tuple[datetime | None, datetime | None, int | None]:
    """``(first start, last start, finest resolution in s)`` over the ``quantity``/``name`` series of ``sites``
    (a queryset of sites, used as a subquery): one query whatever the number of sites; ``(None, None, None)``
    when none has a point."""
    agg = DataPoint.objects.filter(
        series__site__in=sites, series__quantity=quantity, series__name=name
    ).aggregate(first=Min("start"), last=Max("start"), step=Min("series__resolution_s"))
    return agg["first"], agg["last"], agg["step"]


def _to_us(moment: datetime | pd.Timestamp) -> int:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError(f"{moment} has no time zone; pass timezone-aware datetimes (UTC inside).")
    return int(stamp.tz_convert("UTC").value) // 1000  # Timestamp.value is in ns


def _read_portable(series_id: int, start_us: int, end_us: int) -> tuple[np.ndarray, np.ndarray]:
    qs = DataPoint.objects.filter(
        series_id=series_id,
        start__gte=pd.Timestamp(start_us, unit="us", tz="UTC").to_pydatetime(),
        start__lt=pd.Timestamp(end_us, unit="us", tz="UTC").to_pydatetime(),
    ).order_by("start")
    pairs = list(qs.values_list("start", "value"))
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    starts = pd.DatetimeIndex([p[0] for p in pairs]).tz_convert("UTC").as_unit("us").asi8
    return starts, np.array([p[1] for p in pairs], dtype=np.float64)


def datapoints_series(*, series: TimeSeries, start: datetime, end: datetime) -> pd.Series:
    """Stored points of ``series`` with ``start ≤ t < end`` at the native resolution.

    Returns:
        ``pd.Series`` of float64 in the series' unit, indexed by interval start (``DatetimeIndex`` UTC,
        named ``start``), sorted; missing intervals are absent (not NaN).

    Raises:
        ValueError: ``start`` or ``end`` is naive.
    """
    start_us, end_us = _to_us(start), _to_us(end)
    if connection.vendor == "postgresql":
        starts, values = pg.read_points(series.pk, start_us, end_us)
    else:
        starts, values = _read_portable(series.pk, start_us, end_us)
    index = pd.DatetimeIndex(starts.astype("datetime64[us]"), name="start").tz_localize("UTC")
    return pd.Series(values, index=index, name=series.quantity, dtype=np.float64)


@dataclass(frozen=True)
class Resampled:
    """A series read at a requested resolution over ``[start, end)``.

    ``values``: float64 per interval of ``resolution_s`` seconds (NaN where no data), indexed by interval start
    (UTC). ``coverage``: fraction (0…1) of each interval backed by stored points. ``gaps``: maximal runs
    ``[gap_start, gap_end)`` of missing native intervals. ``aggregation``: the rule used (mean, sum, last).
    """

    values: pd.Series
    coverage: pd.Series
    gaps: list[tuple[pd.Timestamp, pd.Timestamp]]
    start: pd.Timestamp
    end: pd.Timestamp
    resolution_s: int
    native_resolution_s: int
    aggregation: str

    @property
    def resolution(self) -> str:
        return duration_iso(self.resolution_s)

    def frame(self) -> pd.DataFrame:
        """``DataFrame`` with columns ``value`` and ``coverage``."""
        return pd.DataFrame({"value": self.values, "coverage": self.coverage})


def _gap_runs(
    present: np.ndarray, grid_us: np.ndarray, step_us: int
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Maximal runs of ``False`` in ``present`` as ``[start, end)`` timestamps on ``grid_us``."""
    if present.all():
        return []
    missing = (~present).astype(np.int8)
    edges = np.diff(np.concatenate(([0], missing, [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    return [
        (
            pd.Timestamp(int(grid_us[a]), unit="us", tz="UTC"),
            pd.Timestamp(int(grid_us[b - 1]) + step_us, unit="us", tz="UTC"),
        )
        for a, b in zip(run_starts, run_ends, strict=True)
    ]


def timeseries_resampled(
    *, series: TimeSeries, start: datetime, end: datetime, resolution_s: int | None = None
) -> Resampled:
    """Read ``series`` over ``[start, end)`` at ``resolution_s`` (default: native) with its quantity's rule.

    ``start`` is floored and ``end`` ceiled to the coarser of the two resolutions (intervals align to
    00:00 UTC). Coarser than native (downsampling): ``mean`` averages the points present in each interval
    (power, price, intensity, temperature), ``sum`` adds them (energy per interval), ``last`` keeps the latest
    (state of charge); an interval with no point is NaN and ``coverage`` says which share was present. Finer
    than native (upsampling): ``mean`` and ``last`` repeat the native value, ``sum`` splits it evenly.

    Raises:
        ValueError: naive ``start``/``end``, ``end ≤ start``, or a resolution that is neither a multiple nor a
            divisor of the native one.
    """
    native = series.resolution_s
    target = resolution_s or native
    if target % native and native % target:
        raise ValueError(
            f"resolution {duration_iso(target)} is neither a multiple nor a divisor of the series resolution "
            f"{duration_iso(native)}."
        )
    coarse_us = max(target, native) * US_PER_S
    start_us = (_to_us(start) // coarse_us) * coarse_us
    end_us = -((-_to_us(end)) // coarse_us) * coarse_us
    if end_us <= start_us:
        raise ValueError("end must be after start.")
    raw = datapoints_series(
        series=series,
        start=pd.Timestamp(start_us, unit="us", tz="UTC"),
        end=pd.Timestamp(end_us, unit="us", tz="UTC"),
    )
    native_us = native * US_PER_S
    native_grid = np.arange(start_us, end_us, native_us, dtype=np.int64)
    slots = (raw.index.as_unit("us").asi8 - start_us) // native_us
    native_values = np.full(len(native_grid), np.nan)
    native_values[slots] = raw.to_numpy()
    present = np.zeros(len(native_grid), dtype=bool)
    present[slots] = True
    gaps = _gap_runs(present, native_grid, native_us)
    aggregation = series.aggregation

    if target >= native:
        k = target // native
        shaped = native_values.reshape(-1, k)
        mask = present.reshape(-1, k)
        counts = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if aggregation == Aggregation.SUM:
                out = np.where(counts > 0, np.nansum(shaped, axis=1), np.nan)
            elif aggregation == Aggregation.LAST:
                last_idx = k - 1 - np.argmax(mask[:, ::-1], axis=1)
                out = np.where(counts > 0, shaped[np.arange(len(shaped)), last_idx], np.nan)
            else:
                out = np.where(counts > 0, np.nansum(shaped, axis=1) / np.maximum(counts, 1), np.nan)
        coverage = counts / k
    else:
        k = native // target
        out = np.repeat(native_values, k)
        if aggregation == Aggregation.SUM:
            out = out / k
        coverage = np.repeat(present.astype(float), k)
    index = pd.DatetimeIndex(
        np.arange(start_us, end_us, target * US_PER_S, dtype=np.int64).astype("datetime64[us]"), name="start"
    ).tz_localize("UTC")
    return Resampled(
        values=pd.Series(out, index=index, name=series.quantity),
        coverage=pd.Series(coverage, index=index, name="coverage"),
        gaps=gaps,
        start=pd.Timestamp(start_us, unit="us", tz="UTC"),
        end=pd.Timestamp(end_us, unit="us", tz="UTC"),
        resolution_s=target,
        native_resolution_s=native,
        aggregation=aggregation,
    )


def timeseries_frame(
    *, series: Sequence[TimeSeries], start: datetime, end: datetime, resolution_s: int
) -> pd.DataFrame:
    """Several series over ``[start, end)`` at one resolution, each resampled with its own rule, as a
    ``DataFrame`` indexed by interval start (UTC) with one float64 column per series, named by ``owner_key``,
    quantity and name (e.g. ``zone:CAISO_NP15/price``); NaN where a series has no data.

    Raises:
        ValueError: as :func:`timeseries_resampled` for any series.
    """
    columns = {}
    for item in series:
        label = f"{item.owner_key}/{item.quantity}" + (f"/{item.name}" if item.name else "")
        columns[label] = timeseries_resampled(
            series=item, start=start, end=end, resolution_s=resolution_s
        ).values
    return pd.DataFrame(columns)


def series_for(
    *,
    quantity: str,
    name: str = "",
    site: Any = None,
    battery: Any = None,
    pv_array: Any = None,
    zone: str | None = None,
) -> TimeSeries | None:
    """The series of ``quantity`` (and ``name``; ``""`` is the owner's main series, e.g. the meter) owned by the
    given site, battery, PV array or market-zone code, the finest resolution first; ``None`` if there is none."""
    owner: dict[str, Any] = {}
    if site is not None:
        owner["site"] = site
    if battery is not None:
        owner["battery"] = battery
    if pv_array is not None:
        owner["pv_array"] = pv_array
    if zone is not None:
        owner["market_zone_id"] = zone
    if len(owner) != 1:
        raise ValueError("give exactly one owner: site, battery, pv_array or zone")
    return (
        TimeSeries.objects.filter(quantity=quantity, name=name, **owner)
        .order_by("resolution_s", "pk")
        .first()
    )


#: Origin of display buckets: the Unix epoch, so buckets align with :func:`apps.dashboard.charts.resample`.
BUCKET_ORIGIN = rollups.BUCKET_ORIGIN


def _grouped_portable(*, series: TimeSeries, start: datetime, end: datetime, bucket_s: int) -> pd.DataFrame:
    points = datapoints_series(series=series, start=start, end=end)
    grouped = points.groupby(points.index.floor(f"{bucket_s}s")).agg(["mean", "min", "max", "count"])
    grouped.index = grouped.index.rename("start").as_unit("us")
    return grouped[rollups.COLUMNS].astype({"mean": float, "min": float, "max": float, "count": np.int64})


def _rollup_postgresql(series: TimeSeries, start_us: int, end_us: int, bucket_s: int) -> pd.DataFrame:
    """Whole buckets inside the range from the stored rollup, the partial buckets at its edges from the raw
    points (so a range that starts or ends inside a bucket counts only its own points)."""
    common = {"series_id": series.pk, "bucket_s": bucket_s}
    step = bucket_s * US_PER_S
    inner_start, inner_end = -(-start_us // step) * step, (end_us // step) * step
    with connection.cursor() as cursor:
        if not rollups.rollup_applies(resolution_s=series.resolution_s, bucket_s=bucket_s) or (
            inner_end <= inner_start
        ):
            return rollups.read_raw_bucketed(cursor, **common, start_us=start_us, end_us=end_us)
        parts = [rollups.read_rollup(cursor, **common, start_us=inner_start, end_us=inner_end)]
        if start_us < inner_start:
            parts.insert(
                0, rollups.read_raw_bucketed(cursor, **common, start_us=start_us, end_us=inner_start)
            )
        if inner_end < end_us:
            parts.append(rollups.read_raw_bucketed(cursor, **common, start_us=inner_end, end_us=end_us))
    return parts[0] if len(parts) == 1 else pd.concat(parts)


def timeseries_rollup(
    *, series: TimeSeries, start: datetime, end: datetime, resolution_s: int
) -> pd.DataFrame:
    """Points of ``series`` with ``start ≤ t < end`` aggregated into buckets of ``resolution_s`` seconds aligned
    to the Unix epoch (UTC): mean, min, max and count per bucket.

    On PostgreSQL the 15-minute and 1-hour buckets come from the stored rollups
    (:mod:`apps.telemetry.rollups`) for a series finer than the bucket, the partial buckets at the edges of the
    range and any other width from the raw points (``date_bin … GROUP BY`` in the database); on other databases
    (SQLite) the points are read and grouped with pandas. Same result either way.

    Returns:
        DataFrame indexed by bucket start (``DatetimeIndex`` UTC, named ``start``, sorted) with float64 columns
        ``mean``, ``min``, ``max`` (the series' unit) and int ``count`` (points in the bucket); buckets without
        points are absent.

    Raises:
        ValueError: ``start`` or ``end`` is naive, or ``resolution_s`` is not a positive number of seconds.
    """
    if resolution_s <= 0:
        raise ValueError("resolution_s (bucket_s) must be a positive number of seconds.")
    start_us, end_us = _to_us(start), _to_us(end)
    if connection.vendor != "postgresql":
        return _grouped_portable(series=series, start=start, end=end, bucket_s=resolution_s)
    if end_us <= start_us:
        return _grouped_portable(series=series, start=start, end=start, bucket_s=resolution_s)
    return _rollup_postgresql(series, start_us, end_us, resolution_s)


def datapoints_bucketed(*, series: TimeSeries, start: datetime, end: datetime, bucket_s: int) -> pd.DataFrame:
    """:func:`timeseries_rollup` with buckets of ``bucket_s`` seconds, for charts over long ranges: a year of
    15-minute points in daily buckets is 365 rows.

    Raises:
        ValueError: ``start`` or ``end`` is naive, or ``bucket_s`` is not a positive number of seconds.
    """
    if bucket_s <= 0:
        raise ValueError("bucket_s must be a positive number of seconds.")
    return timeseries_rollup(series=series, start=start, end=end, resolution_s=bucket_s)


def it_load_series(*, site: Any) -> TimeSeries | None:
    """The series a site's IT load is modelled from: its IT demand as it arrives (the ``it_power_kw`` series named
    :data:`~apps.telemetry.choices.IT_DEMAND_SERIES`) when it reports one, else its metered IT power; ``None``
    if it has neither."""
    from ..choices import IT_DEMAND_SERIES, Quantity

    return series_for(quantity=Quantity.IT_POWER_KW, name=IT_DEMAND_SERIES, site=site) or series_for(
        quantity=Quantity.IT_POWER_KW, site=site
    )


# System-job reads (no caller scoping)


def timeseries_pv_of_site(*, site: Any) -> list[TimeSeries]:
    """The site's PV power series: those owned by the site itself, or (when it has none) those of its PV
    arrays; each in the database's order."""
    from ..choices import Quantity

    own = list(TimeSeries.objects.filter(quantity=Quantity.PV_POWER_KW, site=site))
    return own or list(TimeSeries.objects.filter(quantity=Quantity.PV_POWER_KW, pv_array__site=site))


def datapoint_last_start(*, series: TimeSeries) -> datetime | None:
    """Start of the series' latest data point, or ``None`` for an empty series."""
    return DataPoint.objects.filter(series=series).order_by("-start").values_list("start", flat=True).first()


# Site state and SLA figures (.state, its __all__), and system-job reads for forecasting, in their own modules.
from .state import *  # noqa: E402, F403
from .system import (  # noqa: E402, F401  (re-exported)
    site_ids_with_series,
    timeseries_get_with_owner,
    timeseries_list_active_site_load,
    timeseries_list_zone_signals,
)
