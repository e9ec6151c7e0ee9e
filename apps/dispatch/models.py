"""Dispatch: versioned plans that split an activation across sites, their setpoints, and delivery to sites.

Power in kW (positive = consumption; battery positive = charging), times aware UTC, intervals half-open.
"""

from __future__ import annotations

from django.db import models

from apps.assets.models import Site
from apps.core.models import TimeStampedModel
from apps.markets.models import Activation

from .choices import Channel, DeliveryStatus, PlanKind, PlanStatus, ReplanStatus


class WebhookEndpoint(TimeStampedModel):
    """Where a site's control system receives setpoints: HTTPS URL and the shared secret of the HMAC-SHA256
    signature (stored, since both ends must compute the signature)."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="webhook", verbose_name="site")
    url = models.URLField(max_length=500, verbose_name="URL")
    secret = models.CharField(max_length=128, verbose_name="signing secret")
    is_active = models.BooleanField(default=True, verbose_name="active")

    class Meta:
        verbose_name = "webhook endpoint"
        verbose_name_plural = "webhook endpoints"

    def __str__(self) -> str:
        return f"{self.site}: {self.url}"


class DispatchPlan(TimeStampedModel):
    """A plan of setpoints. ``activation`` plans split a market activation across sites (version 1 answers it; a
    closed-loop re-dispatch adds version n+1, ``reason`` says why, and supersedes the previous one).
    ``schedule`` plans are the portfolio's day-ahead cost-optimal operation over ``[valid_from, valid_to)``;
    an activation plan takes precedence over them while it lasts."""

    kind = models.CharField(
        max_length=12,
        choices=PlanKind.choices,
        default=PlanKind.ACTIVATION,
        db_index=True,
        verbose_name="kind",
    )
    activation = models.ForeignKey(
        Activation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatch_plans",
        verbose_name="activation",
    )
    valid_to = models.DateTimeField(null=True, blank=True, verbose_name="valid to")
    version = models.PositiveIntegerField(verbose_name="version")
    status = models.CharField(
        max_length=12, choices=PlanStatus.choices, default=PlanStatus.ACTIVE, verbose_name="status"
    )
    reason = models.TextField(blank=True, verbose_name="reason")
    requested_kw = models.FloatField(verbose_name="requested reduction (kW)")
    planned_kw = models.FloatField(verbose_name="planned reduction (kW)")
    valid_from = models.DateTimeField(verbose_name="valid from")
    objective = models.FloatField(null=True, blank=True, verbose_name="objective")
    build_seconds = models.FloatField(null=True, blank=True, verbose_name="build time (s)")
    solve_seconds = models.FloatField(null=True, blank=True, verbose_name="solve time (s)")
    inputs = models.JSONField(default=dict, blank=True, verbose_name="input provenance")

    class Meta:
        ordering = ["activation", "-version"]
        verbose_name = "dispatch plan"
        verbose_name_plural = "dispatch plans"
        constraints = [
            models.UniqueConstraint(fields=["activation", "version"], name="dispatch_plan_unique_version"),
            models.UniqueConstraint(
                fields=["kind", "valid_from"],
                condition=models.Q(kind="schedule"),
                name="dispatch_schedule_unique_day",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == PlanKind.SCHEDULE:
            return f"schedule from {self.valid_from:%Y-%m-%d %H:%M}"
        return f"plan v{self.version} of {self.activation}"


class Setpoint(models.Model):
    """What one site should do in ``[start, end)``: planned grid power and the import cap that enforces it,
    battery power, and per workload class how much is deferred or migrated (``workloads``:
    ``{class: {"served_kw", "baseline_kw", "defer_kw", "catch_up_kw", "migrate_kw": {site_id: kw}}}``: work held
    back, queued work run, work sent to other sites; each ≥ 0)."""

    plan = models.ForeignKey(
        DispatchPlan, on_delete=models.CASCADE, related_name="setpoints", verbose_name="plan"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="setpoints", verbose_name="site")
    start = models.DateTimeField(verbose_name="start")
    end = models.DateTimeField(verbose_name="end")
    baseline_kw = models.FloatField(verbose_name="baseline grid power (kW)")
    target_kw = models.FloatField(verbose_name="planned grid power (kW)")
    import_cap_kw = models.FloatField(null=True, blank=True, verbose_name="import cap (kW)")
    battery_kw = models.FloatField(default=0.0, verbose_name="battery power (kW, + = charge)")
    workloads = models.JSONField(default=dict, blank=True, verbose_name="workload actions")

    class Meta:
        ordering = ["plan", "site", "start"]
        verbose_name = "setpoint"
        verbose_name_plural = "setpoints"
        constraints = [
            models.UniqueConstraint(fields=["plan", "site", "start"], name="setpoint_unique_interval")
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.start:%H:%M} → {self.target_kw:.0f} kW"

    @property
    def reduction_kw(self) -> float:
        return self.baseline_kw - self.target_kw


class Delivery(TimeStampedModel):
    """Delivery of a plan's setpoints to one site: pending → delivered → acknowledged | failed."""

    plan = models.ForeignKey(
        DispatchPlan, on_delete=models.CASCADE, related_name="deliveries", verbose_name="plan"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="deliveries", verbose_name="site")
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name="channel")
    status = models.CharField(
        max_length=14,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
        verbose_name="status",
    )
    idempotency_key = models.CharField(max_length=64, unique=True, verbose_name="idempotency key")
    attempts = models.PositiveIntegerField(default=0, verbose_name="attempts")
    last_error = models.TextField(blank=True, verbose_name="last error")
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name="delivered at")
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name="acknowledged at")

    class Meta:
        ordering = ["plan", "site"]
        verbose_name = "delivery"
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["plan", "site"], name="delivery_one_per_site_and_plan")
        ]

    def __str__(self) -> str:
        return f"{self.plan} → {self.site}: {self.status}"


