"""Programs, events, bids, awards and activations: what the aggregator sells and what the market asks for.

Power in kW (flexibility quantities are positive magnitudes in the program's direction), prices in the zone's
currency per MWh (capacity prices per MW per hour of availability), times aware UTC, intervals half-open.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from apps.accounts.models import Organisation
from apps.core.models import MarketZone, TimeStampedModel

from .choices import ActivationStatus, BaselineMethod, BidStatus, EventStatus, PricingMode, Product


class Program(TimeStampedModel):
    """A market product run by a market operator in one zone, with its rules.

    Gate closure of an event = event start − ``gate_closure_lead_minutes``; an event must be announced at least
    ``notice_minutes`` before it starts; bids are multiples of ``bid_granularity_kw`` and at least
    ``min_bid_kw``; performance below ``penalty_threshold`` (delivered / awarded) is penalised at
    ``shortfall_penalty_per_mwh``; the performance factor is capped at ``performance_cap``.
    """

    operator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programs", verbose_name="market operator"
    )
    zone = models.ForeignKey(
        MarketZone, on_delete=models.PROTECT, related_name="programs", verbose_name="zone"
    )
    code = models.SlugField(max_length=64, verbose_name="code")
    name = models.CharField(max_length=200, verbose_name="name")
    product = models.CharField(max_length=20, choices=Product.choices, verbose_name="product")
    min_bid_kw = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="minimum bid (kW)")
    bid_granularity_kw = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.001)], verbose_name="bid granularity (kW)"
    )
    notice_minutes = models.PositiveIntegerField(default=0, verbose_name="notice time (min)")
    response_time_seconds = models.PositiveIntegerField(default=600, verbose_name="response time (s)")
    min_duration_minutes = models.PositiveIntegerField(
        default=15, verbose_name="minimum event duration (min)"
    )
    max_duration_minutes = models.PositiveIntegerField(
        default=240, verbose_name="maximum event duration (min)"
    )
    gate_closure_lead_minutes = models.PositiveIntegerField(
        default=60, verbose_name="gate closure lead (min)"
    )
    settlement_interval_minutes = models.PositiveIntegerField(
        default=15, verbose_name="settlement interval (min)"
    )
    pricing_mode = models.CharField(
        max_length=16, choices=PricingMode.choices, default=PricingMode.PAY_AS_CLEAR, verbose_name="pricing"
    )
    capacity_price_per_mw_h = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], verbose_name="capacity price per MW·h"
    )
    energy_price_per_mwh = models.FloatField(default=0.0, verbose_name="energy price per MWh")
    price_cap_per_mwh = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], verbose_name="price cap per MWh"
    )
    baseline_method = models.CharField(
        max_length=16,
        choices=BaselineMethod.choices,
        default=BaselineMethod.TEN_OF_TEN,
        verbose_name="baseline method",
    )
    performance_cap = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0)], verbose_name="performance cap"
    )
    penalty_threshold = models.FloatField(
        default=0.8, validators=[MinValueValidator(0.0)], verbose_name="penalty threshold (fraction)"
    )
    shortfall_penalty_per_mwh = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], verbose_name="shortfall penalty per MWh"
    )
    rule_source = models.TextField(blank=True, verbose_name="source of the rules")
    is_active = models.BooleanField(default=True, verbose_name="active")

    class Meta:
        ordering = ["operator", "code"]
        verbose_name = "program"
        verbose_name_plural = "programs"
        constraints = [
            models.UniqueConstraint(fields=["operator", "code"], name="program_unique_code_per_operator")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone_id})"

    @property
    def currency(self) -> str:
        return self.zone.currency


class Event(TimeStampedModel):
    """A call for flexibility in ``[start, end)`` for ``requested_kw``; bids are open until ``gate_closure_at``."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="events", verbose_name="program"
    )
    start = models.DateTimeField(db_index=True, verbose_name="start")
    end = models.DateTimeField(verbose_name="end")
    requested_kw = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="requested (kW)")
    gate_closure_at = models.DateTimeField(db_index=True, verbose_name="gate closure")
    status = models.CharField(
        max_length=12,
        choices=EventStatus.choices,
        default=EventStatus.ANNOUNCED,
        db_index=True,
        verbose_name="status",
    )
    announced_at = models.DateTimeField(verbose_name="announced at")
    reference_price_per_mwh = models.FloatField(null=True, blank=True, verbose_name="reference price per MWh")
    cancel_reason = models.TextField(blank=True, verbose_name="cancellation reason")

    class Meta:
        ordering = ["start", "id"]
        verbose_name = "event"
        verbose_name_plural = "events"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="event_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.program.code} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} ({self.status})"


