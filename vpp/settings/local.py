"""Development and demo settings: debug on, SQLite and the embedded broker unless env vars say otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# The local demo's simulated VENs take OpenADR notifications on loopback http:// callbacks.
OPENADR_ALLOW_LOOPBACK_CALLBACKS = env.bool("OPENADR_ALLOW_LOOPBACK_CALLBACKS", default=True)
