"""Shared base models and reference data: timestamps and the market zones every other app refers to."""

from __future__ import annotations

from django.db import models

from .validators import validate_currency_code, validate_iana_timezone


class TimeStampedModel(models.Model):
    """Abstract base adding ``created_at`` and ``updated_at`` (UTC, set by the database layer)."""

    created_at = models.DateTimeField(auto_now_add=True, verbose_name="created at")
    updated_at = models.DateTimeField(auto_now=True, verbose_name="updated at")

    class Meta:
        abstract = True


class MarketZone(models.Model):
    """A wholesale market price zone (a node, hub or bidding zone), e.g. ``CAISO_NP15``.

    Sites are located in one zone; prices and carbon intensity are published per zone. ``code`` is the
    primary key so that API payloads can name zones directly.
    """

    code = models.CharField(max_length=32, primary_key=True, verbose_name="code")
    name = models.CharField(max_length=120, verbose_name="name")
    timezone = models.CharField(max_length=64, validators=[validate_iana_timezone], verbose_name="time zone")
    currency = models.CharField(max_length=3, validators=[validate_currency_code], verbose_name="currency")

    class Meta:
        ordering = ["code"]
        verbose_name = "market zone"
        verbose_name_plural = "market zones"

    def __str__(self) -> str:
        return self.code


class ReplayClock(models.Model):
    """Singleton (pk=1) anchoring simulated time for a replay; see :mod:`apps.core.clock`."""

    enabled = models.BooleanField(default=False, verbose_name="enabled")
    sim_anchor = models.DateTimeField(verbose_name="simulated time at the anchor")
    wall_anchor = models.DateTimeField(verbose_name="wall time at the anchor")
    speed = models.FloatField(default=1.0, verbose_name="speed (simulated seconds per wall second)")

    class Meta:
        verbose_name = "replay clock"
        verbose_name_plural = "replay clock"

    def __str__(self) -> str:
        return (
            f"replay ×{self.speed:g} from {self.sim_anchor:%Y-%m-%d %H:%M}" if self.enabled else "wall clock"
        )