class Bid(TimeStampedModel):
    """The aggregator's offer for an event: per-interval kW and price. One bid per bidder and event."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="bids", verbose_name="event")
    bidder = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="bids", verbose_name="bidder"
    )
    status = models.CharField(
        max_length=20,
        choices=BidStatus.choices,
        default=BidStatus.DRAFT,
        db_index=True,
        verbose_name="status",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, verbose_name="submitted at")
    method = models.TextField(blank=True, verbose_name="how the bid was built")
    overridden_by = models.CharField(max_length=200, blank=True, verbose_name="overridden by")

    class Meta:
        ordering = ["event", "bidder"]
        verbose_name = "bid"
        verbose_name_plural = "bids"
        constraints = [
            models.UniqueConstraint(fields=["event", "bidder"], name="bid_one_per_bidder_and_event")
        ]

    def __str__(self) -> str:
        return f"bid of {self.bidder} for {self.event}"


class BidInterval(models.Model):
    """One interval of a bid: ``quantity_kw`` offered in ``[start, end)`` at ``price_per_mwh``."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="intervals", verbose_name="bid")
    start = models.DateTimeField(verbose_name="start")
    end = models.DateTimeField(verbose_name="end")
    quantity_kw = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="quantity (kW)")
    price_per_mwh = models.FloatField(verbose_name="price per MWh")

    class Meta:
        ordering = ["bid", "start"]
        verbose_name = "bid interval"
        verbose_name_plural = "bid intervals"
        constraints = [models.UniqueConstraint(fields=["bid", "start"], name="bid_interval_unique_start")]

    def __str__(self) -> str:
        return f"{self.start:%H:%M} {self.quantity_kw:g} kW @ {self.price_per_mwh:g}"


class Award(TimeStampedModel):
    """What the operator accepted of a bid, per interval, at a clearing price."""

    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="award", verbose_name="bid")
    clearing_price_per_mwh = models.FloatField(verbose_name="clearing price per MWh")

    class Meta:
        verbose_name = "award"
        verbose_name_plural = "awards"

    def __str__(self) -> str:
        return f"award for {self.bid}"


class AwardInterval(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="intervals", verbose_name="award")
    start = models.DateTimeField(verbose_name="start")
    end = models.DateTimeField(verbose_name="end")
    awarded_kw = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="awarded (kW)")

    class Meta:
        ordering = ["award", "start"]
        verbose_name = "award interval"
        verbose_name_plural = "award intervals"
        constraints = [models.UniqueConstraint(fields=["award", "start"], name="award_interval_unique_start")]

    def __str__(self) -> str:
        return f"{self.start:%H:%M} {self.awarded_kw:g} kW"


class Activation(TimeStampedModel):
    """The operator calls awarded flexibility: from ``start`` (until ``end``) deliver ``kw``, or follow ``signal``
    (regulation: a list of setpoint fractions in [-1, 1] every ``signal_resolution_seconds``).

    ``activation_id`` is the operator's idempotency key: unique per operator, so the same id twice is one
    activation.
    """

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="activations", verbose_name="event"
    )
    operator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="activations", verbose_name="operator"
    )
    activation_id = models.CharField(max_length=100, verbose_name="activation id")
    start = models.DateTimeField(verbose_name="start")
    end = models.DateTimeField(null=True, blank=True, verbose_name="end")
    kw = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], verbose_name="called (kW)"
    )
    signal = models.JSONField(null=True, blank=True, verbose_name="regulation signal (fractions)")
    signal_resolution_seconds = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="signal step (s)"
    )
    status = models.CharField(
        max_length=8, choices=ActivationStatus.choices, default=ActivationStatus.ACTIVE, verbose_name="status"
    )

    class Meta:
        ordering = ["event", "start"]
        verbose_name = "activation"
        verbose_name_plural = "activations"
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "activation_id"], name="activation_unique_id_per_operator"
            )
        ]

    def __str__(self) -> str:
        return f"activation {self.activation_id} of {self.event}"
