"""Live site state as a site reports it: IT load, battery state of charge and the deferred work it has queued.

One :class:`SiteState` per report (``reported_at`` is the time the state describes, ``received_at`` when the
product stored it), with one :class:`SiteStateBattery` per battery reported and one :class:`QueuedWork` per
queued entry of a deferrable workload class. Written only by :func:`apps.telemetry.services.site_state_report`
(which validates the whole report first); read by :mod:`apps.telemetry.selectors.state`. Re-exported from
:mod:`apps.telemetry.models`.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from apps.assets.models import Battery, Site, WorkloadClass

from .choices import StateSource


class SiteState(models.Model):
    """A site's state at ``reported_at`` (aware UTC): ``it_load_kw`` (the IT power it runs, kW), and through
    its children the batteries' state of charge and the queued deferred work. ``source``: REST, OpenADR report
    or the simulated site agent."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="states", verbose_name="site")
    reported_at = models.DateTimeField(verbose_name="state at (UTC)")
    received_at = models.DateTimeField(verbose_name="received at (UTC)")
    source = models.CharField(max_length=10, choices=StateSource.choices, verbose_name="source")
    it_load_kw = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="IT load (kW)")

    class Meta:
        ordering = ["site", "reported_at", "id"]
        verbose_name = "site state"
        verbose_name_plural = "site states"
        indexes = [models.Index(fields=["site", "reported_at"], name="sitestate_site_reported")]

    def __str__(self) -> str:
        return f"{self.site_id} @ {self.reported_at:%Y-%m-%dT%H:%M}Z"


class SiteStateBattery(models.Model):
    """State of charge (kWh, within ``[0, energy capacity]``) of one battery in a :class:`SiteState`."""

    state = models.ForeignKey(
        SiteState, on_delete=models.CASCADE, related_name="batteries", verbose_name="state"
    )
    battery = models.ForeignKey(
        Battery, on_delete=models.CASCADE, related_name="reported_states", verbose_name="battery"
    )
    soc_kwh = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="state of charge (kWh)")

    class Meta:
        ordering = ["state", "battery"]
        verbose_name = "battery state"
        verbose_name_plural = "battery states"
        constraints = [
            models.UniqueConstraint(fields=["state", "battery"], name="sitestatebattery_unique_per_state")
        ]

    def __str__(self) -> str:
        return f"{self.battery_id}: {self.soc_kwh:g} kWh"


class QueuedWork(models.Model):
    """Deferred work of a deferrable workload class still waiting at the state's time: ``energy_kwh`` of IT
    energy left to run, arrived at ``arrived_at``, due by ``deadline`` (its SLA); ``job_id`` optional."""

    state = models.ForeignKey(SiteState, on_delete=models.CASCADE, related_name="queue", verbose_name="state")
    workload_class = models.ForeignKey(
        WorkloadClass, on_delete=models.CASCADE, related_name="queued_work", verbose_name="workload class"
    )
    energy_kwh = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="IT energy left (kWh)")
    arrived_at = models.DateTimeField(verbose_name="arrived at (UTC)")
    deadline = models.DateTimeField(verbose_name="deadline (UTC)")
    job_id = models.CharField(max_length=200, blank=True, default="", verbose_name="job id")

    class Meta:
        ordering = ["state", "deadline", "id"]
        verbose_name = "queued work"
        verbose_name_plural = "queued work"

    def __str__(self) -> str:
        return f"{self.workload_class_id}: {self.energy_kwh:g} kWh due {self.deadline:%Y-%m-%dT%H:%M}Z"


class KnownJob(models.Model):
    """A job the site knows of at the state's time that has not finished (submitted, waiting or still running:
    issue #21's known work): ``job_id`` (unique in the report), its workload class, its IT energy
    ``energy_kwh`` (kWh; ``power_kw`` × ``duration_h`` when given so), submitted at ``submitted_at``, not to
    start before ``earliest_start`` (≥ submission), due by ``deadline`` (optional; ≥ earliest start + duration)."""

    state = models.ForeignKey(
        SiteState, on_delete=models.CASCADE, related_name="known_jobs", verbose_name="state"
    )
    workload_class = models.ForeignKey(
        WorkloadClass, on_delete=models.CASCADE, related_name="known_jobs", verbose_name="workload class"
    )
    job_id = models.CharField(max_length=200, verbose_name="job id")
    energy_kwh = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="IT energy (kWh)")
    power_kw = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], verbose_name="IT power (kW)"
    )
    duration_h = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], verbose_name="run time (h)"
    )
    submitted_at = models.DateTimeField(verbose_name="submitted at (UTC)")
    earliest_start = models.DateTimeField(verbose_name="earliest start (UTC)")
    deadline = models.DateTimeField(null=True, blank=True, verbose_name="deadline (UTC)")

    class Meta:
        ordering = ["state", "earliest_start", "id"]
        verbose_name = "known job"
        verbose_name_plural = "known jobs"
        constraints = [models.UniqueConstraint(fields=["state", "job_id"], name="knownjob_unique_per_state")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.energy_kwh:g} kWh from {self.earliest_start:%Y-%m-%dT%H:%M}Z"
