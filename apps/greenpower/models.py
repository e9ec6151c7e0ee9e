"""Computing via electricity: work units per site and green-energy contracts.

- :class:`WorkUnitDefinition` — what a site counts as work (GPU-hours, tokens, jobs …) and, optionally, how much of
  it the site does per hour at full utilisation (so reported work converts to utilisation and, through the
  site's :class:`apps.forecasts.models.ComputePowerModel`, to IT power). :class:`WorkDone` holds the work done
  per hour.
- :class:`GreenContract` — a PPA or green-certificate contract of an owner organisation: zone, term, price and an
  hourly volume profile (kWh per UTC hour of the day, repeated every day of the term); it can be matched by the
  owner's sites in its zone (:mod:`flexibility.green` has the matching rules).

Each site's fitted utilisation → IT power model is :class:`apps.forecasts.models.ComputePowerModel` (a fitted
model, below the markets layer, so forecasts and flexibility envelopes can use it); this app fits it on request
and serves it.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from apps.accounts.models import Organisation
from apps.assets.models import Site
from apps.core.models import MarketZone, TimeStampedModel

from .choices import ContractKind


class WorkUnitDefinition(TimeStampedModel):
    """The unit of work a site reports (one per site), e.g. ``GPU-hours`` or ``tokens``.

    ``full_rate_per_hour`` (work units per hour at 100 % utilisation) is optional; with it, work done converts to
    utilisation = work per hour / full rate.
    """

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="work_unit", verbose_name="site")
    name = models.CharField(max_length=60, verbose_name="unit name (e.g. GPU-hours, tokens, jobs)")
    full_rate_per_hour = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        verbose_name="work units per hour at full utilisation",
    )

    class Meta:
        ordering = ["site_id"]
        verbose_name = "work-unit definition"
        verbose_name_plural = "work-unit definitions"

    def __str__(self) -> str:
        return f"{self.site} · {self.name}"


class WorkDone(models.Model):
    """Work done by a site in the hour ``[start, start + 1 h)`` (UTC), in its :class:`WorkUnitDefinition` unit."""

    definition = models.ForeignKey(
        WorkUnitDefinition, on_delete=models.CASCADE, related_name="work_done", verbose_name="work unit"
    )
    start = models.DateTimeField(verbose_name="hour start (UTC)")
    work_units = models.FloatField(validators=[MinValueValidator(0.0)], verbose_name="work units")

    class Meta:
        ordering = ["definition", "start"]
        verbose_name = "work done"
        verbose_name_plural = "work done"
        constraints = [
            models.UniqueConstraint(fields=["definition", "start"], name="workdone_unique_hour"),
            models.CheckConstraint(condition=models.Q(work_units__gte=0), name="workdone_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.definition_id} @ {self.start:%Y-%m-%dT%H}Z = {self.work_units:g}"


class GreenContract(TimeStampedModel):
    """A green-energy contract of an owner organisation.

    ``hourly_profile_kwh``: 24 numbers, the contracted energy in each UTC hour of the day (kWh), delivered every
    day from ``term_start`` to ``term_end`` (inclusive dates). ``take_or_pay``: the whole volume is paid at
    ``price_per_mwh`` and any unmatched part is resold at the zone price (a virtual PPA); otherwise only the
    matched energy is bought. ``sites``: the owner's sites that may match it (empty: all its sites in ``zone``).
    """

    owner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="green_contracts", verbose_name="owner"
    )
    name = models.CharField(max_length=120, verbose_name="name")
    kind = models.CharField(max_length=16, choices=ContractKind.choices, verbose_name="kind")
    zone = models.ForeignKey(
        MarketZone, on_delete=models.PROTECT, related_name="green_contracts", verbose_name="market zone"
    )
    price_per_mwh = models.FloatField(verbose_name="price (currency/MWh)")
    currency = models.CharField(max_length=3, verbose_name="currency")
    term_start = models.DateField(verbose_name="term start (UTC date)")
    term_end = models.DateField(verbose_name="term end (UTC date, inclusive)")
    take_or_pay = models.BooleanField(default=True, verbose_name="take or pay")
    hourly_profile_kwh = models.JSONField(verbose_name="volume per UTC hour of day (24 × kWh)")
    sites = models.ManyToManyField(Site, blank=True, related_name="green_contracts", verbose_name="sites")

    class Meta:
        ordering = ["owner_id", "name"]
        verbose_name = "green contract"
        verbose_name_plural = "green contracts"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_end__gte=models.F("term_start")), name="green_term"
            ),
            models.UniqueConstraint(fields=["owner", "name"], name="green_contract_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone_id})"
