"""Compute ↔ power at the forecasts layer: fitting and reading each site's utilisation → IT power model
(:class:`~apps.forecasts.models.ComputePowerModel`), and the IT power forecast of a site that reports only
utilisation.

Why here: the model is a fitted model, like :class:`~apps.forecasts.models.TrainedModel`, and the markets layer
(flexibility envelopes, :mod:`apps.markets.portfolio`) must read what it produces; apps above (greenpower: API,
page, jobs) call these functions.

Derived IT power forecast (:func:`it_power_forecast_from_utilization`) — stored, not computed on read:

1. the site's main ``utilization_fraction`` series is forecast day-ahead by the existing load forecaster
   (:data:`apps.forecasts.services.RECIPES` ``gbm_load``: gradient boosting, p10/p50/p90) — stored as a run of
   that series, with its belief time;
2. each quantile, clipped to the physical range 0…1, is mapped through the site's fitted model
   (:meth:`forecasting.compute_power.ComputePowerModel.predict_kw`). The model is non-decreasing, so the
   q-quantile of utilisation maps to the q-quantile of IT power (quantiles are equivariant under monotone maps;
   e.g. Koenker, *Quantile Regression*, 2005, §2.2). That band holds the utilisation forecast's uncertainty
   only, so p10/p90 are then widened by the map's held-out RMSE (:func:`forecasting.compute_power.widen_band`;
   on the Google 2019 cell-a traces the p10–p90 coverage goes from 25–33 % to 69–75 %, nominal 80 %,
   ``benchmarks/greenpower/README.md``); p50 is the mapped median;
3. the result is stored as a run of the site's *derived* IT power series (quantity ``it_power_kw``, name
   :data:`DERIVED_IT_SERIES_NAME`, no data points of its own) with model name :data:`DERIVED_MODEL_NAME`, the
   compute-power model's id and fit time in ``model_version`` and its error and the utilisation run in
   ``metrics``.

Stored rather than computed on read because bids and settlement ask what was known at a belief time: a stored
run keeps the conversion made with the model of that day, while converting on read would silently rewrite past
beliefs whenever the model is refitted (weekly). The derived series is named, so the site still has no *main*
IT power series: the meter-based paths (fitting, the green ledger, the load forecast cycle) do not mistake it for
metered data.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db.models import QuerySet

from apps.assets.models import Site
from apps.assets.selectors import site_get, site_ids_active_among, site_list_by_ids
from apps.core.errors import DomainError
from apps.telemetry.choices import Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import series_for, site_ids_with_series, timeseries_resampled
from apps.telemetry.services import timeseries_create
from forecasting import compute_power

from .choices import RunKind, RunStatus
from .models import ComputePowerModel, ForecastRun
from .services import (
    LOAD_MODEL_NAME,
    LOAD_MODEL_VERSION,
    RECIPES,
    RETRAIN_EVERY,
    RunSpec,
    _forecast,
    forecast_run_store,
)

#: Name of a site's IT power series whose forecasts are derived from utilisation (it holds no measurements).
DERIVED_IT_SERIES_NAME = "derived_from_utilization"
#: Model name of the derived IT power runs.
DERIVED_MODEL_NAME = "compute_power_derived"
#: Days of telemetry the weekly refit uses (the last quarter of them, at least one, held out for the error).
REFIT_DAYS = 28


# --- reads -------------------------------------------------------------------------------------------------------


def compute_model_of_site(*, site: Site) -> ComputePowerModel | None:
    """The site's stored compute-power model, if it has one (not scoped: callers pass a site they may see)."""
    return ComputePowerModel.objects.filter(site=site).first()


def compute_model_list_for_sites(*, sites: QuerySet[Site]) -> QuerySet[ComputePowerModel]:
    """The stored models of ``sites`` (callers scope ``sites`` to the principal)."""
    return ComputePowerModel.objects.filter(site__in=sites).select_related("site")


def compute_model_of(stored: ComputePowerModel) -> compute_power.ComputePowerModel:
    """The pure-library model (:class:`forecasting.compute_power.ComputePowerModel`, power as a fraction of
    ``stored.rated_it_kw``) of a stored one."""
    return compute_power.ComputePowerModel.from_json(
        {"knots_utilization": stored.knots_utilization, "power_at_knots": stored.power_at_knots}
    )


def utilization_series_of(*, site: Site) -> TimeSeries | None:
    """The site's utilisation series: its main one (name ``""``), else the finest other one; None without any."""
    return (
        series_for(quantity=Quantity.UTILIZATION_FRACTION, site=site)
        or site.time_series.filter(quantity=Quantity.UTILIZATION_FRACTION)
        .order_by("resolution_s", "pk")
        .first()
    )


