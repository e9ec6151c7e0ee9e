"""Settlement: versioned runs per event, their interval figures (portfolio and per site), each site's share of
the revenue, and the owners' contracts (the aggregator's fee).

Power in kW, energy in kWh, money in the program zone's currency as ``Decimal`` rounded to cents, emissions in
kg CO2eq, times aware UTC, intervals half-open. Operational foreign keys use ``PROTECT``: a settled event, site or
owner cannot vanish from under its money.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.accounts.models import Organisation
from apps.assets.models import Site
from apps.core.models import TimeStampedModel
from apps.markets.models import Event, Program

from .choices import Adjustment, RunStatus

DEFAULT_FEE_PCT = Decimal("20.00")


def _money(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0.00"), verbose_name=verbose_name
    )


class OwnerContract(TimeStampedModel):
    """The aggregator's contract with a site owner: the fee it keeps of the owner's share of market revenue.

    An owner without a contract pays :data:`DEFAULT_FEE_PCT`. A change applies to events settled (or re-settled)
    afterwards; every settled site records the fee it used.
    """

    owner = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="settlement_contract", verbose_name="site owner"
    )
    fee_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_FEE_PCT,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        verbose_name="aggregator fee (%)",
    )
    reference = models.CharField(max_length=100, blank=True, verbose_name="contract reference")
    notes = models.TextField(blank=True, verbose_name="notes")

    class Meta:
        ordering = ["owner"]
        verbose_name = "owner contract"
        verbose_name_plural = "owner contracts"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_pct__gte=0) & models.Q(fee_pct__lte=100),
                name="owner_contract_fee_pct_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner}: fee {self.fee_pct} %"


class BaselineTerms(TimeStampedModel):
    """How a program's day-matching baseline picks and adjusts days (a program without terms uses the defaults
    below: CAISO/NYISO 10 of 10 and PJM High 4 of 5, weekends and holidays excluded, 45-day lookback,
    adjustment capped at ±20 %, window ending 1 h before the event and lasting 4 h (10 of 10) or 3 h (X of Y)).
    """

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="baseline_terms", verbose_name="program"
    )
    exclude_weekends = models.BooleanField(default=True, verbose_name="exclude weekends")
    exclude_holidays = models.BooleanField(default=True, verbose_name="exclude public holidays")
    lookback_days = models.PositiveIntegerField(
        default=45, validators=[MinValueValidator(1), MaxValueValidator(366)], verbose_name="lookback (days)"
    )
    days = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1)], verbose_name="days averaged (10 of 10)"
    )
    high_x = models.PositiveIntegerField(
        default=4, validators=[MinValueValidator(1)], verbose_name="X (high X of Y)"
    )
    high_y = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)], verbose_name="Y (high X of Y)"
    )
    adjustment = models.CharField(
        max_length=16,
        choices=Adjustment.choices,
        default=Adjustment.DEFAULT,
        verbose_name="day-of adjustment",
    )
    adjustment_hours = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.25)],
        verbose_name="adjustment window (h); empty = the method's default",
    )
    adjustment_gap_hours = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0)], verbose_name="gap before the event (h)"
    )
    adjustment_cap_pct = models.FloatField(
        default=20.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        verbose_name="adjustment cap (±%)",
    )

    class Meta:
        verbose_name = "baseline terms"
        verbose_name_plural = "baseline terms"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(high_x__lte=models.F("high_y")), name="baseline_terms_x_le_y"
            )
        ]

    def __str__(self) -> str:
        return f"baseline terms of {self.program}"


class SettlementRun(TimeStampedModel):
    """One version of an event's settlement with the market and the owners.

    Settling the same inputs again finds the same ``fingerprint`` (SHA-256 of metered data, baselines, award,
    prices and fees) and creates nothing; changed inputs (late meter data) create version n+1 and mark the
    previous version ``superseded`` (kept for audit). At most one ``current`` run per event.
    ``performance_factor`` = capped delivered energy ÷ called energy of the event (portfolio; the call is the
    activated kW, at most the award — capacity is paid on the award, delivery judged on the call); the regulation
    fields are set for regulation events only (PJM Manual 12 §4.5.6).
    """

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="settlement_runs", verbose_name="event"
    )
    version = models.PositiveIntegerField(verbose_name="version")
    status = models.CharField(
        max_length=12,
        choices=RunStatus.choices,
        default=RunStatus.CURRENT,
        db_index=True,
        verbose_name="status",
    )
    fingerprint = models.CharField(max_length=64, verbose_name="input fingerprint (SHA-256)")
    settled_at = models.DateTimeField(verbose_name="settled at")
    superseded_at = models.DateTimeField(null=True, blank=True, verbose_name="superseded at")
    reason = models.CharField(max_length=200, blank=True, verbose_name="reason for this version")
    currency = models.CharField(max_length=3, verbose_name="currency")
    baseline_method = models.CharField(max_length=32, verbose_name="baseline method")
    interval_minutes = models.PositiveIntegerField(verbose_name="settlement interval (min)")
    awarded_kwh = models.FloatField(default=0.0, verbose_name="awarded energy (kWh)")
    called_kwh = models.FloatField(default=0.0, verbose_name="called energy (kWh)")
    delivered_kwh = models.FloatField(default=0.0, verbose_name="delivered energy (kWh)")
    performance_factor = models.FloatField(null=True, blank=True, verbose_name="performance factor")
    capacity_payment = _money("capacity payment")
    energy_payment = _money("energy payment")
    penalty = _money("penalty")
    net_revenue = _money("net market revenue")
    aggregator_fees = _money("aggregator fees")
    regulation_correlation = models.FloatField(null=True, blank=True, verbose_name="correlation score")
    regulation_delay = models.FloatField(null=True, blank=True, verbose_name="delay score")
    regulation_precision = models.FloatField(null=True, blank=True, verbose_name="precision score")
    regulation_score = models.FloatField(null=True, blank=True, verbose_name="performance score")
    metering_complete = models.BooleanField(default=True, verbose_name="metering complete")
    inputs = models.JSONField(default=dict, blank=True, verbose_name="input provenance")

    class Meta:
        ordering = ["event", "-version"]
        verbose_name = "settlement run"
        verbose_name_plural = "settlement runs"
        constraints = [
            models.UniqueConstraint(fields=["event", "version"], name="settlement_run_unique_version"),
            models.UniqueConstraint(
                fields=["event"],
                condition=models.Q(status=RunStatus.CURRENT),
                name="settlement_run_one_current_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"settlement v{self.version} of {self.event} ({self.status})"

    @property
    def regulation_hourly(self) -> list[dict]:
        """The PJM Manual 12 score of each clock hour of a regulation event (correlation, delay, precision,
        composite, each 0…1, and ``delay_s``), as settled (:func:`~.performance.hourly_regulation_scores`);
        empty for other events and for runs settled before hourly scores were kept."""
        return list((self.inputs or {}).get("regulation_hourly") or [])


class RunInterval(models.Model):
    """The portfolio's figures in one settlement interval: what the market operator measures and pays.

    ``delivered_kw`` = baseline − metered for "down" products (metered − baseline for "up"); ``called_kw`` is the
    activated part of the award (mean over the interval); money in cents.
    """

    run = models.ForeignKey(
        SettlementRun, on_delete=models.CASCADE, related_name="intervals", verbose_name="run"
    )
    start = models.DateTimeField(verbose_name="start")
    end = models.DateTimeField(verbose_name="end")
    baseline_kw = models.FloatField(verbose_name="baseline (kW)")
    metered_kw = models.FloatField(null=True, blank=True, verbose_name="metered (kW)")
    delivered_kw = models.FloatField(verbose_name="delivered (kW)")
    awarded_kw = models.FloatField(verbose_name="awarded (kW)")
    called_kw = models.FloatField(default=0.0, verbose_name="called (kW)")
    price_per_mwh = models.FloatField(verbose_name="energy price per MWh")
    performance_factor = models.FloatField(null=True, blank=True, verbose_name="performance factor")
    capacity_payment = _money("capacity payment")
    energy_payment = _money("energy payment")
    penalty = _money("penalty")

    class Meta:
        ordering = ["run", "start"]
        verbose_name = "settlement interval"
        verbose_name_plural = "settlement intervals"
        constraints = [models.UniqueConstraint(fields=["run", "start"], name="run_interval_unique_start")]

    def __str__(self) -> str:
        return f"{self.start:%H:%M} delivered {self.delivered_kw:.0f} of {self.awarded_kw:.0f} kW"


class SiteSettlement(models.Model):
    """One site's result in a run: its performance on its share of the award, its share of the event's market
    revenue (by delivered energy) less the aggregator's fee, and its cost and carbon savings over the window.

    ``month`` is the first day of the month of the event start in the program zone's time zone (statements are
    monthly). Savings compare the metered schedule with the baseline ("run as it arrives"): cost at the zone
    price, emissions at the carbon intensity; ``pv_share_pct`` and ``low_carbon_share_pct`` are the shares of the
    site's consumption (grid import + PV) supplied by its PV and by the zone's low-carbon generation.
    """

    run = models.ForeignKey(SettlementRun, on_delete=models.CASCADE, related_name="sites", verbose_name="run")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="settlements", verbose_name="site")
    owner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="site_settlements", verbose_name="owner"
    )
    month = models.DateField(db_index=True, verbose_name="statement month")
    awarded_kwh = models.FloatField(default=0.0, verbose_name="awarded share (kWh)")
    delivered_kwh = models.FloatField(default=0.0, verbose_name="delivered energy while called (kWh, ≥ 0)")
    performance_factor = models.FloatField(null=True, blank=True, verbose_name="performance factor")
    capacity_payment = _money("capacity payment (own share)")
    energy_payment = _money("energy payment (own share)")
    penalty = _money("penalty (own share)")
    revenue_share = _money("share of market revenue")
    fee_pct = models.DecimalField(max_digits=5, decimal_places=2, verbose_name="aggregator fee (%)")
    fee = _money("aggregator fee")
    owner_payout = _money("payout to owner")
    metered_kwh = models.FloatField(default=0.0, verbose_name="metered energy (kWh)")
    baseline_kwh = models.FloatField(default=0.0, verbose_name="baseline energy (kWh)")
    metered_cost = _money("energy cost, metered")
    baseline_cost = _money("energy cost, baseline")
    cost_saving = _money("energy cost saving")
    metered_emissions_kg = models.FloatField(null=True, blank=True, verbose_name="emissions, metered (kg)")
    baseline_emissions_kg = models.FloatField(null=True, blank=True, verbose_name="emissions, baseline (kg)")
    pv_kwh = models.FloatField(default=0.0, verbose_name="PV energy (kWh)")
    consumption_kwh = models.FloatField(default=0.0, verbose_name="consumption: grid import + PV (kWh)")
    low_carbon_kwh = models.FloatField(default=0.0, verbose_name="low-carbon grid energy (kWh)")
    pv_share_pct = models.FloatField(null=True, blank=True, verbose_name="PV share (%)")
    low_carbon_share_pct = models.FloatField(null=True, blank=True, verbose_name="zone low-carbon share (%)")
    baseline_detail = models.JSONField(default=dict, blank=True, verbose_name="baseline provenance")

    class Meta:
        ordering = ["run", "site"]
        verbose_name = "site settlement"
        verbose_name_plural = "site settlements"
        constraints = [models.UniqueConstraint(fields=["run", "site"], name="site_settlement_unique_site")]

    def __str__(self) -> str:
        return f"{self.site} in {self.run}: {self.owner_payout}"

    @property
    def emissions_saving_kg(self) -> float | None:
        if self.metered_emissions_kg is None or self.baseline_emissions_kg is None:
            return None
        return self.baseline_emissions_kg - self.metered_emissions_kg


class SiteInterval(models.Model):
    """One site in one settlement interval: its baseline, metered power, delivery, share of the award
    (the award split by the sites' planned reduction in the dispatch plan) and the money on that share."""

    site_settlement = models.ForeignKey(
        SiteSettlement, on_delete=models.CASCADE, related_name="intervals", verbose_name="site settlement"
    )
    start = models.DateTimeField(verbose_name="start")
    end = models.DateTimeField(verbose_name="end")
    baseline_kw = models.FloatField(null=True, blank=True, verbose_name="baseline (kW)")
    metered_kw = models.FloatField(null=True, blank=True, verbose_name="metered (kW)")
    delivered_kw = models.FloatField(verbose_name="delivered (kW)")
    awarded_kw = models.FloatField(verbose_name="awarded share (kW)")
    called_kw = models.FloatField(default=0.0, verbose_name="called share (kW)")
    performance_factor = models.FloatField(null=True, blank=True, verbose_name="performance factor")
    capacity_payment = _money("capacity payment")
    energy_payment = _money("energy payment")
    penalty = _money("penalty")

    class Meta:
        ordering = ["site_settlement", "start"]
        verbose_name = "site settlement interval"
        verbose_name_plural = "site settlement intervals"
        constraints = [
            models.UniqueConstraint(fields=["site_settlement", "start"], name="site_interval_unique_start")
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M} {self.delivered_kw:.0f} of {self.awarded_kw:.0f} kW"
