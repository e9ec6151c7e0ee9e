"""Choices of the green-power app."""

from __future__ import annotations

from django.db import models


class ContractKind(models.TextChoices):
    """How green energy is contracted: a power purchase agreement, or unbundled green certificates (RECs, GOs)."""

    PPA = "ppa", "Power purchase agreement"
    CERTIFICATES = "certificates", "Green certificates"