class DeliveryCheck(models.Model):
    """Closed loop: at the end of a settlement interval, planned against metered reduction of the portfolio,
    and what was done about a shortfall."""

    activation = models.ForeignKey(
        Activation, on_delete=models.CASCADE, related_name="delivery_checks", verbose_name="activation"
    )
    plan = models.ForeignKey(
        DispatchPlan, on_delete=models.CASCADE, related_name="checks", verbose_name="plan"
    )
    interval_start = models.DateTimeField(verbose_name="interval start")
    planned_kw = models.FloatField(verbose_name="planned reduction (kW)")
    metered_kw = models.FloatField(null=True, blank=True, verbose_name="metered reduction (kW)")
    shortfall_kw = models.FloatField(default=0.0, verbose_name="shortfall (kW)")
    action = models.CharField(max_length=200, blank=True, verbose_name="action")
    detail = models.JSONField(default=dict, blank=True, verbose_name="per-site detail")
    checked_at = models.DateTimeField(auto_now_add=True, verbose_name="checked at")

    class Meta:
        ordering = ["activation", "interval_start"]
        verbose_name = "delivery check"
        verbose_name_plural = "delivery checks"
        constraints = [
            models.UniqueConstraint(
                fields=["activation", "interval_start"], name="delivery_check_unique_interval"
            )
        ]

    def __str__(self) -> str:
        return f"{self.activation} {self.interval_start:%H:%M}: shortfall {self.shortfall_kw:.0f} kW"


class PreparedPlan(TimeStampedModel):
    """A plan solved when the event was awarded, for its awarded kW, so an activation only scales and stores it.

    ``draft`` holds the per-site arrays of a :class:`~apps.dispatch.planning.PlanDraft`. Scaling by
    α = called ÷ prepared kW (≤ 1) blends the plan with the baseline schedule; both are feasible and the
    feasible set is convex (a linear program's), so the blend is feasible and delivers α × the reduction.
    """

    event = models.OneToOneField(
        "markets.Event", on_delete=models.CASCADE, related_name="prepared_plan", verbose_name="event"
    )
    reduction_kw = models.FloatField(verbose_name="prepared reduction (kW)")
    draft = models.JSONField(verbose_name="plan draft")
    solve_seconds = models.FloatField(null=True, blank=True, verbose_name="solve time (s)")

    class Meta:
        verbose_name = "prepared plan"
        verbose_name_plural = "prepared plans"

    def __str__(self) -> str:
        return f"prepared {self.reduction_kw:.0f} kW for {self.event}"


class ReplanRun(models.Model):
    """One intraday re-plan of the portfolio (:mod:`apps.dispatch.services.replan`), claimed by its interval
    ``slot`` (unique: of several workers running the beat task, one re-plans), with what it found and did."""

    slot = models.DateTimeField(unique=True, verbose_name="interval re-planned from")
    status = models.CharField(
        max_length=10, choices=ReplanStatus.choices, default=ReplanStatus.RUNNING, verbose_name="status"
    )
    started_at = models.DateTimeField(auto_now_add=True, verbose_name="started at")
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name="finished at")
    plan = models.ForeignKey(
        DispatchPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replan_runs",
        verbose_name="plan (when setpoints changed)",
    )
    changed_setpoints = models.PositiveIntegerField(default=0, verbose_name="setpoints changed")
    build_seconds = models.FloatField(null=True, blank=True, verbose_name="build time (s)")
    solve_seconds = models.FloatField(null=True, blank=True, verbose_name="solve time (s)")
    cpu_seconds = models.FloatField(null=True, blank=True, verbose_name="CPU time (s)")
    detail = models.JSONField(default=dict, blank=True, verbose_name="detail")

    class Meta:
        ordering = ["-slot"]
        verbose_name = "re-plan run"
        verbose_name_plural = "re-plan runs"

    def __str__(self) -> str:
        return f"re-plan {self.slot:%Y-%m-%d %H:%M}: {self.status}"
