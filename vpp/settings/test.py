"""Test settings: fast password hashing. DATABASE_URL / REDIS_URL select PostgreSQL and Redis (CI sets both)."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