def derived_it_series_of(*, site: Site) -> TimeSeries | None:
    """The site's derived IT power series (forecasts converted from utilisation), if one was created."""
    return series_for(quantity=Quantity.IT_POWER_KW, name=DERIVED_IT_SERIES_NAME, site=site)


def utilization_only_sites_due(*, issue_time: datetime) -> list[int]:
    """Active sites that report utilisation but no IT power (no main ``it_power_kw`` series), have a fitted
    compute-power model, whose local time at ``issue_time`` is 10:00 (as the metered load's day-ahead cycle,
    :func:`apps.forecasts.selectors.load_series_due`) and that have no derived day-ahead run issued then."""
    due = []
    with_model = ComputePowerModel.objects.values_list("site_id", flat=True)
    reporting = site_ids_with_series(quantity=Quantity.UTILIZATION_FRACTION)
    sites = site_list_by_ids(site_ids=site_ids_active_among(site_ids=reporting.intersection(with_model)))
    for site in sites:
        local = issue_time.astimezone(ZoneInfo(site.timezone))
        if local.hour != 10 or local.minute != 0:
            continue
        if series_for(quantity=Quantity.IT_POWER_KW, site=site) is not None:
            continue
        derived = derived_it_series_of(site=site)
        if (
            derived is not None
            and ForecastRun.objects.filter(
                series=derived, issued_at=issue_time, kind=RunKind.DAY_AHEAD, status=RunStatus.SUCCEEDED
            ).exists()
        ):
            continue
        due.append(site.pk)
    return due


def refit_sites_due() -> list[int]:
    """Active sites with both a utilisation series and a main IT power series (a model can be fitted)."""
    both = site_ids_with_series(quantity=Quantity.UTILIZATION_FRACTION) & site_ids_with_series(
        quantity=Quantity.IT_POWER_KW, name=""
    )
    return site_ids_active_among(site_ids=both)


# --- writes ------------------------------------------------------------------------------------------------------


