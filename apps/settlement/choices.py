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
