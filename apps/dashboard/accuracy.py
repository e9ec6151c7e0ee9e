"""Read model of the forecast accuracy page: how the stored forecasts did against what was then metered, next to
the reference forecasts every model must beat, per series over a recent window.

For each series with successful forecast runs (visible to the caller through
:func:`apps.telemetry.selectors.timeseries_list`), the window is the last ``days`` days that have both stored
forecasts and actuals. The forecast of an interval is the latest run issued at or before the window's end
(:func:`apps.forecasts.selectors.forecast_known_at`; day-ahead runs are issued the day before). The baselines
are built from the stored actuals with the same issue times as the runs, so they know exactly what the model
knew (:mod:`forecasting.baselines`): persistence (same time on the latest day fully known at issue) and seasonal
naive (same time one week earlier). Metrics from :mod:`forecasting.metrics`: MAE (series unit), MAPE (%, over
actuals above 1 % of the mean, so near-zero PV at dawn does not explode it) and the mean pinball loss over
p10/p50/p90 (Koenker & Bassett 1978; a point baseline is scored as all three quantiles).

Only uncontrolled quantities are scored as forecasts (issue #21): a site's IT demand as it arrives, PV, prices,
carbon. The IT power a site served follows the product's own plan, so where the site reports its demand series
(:data:`~apps.telemetry.choices.IT_DEMAND_SERIES`) its served IT power is left out of the forecast scores; a site
without a demand series is forecast from its served IT power, which is then scored (it is the only demand signal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from apps.accounts.principal import Principal
from apps.forecasts.choices import RunStatus
from apps.forecasts.selectors import forecast_known_at, forecast_run_list, model_selection_latest
from apps.telemetry.choices import IT_DEMAND_SERIES, Quantity, series_label
from apps.telemetry.models import TimeSeries
from apps.telemetry.selectors import datapoints_series, timeseries_extent, timeseries_list
from forecasting import baselines, metrics
from forecasting.schedule import Origin

from .charts import Line, bar_chart, timeseries_chart

DEFAULT_DAYS = 14
#: History read before the window so that the week-ago baseline is known at every issue time.
HISTORY = pd.Timedelta(days=9)
METHODS = ("forecast", "seasonal_naive", "persistence")
LABELS = {
    "forecast": "Stored forecast",
    "seasonal_naive": "Seasonal naive (1 week)",
    "persistence": "Persistence",
}


@dataclass(frozen=True)
class Score:
    """Errors of one method on one series: MAE in the series' unit, MAPE in %, pinball loss in the unit."""

    mae: float | None
    mape_pct: float | None
    pinball: float | None


@dataclass(frozen=True)
class SeriesAccuracy:
    """Scores of the stored forecast and of the baselines on one series over ``[start, end)`` (the first and
    last scored intervals); ``intervals`` is
    the number of intervals with a forecast, an actual and both baselines (all methods are scored on the same
    ones); ``skill_pct`` = 100 × (1 − MAE forecast / MAE seasonal naive); ``selection`` the reason of the
    newest model selection (:class:`~apps.forecasts.models.ModelSelection`), ``switched`` True when it switched
    the series to a baseline that beat the model."""

    series: TimeSeries
    label: str
    unit: str
    models: str
    start: pd.Timestamp
    end: pd.Timestamp
    intervals: int
    scores: dict[str, Score]
    daily_mape: pd.DataFrame
    selection: str = ""
    switched: bool = False

    @property
    def skill_pct(self) -> float | None:
        mine, naive = self.scores["forecast"].mae, self.scores["seasonal_naive"].mae
        if mine is None or not naive:
            return None
        return 100.0 * metrics.skill(mine, naive)


@dataclass(frozen=True)
class AccuracySummary:
    series: list[SeriesAccuracy]
    mape_chart: dict
    daily_chart: dict
    days: int


def _label(series: TimeSeries) -> str:
    owner = series.site or series.pv_array or series.battery or series.market_zone
    return f"{getattr(owner, 'name', owner)} · {series_label(series.quantity, series.name)}"


def _controlled(series: list[TimeSeries]) -> set[int]:
    """Ids of the served IT power series of sites that also have a demand series among ``series``: what ran
    follows the plan, so it is not scored as a forecast."""
    with_demand = {
        s.site_id for s in series if s.quantity == Quantity.IT_POWER_KW and s.name == IT_DEMAND_SERIES
    }
    return {
        s.pk for s in series if s.quantity == Quantity.IT_POWER_KW and not s.name and s.site_id in with_demand
    }


def _score(actual: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, floor: float) -> Score:
    try:
        mape = metrics.mape(actual, p50, min_abs_actual=floor)
    except ValueError:
        mape = None
    return Score(
        mae=metrics.mae(actual, p50),
        mape_pct=mape,
        pinball=metrics.mean_pinball_loss(actual, {0.1: p10, 0.5: p50, 0.9: p90}),
    )


