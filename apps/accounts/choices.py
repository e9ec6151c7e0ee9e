"""Choices for organisations, memberships and API clients."""

from django.db import models


class OrganisationKind(models.TextChoices):
    AGGREGATOR = "aggregator", "Aggregator"
    SITE_OWNER = "site_owner", "Site owner"
    MARKET_OPERATOR = "market_operator", "Market operator"


class Role(models.TextChoices):
    """Role of a person inside an organisation: admin manages, staff writes, viewer reads."""

    ADMIN = "admin", "Admin"
    STAFF = "staff", "Staff"
    VIEWER = "viewer", "Viewer"


class ApiClientRole(models.TextChoices):
    """Role of an integration. ``ven``: a site's OpenADR VEN; ``bl``: OpenADR business logic (aggregator)."""

    ADMIN = "admin", "Admin"
    STAFF = "staff", "Staff"
    VIEWER = "viewer", "Viewer"
    VEN = "ven", "OpenADR VEN (site)"
    BL = "bl", "OpenADR business logic"


WRITE_ROLES = frozenset({Role.ADMIN, Role.STAFF, ApiClientRole.BL})
