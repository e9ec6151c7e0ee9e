"""Production settings: secrets and hosts only from the environment, HTTPS-only cookies, manifest static files.

Required environment (a missing or unsafe value stops the process at start-up with ``ImproperlyConfigured``):
    DJANGO_SECRET_KEY     ≥ 50 characters, not the development default
    DJANGO_ALLOWED_HOSTS  comma-separated host names
    DATABASE_URL          PostgreSQL (the SQLite default of the demo is refused)
    REDIS_URL             Celery broker and the shared cache (rate limits must be counted across workers)

``manage.py check --deploy`` is clean with these set (tests/reliability/test_security_settings.py runs it).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES, env

_REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
_missing = [name for name in _REQUIRED if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        f"production settings need these environment variables: {', '.join(_missing)} (secrets are never "
        "defaulted in production)."
    )

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure-") or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a random value of at least 50 characters.")
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production.")

DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Webhook callbacks are https:// to public addresses only, whatever the environment says.
OPENADR_ALLOW_LOOPBACK_CALLBACKS = False
