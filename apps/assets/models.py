"""The asset registry: datacenter sites, their workload classes, batteries and PV arrays, and enrolment history.

Units are in field names (kW, kWh, per MWh, degrees, percent). Operational foreign keys use ``PROTECT`` so
that a site with history cannot vanish; a site's own assets go with it while it is still a draft.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.accounts.models import ApiClient, Organisation
from apps.core.models import MarketZone, TimeStampedModel
from apps.core.validators import validate_iana_timezone

from .choices import EnrolmentStatus, WorkloadKind
from .validators import (
    battery_errors,
    pv_array_errors,
    validate_efficiency,
    validate_fraction,
    validate_positive,
)


class Site(TimeStampedModel):
    """A datacenter enrolled (or being enrolled) by a site owner.

    ``pue`` (power usage effectiveness) = facility power / IT power, ≥ 1 (The Green Grid WP #49); site grid
    power = PUE × IT power − PV + battery charge − discharge. Grid limits are at the point of connection.
    """

    owner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sites", verbose_name="owner"
    )
    name = models.CharField(max_length=200, verbose_name="name")
    latitude = models.FloatField(
        validators=[MinValueValidator(-90.0), MaxValueValidator(90.0)], verbose_name="latitude (°)"
    )
    longitude = models.FloatField(
        validators=[MinValueValidator(-180.0), MaxValueValidator(180.0)], verbose_name="longitude (°)"
    )
    timezone = models.CharField(
        max_length=64, validators=[validate_iana_timezone], verbose_name="time zone (IANA)"
    )
    market_zone = models.ForeignKey(
        MarketZone, on_delete=models.PROTECT, related_name="sites", verbose_name="market zone"
    )
    grid_import_limit_kw = models.FloatField(
        validators=[MinValueValidator(0.0)], verbose_name="grid import limit (kW)"
    )
    grid_export_limit_kw = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], verbose_name="grid export limit (kW)"
    )
    pue = models.FloatField(
        default=1.3, validators=[MinValueValidator(1.0), MaxValueValidator(5.0)], verbose_name="PUE"
    )
    it_capacity_kw = models.FloatField(validators=[validate_positive], verbose_name="IT capacity (kW)")
    enrolment_status = models.CharField(
        max_length=12,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.DRAFT,
        db_index=True,
        verbose_name="enrolment status",
    )
    status_reason = models.TextField(blank=True, verbose_name="reason of the last status change")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "site"
        verbose_name_plural = "sites"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="site_unique_name_per_owner"),
            models.CheckConstraint(condition=models.Q(pue__gte=1.0), name="site_pue_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkloadClass(TimeStampedModel):
    """A class of compute at a site and how flexible it is.

    ``share_pct`` is its share of the site's IT load; a site's shares add up to at most 100 %.
    ``max_delay_h`` empty means not deferrable. ``min_power_fraction`` is the lowest fraction of the power that
    arrives that it must still run at when the scheduler holds it back; ``ramp_kw_per_min`` limits how fast the
    scheduler may change its power. ``migration_overhead_kwh_per_kwh`` is the extra IT energy a receiving site
    spends per kWh migrated to it (data transfer, warm-up), ``migration_lead_time_h`` how long migrated work
    takes before it can run there. The scheduling LP honours every one of them (:mod:`flexibility.sites`);
    combinations it could not honour are refused (:func:`apps.assets.validators.workload_class_errors`).
    """

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="workload_classes", verbose_name="site"
    )
    name = models.CharField(max_length=100, verbose_name="name")
    kind = models.CharField(max_length=12, choices=WorkloadKind.choices, verbose_name="kind")
    share_pct = models.FloatField(
        validators=[validate_positive, MaxValueValidator(100.0)], verbose_name="share of IT load (%)"
    )
    max_delay_h = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(168.0)],
        verbose_name="maximum deferral (h)",
    )
    interruptible = models.BooleanField(default=True, verbose_name="interruptible")
    migratable_to = models.ManyToManyField(
        Site, blank=True, related_name="migratable_from", verbose_name="migratable to sites"
    )
    min_power_fraction = models.FloatField(
        default=0.0, validators=[validate_fraction], verbose_name="minimum power fraction"
    )
    ramp_kw_per_min = models.FloatField(
        null=True, blank=True, validators=[validate_positive], verbose_name="ramp limit (kW/min)"
    )
    migration_overhead_kwh_per_kwh = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        verbose_name="migration energy overhead (kWh per kWh migrated)",
    )
    migration_lead_time_h = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(24.0)],
        verbose_name="migration lead time (h)",
    )

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "workload class"
        verbose_name_plural = "workload classes"
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="workload_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    @property
    def is_deferrable(self) -> bool:
        return bool(self.max_delay_h)


class Battery(TimeStampedModel):
    """A battery (UPS or on-site storage). ``backup_reserve_kwh`` must always remain for UPS duty.

    State of charge follows SoC(t+1) = SoC(t) + (η_c × charge − discharge / η_d) × Δt.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="batteries", verbose_name="site")
    name = models.CharField(max_length=100, verbose_name="name")
    energy_capacity_kwh = models.FloatField(
        validators=[validate_positive], verbose_name="energy capacity (kWh)"
    )
    max_charge_kw = models.FloatField(
        validators=[MinValueValidator(0.0)], verbose_name="max charge power (kW)"
    )
    max_discharge_kw = models.FloatField(
        validators=[MinValueValidator(0.0)], verbose_name="max discharge power (kW)"
    )
    charge_efficiency = models.FloatField(
        default=0.95, validators=[validate_efficiency], verbose_name="charge efficiency"
    )
    discharge_efficiency = models.FloatField(
        default=0.95, validators=[validate_efficiency], verbose_name="discharge efficiency"
    )
    soc_min_kwh = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], verbose_name="SoC min (kWh)"
    )
    soc_max_kwh = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="SoC max (kWh)")
    backup_reserve_kwh = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], verbose_name="backup reserve (kWh)"
    )
    degradation_cost_per_mwh = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0)], verbose_name="degradation cost per MWh throughput"
    )

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "battery"
        verbose_name_plural = "batteries"
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="battery_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    def clean(self) -> None:
        errors = battery_errors(self.__dict__)
        if errors:
            raise ValidationError(errors)


