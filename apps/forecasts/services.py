"""Writes for forecasts: store a run and its values atomically and idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import transaction

from apps.telemetry.models import TimeSeries

from .choices import RunKind, RunStatus
from .models import ForecastRun, ForecastValue


@dataclass(frozen=True)
class RunSpec:
    """Identity and provenance of a forecast run."""

    model_name: str
    model_version: str
    issued_at: datetime
    kind: str = RunKind.DAY_AHEAD
    training_start: datetime | None = None
    training_end: datetime | None = None
    metrics: dict | None = None


def forecast_run_store(
    *, series: TimeSeries, spec: RunSpec, values: pd.DataFrame, duration_s: float | None = None
) -> ForecastRun:
    """Store a successful run of ``series`` with its quantiles, all or nothing.

    ``values``: DataFrame indexed by interval start (tz-aware), columns ``p10``, ``p50``, ``p90`` in the series'
    unit, at the series' resolution. Quantiles are made non-crossing by sorting each row (Chernozhukov,
    Fernández-Val & Galichon 2010, "Quantile and probability curves without crossing"). Idempotent: a run with
    the same series, model, kind and issue time is replaced.

    Raises:
        ValueError: empty values, a naive index, missing columns, non-finite values, or values issued after
            the horizon they forecast starts (a forecast must not be issued after the fact).
    """
    missing = {"p10", "p50", "p90"} - set(values.columns)
    if missing:
        raise ValueError(f"values lack column(s): {sorted(missing)}")
    if values.empty:
        raise ValueError("a forecast run needs at least one value")
    index = pd.DatetimeIndex(values.index)
    if index.tz is None:
        raise ValueError("the values' index must be timezone-aware")
    quantiles = np.sort(values[["p10", "p50", "p90"]].to_numpy(dtype=float), axis=1)
    if not np.isfinite(quantiles).all():
        raise ValueError("forecast values must be finite")
    index = index.tz_convert("UTC")
    horizon_start = index.min().to_pydatetime()
    horizon_end = (index.max() + pd.Timedelta(seconds=series.resolution_s)).to_pydatetime()
    with transaction.atomic():
        ForecastRun.objects.filter(
            series=series, model_name=spec.model_name, kind=spec.kind, issued_at=spec.issued_at
        ).delete()
        run = ForecastRun.objects.create(
            series=series,
            kind=spec.kind,
            model_name=spec.model_name,
            model_version=spec.model_version,
            issued_at=spec.issued_at,
            horizon_start=horizon_start,
            horizon_end=horizon_end,
            resolution_s=series.resolution_s,
            training_start=spec.training_start,
            training_end=spec.training_end,
            metrics=spec.metrics or {},
            status=RunStatus.SUCCEEDED,
            duration_s=duration_s,
        )
        ForecastValue.objects.bulk_create(
            [
                ForecastValue(run=run, start=start.to_pydatetime(), p10=row[0], p50=row[1], p90=row[2])
                for start, row in zip(index, quantiles, strict=True)
            ],
            batch_size=2000,
        )
    return run


def forecast_run_fail(
    *, series: TimeSeries, spec: RunSpec, error: str, horizon: tuple[datetime, datetime]
) -> ForecastRun:
    """Record a failed run (so the dashboard shows it) without values."""
    run, _ = ForecastRun.objects.update_or_create(
        series=series,
        model_name=spec.model_name,
        kind=spec.kind,
        issued_at=spec.issued_at,
        defaults={
            "model_version": spec.model_version,
            "horizon_start": horizon[0],
            "horizon_end": horizon[1],
            "resolution_s": series.resolution_s,
            "status": RunStatus.FAILED,
            "error": error[:5000],
        },
    )
    return run
