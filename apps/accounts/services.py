"""Writes for accounts: organisations, users with memberships, API clients and access tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import DomainError

from .choices import ApiClientRole, OrganisationKind, Role
from .models import AccessToken, ApiClient, Membership, Organisation, User

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)


def digest(secret: str) -> str:
    """SHA-256 hex digest of a secret or token (what the database stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def organisation_create(*, name: str, kind: OrganisationKind | str, slug: str | None = None) -> Organisation:
    """Create an organisation; ``slug`` defaults to the slugified name."""
    return Organisation.objects.create(name=name, kind=kind, slug=slug or slugify(name))


def user_create(
    *,
    username: str,
    password: str,
    organisation: Organisation,
    role: Role | str = Role.VIEWER,
    email: str = "",
) -> User:
    """Create a user and its membership of ``organisation`` with ``role`` in one transaction."""
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def user_make_superuser(*, user: User) -> None:
    """Give ``user`` Django's staff and superuser flags (the admin site); for the aggregator's own people."""
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)


@dataclass(frozen=True)
class IssuedCredentials:
    """An API client and its plain-text secret, which is never stored and can only be shown once."""

    api_client: ApiClient
    client_secret: str


def new_client_secret() -> str:
    """A fresh client secret: 32 random bytes, URL-safe base64 (43 characters), never starting with ``-``, so
    it can be passed as a command-line value (``run_site_agent --client-secret SECRET``) without being read as
    an option (``token_urlsafe`` starts with ``-`` one time in 64)."""
    while True:
        secret = secrets.token_urlsafe(32)
        if not secret.startswith("-"):
            return secret


def api_client_create(
    *,
    organisation: Organisation,
    role: ApiClientRole | str,
    name: str = "",
    scopes: list[str] | None = None,
) -> IssuedCredentials:
    """Create an API client with a random client id and secret; the secret is returned once, stored hashed.

    Raises:
        DomainError: the role does not fit the organisation (``ven`` only for site owners, ``bl`` only for the
            aggregator).
    """
    if role == ApiClientRole.VEN and organisation.kind != OrganisationKind.SITE_OWNER:
        raise DomainError("role 'ven' is for a site owner's site control system.", field="role")
    if role == ApiClientRole.BL and organisation.kind != OrganisationKind.AGGREGATOR:
        raise DomainError("role 'bl' (OpenADR business logic) is for the aggregator.", field="role")
    client_id = f"{organisation.slug[:20]}-{secrets.token_hex(8)}"
    client_secret = new_client_secret()
    api_client = ApiClient.objects.create(
        organisation=organisation,
        name=name or f"{organisation.name} {role}",
        client_id=client_id,
        secret_hash=digest(client_secret),
        role=role,
        scopes=scopes or [],
    )
    return IssuedCredentials(api_client=api_client, client_secret=client_secret)


def api_client_issue_named(
    *, organisation: Organisation, role: ApiClientRole | str, name: str, scopes: list[str] | None = None
) -> IssuedCredentials:
    """Credentials for the organisation's client called ``name``: created if missing, otherwise its secret is
    rotated (old secret and tokens stop working). Used by tools that act for an organisation, e.g. simulators."""
    client = ApiClient.objects.filter(organisation=organisation, name=name).first()
    if client is None:
        return api_client_create(organisation=organisation, role=role, name=name, scopes=scopes)
    secret = new_client_secret()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(secret_hash=digest(secret), role=role, is_active=True)
        AccessToken.objects.filter(api_client=client).delete()
    client.refresh_from_db()
    return IssuedCredentials(api_client=client, client_secret=secret)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: list[str]


def access_token_issue(*, client_id: str, client_secret: str, scope: str = "") -> IssuedToken:
    """OAuth2 client-credentials grant (RFC 6749 §4.4): check the credentials and issue a bearer token.

    ``scope`` is a space-separated request; the granted scopes are the requested ones the client holds (all
    of the client's scopes when none are requested).

    Raises:
        DomainError: unknown client, wrong secret or inactive client (the same message for each, so that
            client ids cannot be probed), or a requested scope the client does not hold.
    """
    api_client = ApiClient.objects.filter(client_id=client_id, is_active=True).first()
    if api_client is None or not secrets.compare_digest(api_client.secret_hash, digest(client_secret)):
        raise DomainError("invalid client credentials.", field="client_id")
    requested = [s for s in scope.split() if s]
    missing = [s for s in requested if s not in api_client.scopes]
    if missing and api_client.scopes:
        raise DomainError(f"scope(s) not granted to this client: {' '.join(missing)}.", field="scope")
    granted = requested or list(api_client.scopes)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    AccessToken.objects.create(
        api_client=api_client,
        token_hash=digest(token),
        scopes=granted,
        expires_at=now + ACCESS_TOKEN_LIFETIME,
    )
    ApiClient.objects.filter(pk=api_client.pk).update(last_used_at=now)
    return IssuedToken(
        access_token=token, expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()), scopes=granted
    )


def access_tokens_purge_expired() -> int:
    """Delete expired access tokens; returns how many were deleted."""
    deleted, _ = AccessToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
