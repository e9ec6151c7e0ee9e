"""Organisations, people, their memberships and the API clients integrations authenticate with."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.core.models import TimeStampedModel

from .choices import ApiClientRole, OrganisationKind, Role


class User(AbstractUser):
    """A person who logs in to the dashboard or portal. Belongs to at most one organisation (``membership``)."""

    email = models.EmailField(blank=True, verbose_name="email address")

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"


class Organisation(TimeStampedModel):
    """A company using the platform: the aggregator itself, a site owner, or a market operator."""

    name = models.CharField(max_length=200, unique=True, verbose_name="name")
    slug = models.SlugField(max_length=64, unique=True, verbose_name="slug")
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices, verbose_name="kind")

    class Meta:
        ordering = ["name"]
        verbose_name = "organisation"
        verbose_name_plural = "organisations"

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """A user's place in an organisation and role there. One membership per user keeps scoping unambiguous."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="membership", verbose_name="user"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name="organisation"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER, verbose_name="role")

    class Meta:
        verbose_name = "membership"
        verbose_name_plural = "memberships"

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class ApiClient(TimeStampedModel):
    """Credentials of an integration (market operator system, site control system, OpenADR VEN or BL).

    The secret is shown once at creation and only its SHA-256 digest is stored: secrets are 256-bit random
    values, so a fast digest is as safe as a slow password hash and keeps authentication cheap.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_clients", verbose_name="organisation"
    )
    name = models.CharField(max_length=200, verbose_name="name")
    client_id = models.CharField(max_length=64, unique=True, verbose_name="client id")
    secret_hash = models.CharField(max_length=64, verbose_name="secret digest (SHA-256)")
    role = models.CharField(max_length=10, choices=ApiClientRole.choices, verbose_name="role")
    scopes = models.JSONField(default=list, blank=True, verbose_name="scopes")
    is_active = models.BooleanField(default=True, verbose_name="active")
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name="last used at")

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = "API client"
        verbose_name_plural = "API clients"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class AccessToken(models.Model):
    """A short-lived bearer token issued to an API client by the OAuth2 client-credentials grant."""

    api_client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="access_tokens", verbose_name="API client"
    )
    token_hash = models.CharField(max_length=64, unique=True, verbose_name="token digest (SHA-256)")
    scopes = models.JSONField(default=list, blank=True, verbose_name="scopes")
    issued_at = models.DateTimeField(auto_now_add=True, verbose_name="issued at")
    expires_at = models.DateTimeField(db_index=True, verbose_name="expires at")

    class Meta:
        verbose_name = "access token"
        verbose_name_plural = "access tokens"

    def __str__(self) -> str:
        return f"token of {self.api_client} until {self.expires_at:%Y-%m-%d %H:%M}"


class AuditAction(models.TextChoices):
    """Staff actions that change another organisation's standing or money, recorded in :class:`AuditEntry`."""

    SITE_APPROVE = "site_approve", "Site enrolment approved"
    SITE_REJECT = "site_reject", "Site enrolment rejected"
    SITE_ACTIVATE = "site_activate", "Site activated"
    SITE_SUSPEND = "site_suspend", "Site suspended"
    BID_OVERRIDE = "bid_override", "Bid overridden"
    SETTLEMENT_SETTLE = "settlement_settle", "Event settled by staff"
    SETTLEMENT_RESETTLE = "settlement_resettle", "Event re-settled by staff"


class AuditEntry(models.Model):
    """One staff action, append-only: who (``actor`` label, and the user when a person acted), what (``action``
    on ``object_type`` #``object_id``), why (``reason``) and the figures that changed (``details``).

    Written by :func:`apps.accounts.audit.audit_record` inside the transaction of the action itself, so an entry
    exists exactly when the action took effect. Never edited: the admin and the API only read it.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="recorded at")
    actor = models.CharField(max_length=200, verbose_name="actor")
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name="user",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name="actor's organisation",
    )
    action = models.CharField(
        max_length=40, choices=AuditAction.choices, db_index=True, verbose_name="action"
    )
    object_type = models.CharField(max_length=60, verbose_name="object type")
    object_id = models.CharField(max_length=64, verbose_name="object id")
    reason = models.TextField(blank=True, verbose_name="reason")
    details = models.JSONField(default=dict, blank=True, verbose_name="details")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type}#{self.object_id}"