def series_accuracy(*, series: TimeSeries, days: int = DEFAULT_DAYS) -> SeriesAccuracy | None:
    """Scores of ``series`` over its last ``days`` days with forecasts and actuals; ``None`` when there is no
    interval to score. ``series`` must be visible to the caller (scoped by :func:`forecast_accuracy`)."""
    _, newest, _ = timeseries_extent(series=series)
    runs = forecast_run_list(series_ids=[series.pk]).filter(status=RunStatus.SUCCEEDED)
    horizon = runs.order_by("-horizon_end").values_list("horizon_end", flat=True).first()
    if newest is None or horizon is None:
        return None
    step = pd.Timedelta(seconds=series.resolution_s)
    end = min(pd.Timestamp(newest) + step, pd.Timestamp(horizon))
    start = end - pd.Timedelta(days=days)
    known = forecast_known_at(series=series, start=start, end=end, belief_time=end)
    if known.empty:
        return None
    history = datapoints_series(series=series, start=start - HISTORY, end=end)
    if history.empty:
        return None
    grid = pd.date_range(start - HISTORY, end, freq=step, inclusive="left")
    actual_all = history.reindex(grid)
    origins = [
        Origin(issue_time=pd.Timestamp(issued), target_index=pd.DatetimeIndex(group.index).sort_values())
        for issued, group in known.groupby("issued_at")
    ]
    reference = {
        "seasonal_naive": baselines.seasonal_naive(actual_all, origins),
        "persistence": baselines.persistence(actual_all, origins),
    }
    frame = known[["p10", "p50", "p90"]].astype(float).copy()
    frame["actual"] = actual_all.reindex(frame.index)
    for name, values in reference.items():
        frame[name] = values[~values.index.duplicated(keep="last")].reindex(frame.index)
    frame = frame.dropna()
    if frame.empty:
        return None
    actual = frame["actual"].to_numpy()
    floor = 0.01 * float(np.mean(np.abs(actual)))
    p10, p50, p90 = (frame[q].to_numpy() for q in ("p10", "p50", "p90"))
    scores = {"forecast": _score(actual, p10, p50, p90, floor)}
    for name in reference:
        point = frame[name].to_numpy()
        scores[name] = _score(actual, point, point, point, floor)
    ape = frame[["p50", *reference]].sub(frame["actual"], axis=0).abs().div(frame["actual"].abs(), axis=0)
    ape = ape[frame["actual"].abs() > floor].rename(columns={"p50": "forecast"}) * 100.0
    daily = ape.groupby(ape.index.floor("D")).mean()
    model_names = ", ".join(sorted(set(runs.values_list("model_name", flat=True))))
    chosen = model_selection_latest(series=series)
    return SeriesAccuracy(
        series=series,
        label=_label(series),
        unit=series.unit,
        models=model_names,
        start=frame.index.min(),
        end=frame.index.max() + step,
        intervals=len(frame),
        scores=scores,
        daily_mape=daily,
        selection=chosen.reason if chosen else "",
        switched=bool(chosen and chosen.switched),
    )


def forecast_accuracy(*, principal: Principal, days: int = DEFAULT_DAYS) -> AccuracySummary:
    """Accuracy of every forecast series the caller may see, with a MAPE chart per series and method and the
    daily MAPE averaged over the series (each series weighs the same)."""
    visible = timeseries_list(principal=principal)
    ids = (
        forecast_run_list()
        .filter(status=RunStatus.SUCCEEDED, series__in=visible.values("pk"))
        .values_list("series_id", flat=True)
        .distinct()
    )
    forecast = list(visible.filter(pk__in=list(ids)).order_by("owner_key", "quantity", "name"))
    served = _controlled(forecast)
    results = [
        r for s in forecast if s.pk not in served and (r := series_accuracy(series=s, days=days)) is not None
    ]
    mape_chart = bar_chart(
        categories=[r.label for r in results],
        series={LABELS[m]: [r.scores[m].mape_pct or 0.0 for r in results] for m in METHODS},
        unit="% MAPE",
        empty="No forecast has been scored yet: forecasts and the actuals they forecast are both needed.",
    )
    daily_lines = []
    if results:
        pooled = pd.concat([r.daily_mape for r in results]).groupby(level=0).mean().sort_index()
        for m in METHODS:
            daily_lines.append(Line(LABELS[m], pooled[m], style="dashed" if m != "forecast" else "line"))
    daily_chart = timeseries_chart(lines=daily_lines, unit="% MAPE", empty="No day scored yet.")
    return AccuracySummary(series=results, mape_chart=mape_chart, daily_chart=daily_chart, days=days)