class PVArray(TimeStampedModel):
    """Rooftop PV: DC capacity, inverter AC limit and orientation (azimuth clockwise from north, pvlib's
    convention), with system losses in percent (PVWatts, NREL/TP-6A20-62641)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="pv_arrays", verbose_name="site")
    name = models.CharField(max_length=100, verbose_name="name")
    dc_capacity_kwp = models.FloatField(validators=[validate_positive], verbose_name="DC capacity (kWp)")
    ac_limit_kw = models.FloatField(validators=[validate_positive], verbose_name="AC limit (kW)")
    tilt_deg = models.FloatField(
        validators=[MinValueValidator(0.0), MaxValueValidator(90.0)], verbose_name="tilt (°)"
    )
    azimuth_deg = models.FloatField(
        default=180.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(360.0)],
        verbose_name="azimuth (°)",
    )
    losses_pct = models.FloatField(
        default=14.0, validators=[MinValueValidator(0.0), MaxValueValidator(99.0)], verbose_name="losses (%)"
    )

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "PV array"
        verbose_name_plural = "PV arrays"
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="pv_array_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    def clean(self) -> None:
        errors = pv_array_errors(self.__dict__)
        if errors:
            raise ValidationError(errors)


class EnrolmentTransition(models.Model):
    """Audit record of one enrolment status change: who, when, from, to and why."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="transitions", verbose_name="site")
    from_status = models.CharField(max_length=12, choices=EnrolmentStatus.choices, verbose_name="from")
    to_status = models.CharField(max_length=12, choices=EnrolmentStatus.choices, verbose_name="to")
    actor = models.CharField(max_length=200, verbose_name="actor")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="user"
    )
    reason = models.TextField(blank=True, verbose_name="reason")
    at = models.DateTimeField(auto_now_add=True, verbose_name="at")

    class Meta:
        ordering = ["site", "at", "id"]
        verbose_name = "enrolment transition"
        verbose_name_plural = "enrolment transitions"

    def __str__(self) -> str:
        return f"{self.site}: {self.from_status} → {self.to_status}"


class SiteCredential(models.Model):
    """Binds an API client (a site's control system / OpenADR VEN) to the one site it speaks for.

    Lives here rather than in accounts because accounts sits below assets in the layering.
    """

    api_client = models.OneToOneField(
        ApiClient, on_delete=models.CASCADE, related_name="site_credential", verbose_name="API client"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="credentials", verbose_name="site")

    class Meta:
        verbose_name = "site credential"
        verbose_name_plural = "site credentials"

    def __str__(self) -> str:
        return f"{self.api_client} → {self.site}"