def compute_model_fit(
    *, site: Site, start: datetime, end: datetime, segments: int = 4, fitted_at: datetime | None = None
) -> ComputePowerModel:
    """Fit the site's utilisation → IT power model on its telemetry and store it (one per site, replaced) with
    its held-out error. No permission check: the caller has decided the site may be fitted.

    Data: the site's utilisation series (:func:`utilization_series_of`) and its main ``it_power_kw`` series, both
    read at the coarser of their resolutions over ``[start, end)``; power is divided by the site's IT capacity
    (rated kW). The last quarter of the days (at least one) is held out for the error
    (:func:`forecasting.compute_power.fit_holdout`). ``fitted_at`` (default ``end``) is recorded on the model.

    Raises:
        DomainError: naming the field — no series (``site``), too little overlapping data (``start``), a bad
            ``segments`` or ``end`` not after ``start``.
    """
    if not 1 <= segments <= 12:
        raise DomainError("segments must be between 1 and 12.", field="segments")
    if end <= start:
        raise DomainError("end must be after start.", field="end")
    util = utilization_series_of(site=site)
    it = series_for(quantity=Quantity.IT_POWER_KW, site=site)
    if util is None:
        raise DomainError("the site has no utilization_fraction series.", field="site")
    if it is None:
        raise DomainError("the site has no it_power_kw series.", field="site")
    step = max(util.resolution_s, it.resolution_s)
    u = timeseries_resampled(series=util, start=start, end=end, resolution_s=step).values
    p = timeseries_resampled(series=it, start=start, end=end, resolution_s=step).values
    both = u.notna() & p.notna()
    u, p = u[both], p[both]
    days = u.index.floor("D")
    unique_days = days.unique().sort_values()
    if len(unique_days) < 2 or len(u) < 4 * segments:
        raise DomainError(
            "too little overlapping utilisation and IT power data: need two days or more.", field="start"
        )
    n_test = max(1, len(unique_days) // 4)
    rated = float(site.it_capacity_kw)
    try:
        model, report = compute_power.fit_holdout(
            u.to_numpy(),
            p.to_numpy() / rated,
            np.asarray(days),
            test_days=np.asarray(unique_days[-n_test:]),
            segments=segments,
        )
    except ValueError as exc:
        raise DomainError(str(exc), field="site") from exc
    fields = {
        "knots_utilization": model.to_json()["knots_utilization"],
        "power_at_knots": model.to_json()["power_at_knots"],
        "rated_it_kw": rated,
        "mae": report.mae,
        "rmse": report.rmse,
        "mape_pct": report.mape_pct,
        "r2": report.r2 if math.isfinite(report.r2) else 0.0,
        "n_train": report.n_train,
        "n_test": report.n_test,
        "source": f"{util} vs {it}, {start:%Y-%m-%d}..{end:%Y-%m-%d}, last {n_test} day(s) held out"[:300],
        "fitted_at": fitted_at or end,
    }
    stored, _ = ComputePowerModel.objects.update_or_create(site=site, defaults=fields)
    return stored


def compute_model_refit(*, site_id: int, now: datetime, days: int = REFIT_DAYS) -> ComputePowerModel | None:
    """Refit a site's model on the last ``days`` whole UTC days of its telemetry before ``now`` (the weekly job).

    Returns the new model, or None when the site lacks a utilisation or a main IT power series, or has too
    little overlapping data (the old model, if any, is kept).

    Raises:
        Site.DoesNotExist: unknown site.
    """
    site = site_get(site_id=site_id)
    end = pd.Timestamp(now).tz_convert("UTC").floor("D").to_pydatetime()
    try:
        return compute_model_fit(site=site, start=end - timedelta(days=days), end=end, fitted_at=now)
    except DomainError:
        return None


def _derived_it_series(site: Site, resolution: str) -> TimeSeries:
    existing = derived_it_series_of(site=site)
    if existing is not None:
        return existing
    return timeseries_create(
        principal=None,
        owner=site,
        quantity=Quantity.IT_POWER_KW,
        resolution=resolution,
        name=DERIVED_IT_SERIES_NAME,
        source="derived: day-ahead utilisation forecast × the site's compute-power model (no measurements)",
    )


def it_power_forecast_from_utilization(
    *, site_id: int, issue_time: datetime, train_days: int | None = None
) -> ForecastRun:
    """Day-ahead IT power forecast of a site that reports utilisation, derived through its compute-power model
    (steps and rationale in the module docstring), issued at ``issue_time`` (its belief time).

    Returns the derived run: values in kW at the utilisation series' resolution, p10 ≤ p50 ≤ p90; ``metrics``
    holds ``utilization_run`` (the id of the stored utilisation run), ``compute_model`` (id), ``fitted_at``,
    ``rated_it_kw``, the model's held-out ``mae``/``r2`` (fractions of rated power) and
    ``band_widened_by_rmse_kw``. Idempotent per issue time.

    Raises:
        Site.DoesNotExist: unknown site.
        ValueError: no utilisation series, no compute-power model, or too little utilisation history (as
            :func:`apps.forecasts.services.forecast_day_ahead`).
    """
    t0 = time.perf_counter()
    site = site_get(site_id=site_id)
    util = utilization_series_of(site=site)
    if util is None:
        raise ValueError(f"site {site.pk} has no utilization_fraction series")
    stored = compute_model_of_site(site=site)
    if stored is None:
        raise ValueError(f"site {site.pk} has no fitted compute-power model")
    model = compute_model_of(stored)
    util_run = _forecast(
        series=util,
        recipe=RECIPES[LOAD_MODEL_NAME],
        issue_time=issue_time,
        retrain_every=RETRAIN_EVERY,
        train_days=train_days,
    )
    rows = list(util_run.values.order_by("start").values_list("start", "p10", "p50", "p90"))
    index = pd.DatetimeIndex([r[0] for r in rows]).tz_convert("UTC")
    quantiles = np.clip(np.array([r[1:] for r in rows], dtype=np.float64), 0.0, 1.0)
    kw = model.predict_kw(quantiles, rated_kw=stored.rated_it_kw)
    map_rmse_kw = stored.rmse * stored.rated_it_kw
    kw[:, 0], kw[:, 2] = compute_power.widen_band(kw[:, 0], kw[:, 1], kw[:, 2], rmse=map_rmse_kw)
    values = pd.DataFrame(kw, index=index, columns=["p10", "p50", "p90"])
    fitted = stored.fitted_at or stored.updated_at
    spec = RunSpec(
        model_name=DERIVED_MODEL_NAME,
        model_version=f"{LOAD_MODEL_VERSION}+cpm{stored.pk}@{fitted:%Y%m%dT%H%MZ}"[:32],
        issued_at=issue_time,
        kind=RunKind.DAY_AHEAD,
        training_start=util_run.training_start,
        training_end=util_run.training_end,
        metrics={
            "utilization_run": util_run.pk,
            "compute_model": stored.pk,
            "fitted_at": fitted.isoformat(),
            "rated_it_kw": stored.rated_it_kw,
            "compute_model_mae": stored.mae,
            "compute_model_r2": stored.r2,
            "band_widened_by_rmse_kw": map_rmse_kw,
        },
    )
    series = _derived_it_series(site, util.resolution)
    return forecast_run_store(series=series, spec=spec, values=values, duration_s=time.perf_counter() - t0)
