"""Forecast runs and their values, with provenance: every value carries the belief time of its run, so that
settlement and bidding can ask what was known at a given moment (e.g. gate closure). Also the fitted models
forecasts are made with: :class:`TrainedModel` (a series' load model) and :class:`ComputePowerModel` (a site's
utilisation → IT power map, which turns a utilisation forecast into an IT power forecast)."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from apps.assets.models import Site
from apps.core.models import TimeStampedModel
from apps.telemetry.models import TimeSeries

from .choices import RunKind, RunStatus


class ForecastRun(TimeStampedModel):
    """One forecast of ``series`` issued at ``issued_at`` (its belief time) for ``[horizon_start, horizon_end)``.

    ``metrics`` holds the backtest scores of the model that made it (MAE, RMSE, MAPE, pinball, skill vs
    baselines); ``training_start``/``training_end`` the window it was fitted on. Unique per series, model and
    issue time, so a task that runs twice stores one run.
    """

    series = models.ForeignKey(
        TimeSeries, on_delete=models.CASCADE, related_name="forecast_runs", verbose_name="series"
    )
    kind = models.CharField(
        max_length=12, choices=RunKind.choices, default=RunKind.DAY_AHEAD, verbose_name="kind"
    )
    model_name = models.CharField(max_length=64, verbose_name="model")
    model_version = models.CharField(max_length=32, verbose_name="model version")
    issued_at = models.DateTimeField(db_index=True, verbose_name="issued at (belief time)")
    horizon_start = models.DateTimeField(verbose_name="horizon start")
    horizon_end = models.DateTimeField(verbose_name="horizon end")
    resolution_s = models.PositiveIntegerField(verbose_name="resolution (s)")
    training_start = models.DateTimeField(null=True, blank=True, verbose_name="training window start")
    training_end = models.DateTimeField(null=True, blank=True, verbose_name="training window end")
    metrics = models.JSONField(default=dict, blank=True, verbose_name="backtest metrics")
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING, verbose_name="status"
    )
    error = models.TextField(blank=True, verbose_name="error")
    duration_s = models.FloatField(null=True, blank=True, verbose_name="duration (s)")

    class Meta:
        ordering = ["series", "-issued_at"]
        verbose_name = "forecast run"
        verbose_name_plural = "forecast runs"
        constraints = [
            models.UniqueConstraint(
                fields=["series", "model_name", "kind", "issued_at"], name="forecast_run_unique_issue"
            ),
            models.CheckConstraint(
                condition=models.Q(horizon_end__gt=models.F("horizon_start")),
                name="forecast_run_horizon_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.model_name} @ {self.issued_at:%Y-%m-%d %H:%M}"


class ForecastValue(models.Model):
    """Quantiles of one interval ``[start, start + resolution)`` of a run, in the series' unit."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="values", verbose_name="run")
    start = models.DateTimeField(verbose_name="start")
    p10 = models.FloatField(verbose_name="p10")
    p50 = models.FloatField(verbose_name="p50")
    p90 = models.FloatField(verbose_name="p90")

    class Meta:
        ordering = ["run", "start"]
        verbose_name = "forecast value"
        verbose_name_plural = "forecast values"
        constraints = [
            models.UniqueConstraint(fields=["run", "start"], name="forecast_value_unique_start"),
            models.CheckConstraint(
                condition=models.Q(p10__lte=models.F("p50")) & models.Q(p50__lte=models.F("p90")),
                name="forecast_value_quantiles_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} p50={self.p50:g}"


class TrainedModel(models.Model):
    """A fitted model of a series, persisted for reuse until the next scheduled retraining."""

    series = models.ForeignKey(
        TimeSeries, on_delete=models.CASCADE, related_name="trained_models", verbose_name="series"
    )
    model_name = models.CharField(max_length=64, verbose_name="model")
    model_version = models.CharField(max_length=32, verbose_name="model version")
    trained_at = models.DateTimeField(verbose_name="trained at")
    training_start = models.DateTimeField(verbose_name="training window start")
    training_end = models.DateTimeField(verbose_name="training window end")
    artifact = models.BinaryField(verbose_name="serialised model")
    metrics = models.JSONField(default=dict, blank=True, verbose_name="backtest metrics")

    class Meta:
        ordering = ["series", "-trained_at"]
        get_latest_by = "trained_at"
        verbose_name = "trained model"
        verbose_name_plural = "trained models"

    def __str__(self) -> str:
        return f"{self.series} {self.model_name} trained {self.trained_at:%Y-%m-%d}"


class ComputePowerModel(TimeStampedModel):
    """A site's fitted utilisation → IT power model (:class:`forecasting.compute_power.ComputePowerModel`).

    ``knots_utilization`` / ``power_at_knots``: the model; ``power_at_knots`` is a fraction of ``rated_it_kw``.
    The error figures are on held-out whole days (MAE and RMSE as a fraction of rated power, MAPE %, R²).
    ``fitted_at``: when the model was fitted (the clock of the fit, simulated during a replay), recorded in the
    forecasts derived through it. It lives here, below the markets layer, so that a site reporting only
    utilisation still gets an IT power forecast and a flexibility envelope
    (:mod:`apps.forecasts.compute_power`).
    """

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, related_name="compute_power_model", verbose_name="site"
    )
    knots_utilization = models.JSONField(verbose_name="utilisation knots")
    power_at_knots = models.JSONField(verbose_name="power at knots (fraction of rated)")
    rated_it_kw = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="rated IT power (kW)")
    mae = models.FloatField(verbose_name="held-out MAE (fraction of rated)")
    rmse = models.FloatField(verbose_name="held-out RMSE (fraction of rated)")
    mape_pct = models.FloatField(verbose_name="held-out MAPE (%)")
    r2 = models.FloatField(verbose_name="held-out R²")
    n_train = models.PositiveIntegerField(verbose_name="training samples")
    n_test = models.PositiveIntegerField(verbose_name="test samples")
    source = models.CharField(max_length=300, blank=True, default="", verbose_name="data used")
    fitted_at = models.DateTimeField(null=True, blank=True, verbose_name="fitted at")

    class Meta:
        ordering = ["site_id"]
        verbose_name = "compute-power model"
        verbose_name_plural = "compute-power models"

    def __str__(self) -> str:
        return f"{self.site} (R² {self.r2:.2f})"


