"""Choices of settlement."""

from django.db import models


class RunStatus(models.TextChoices):
    """A settlement run is ``current`` until a run with different inputs supersedes it (kept for audit)."""

    CURRENT = "current", "Current"
    SUPERSEDED = "superseded", "Superseded by a newer version"


class SummaryGroup(models.TextChoices):
    """How staff group site settlements in a summary."""

    EVENT = "event", "Event"
    SITE = "site", "Site"
    PROGRAM = "program", "Program"
    MONTH = "month", "Month"
    OWNER = "owner", "Owner"


class Adjustment(models.TextChoices):
    """Day-of adjustment of a day-matching baseline; ``default`` takes the method's own (10 of 10:
    multiplicative, CAISO/NYISO; high X of Y: additive, PJM's Symmetric Additive Adjustment)."""

    DEFAULT = "default", "The method's default"
    MULTIPLICATIVE = "multiplicative", "Multiplicative (ratio)"
    ADDITIVE = "additive", "Additive (offset)"
    NONE = "none", "None"