class ModelSelection(TimeStampedModel):
    """Which model forecasts ``series`` (issue #21: never worse than a baseline), chosen at ``selected_at`` (the
    product clock) by a rolling day-ahead backtest on the validation days before it
    (:func:`forecasting.selection.select_model`).

    ``status``/``progress_pct``/``stage`` show a running selection's progress in the admin (one step per
    candidate); ``winner`` is the model or baseline used from then on, ``switched`` True when a baseline beat
    every model (the dashboard says so), ``reason`` the sentence why, ``scores`` the validation MAE of every
    candidate, the validation window, the training window and the baselines' residual bands.
    """

    series = models.ForeignKey(
        TimeSeries, on_delete=models.CASCADE, related_name="model_selections", verbose_name="series"
    )
    selected_at = models.DateTimeField(verbose_name="selected at")
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING, verbose_name="status"
    )
    progress_pct = models.FloatField(default=0.0, verbose_name="progress (%)")
    stage = models.CharField(max_length=64, blank=True, default="", verbose_name="stage")
    winner = models.CharField(max_length=64, blank=True, default="", verbose_name="model in use")
    switched = models.BooleanField(default=False, verbose_name="switched to a baseline")
    reason = models.TextField(blank=True, default="", verbose_name="reason")
    train_days = models.PositiveIntegerField(null=True, blank=True, verbose_name="training window (days)")
    scores = models.JSONField(default=dict, blank=True, verbose_name="validation scores")
    error = models.TextField(blank=True, default="", verbose_name="error")

    class Meta:
        ordering = ["series", "-selected_at"]
        verbose_name = "model selection"
        verbose_name_plural = "model selections"
        constraints = [
            models.UniqueConstraint(fields=["series", "selected_at"], name="model_selection_unique_time"),
        ]

    def __str__(self) -> str:
        return f"{self.series} → {self.winner or self.status} @ {self.selected_at:%Y-%m-%d %H:%M}"
