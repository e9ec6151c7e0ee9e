"""Test settings: fast password hashing. DATABASE_URL / REDIS_URL select PostgreSQL and Redis (CI sets both).

On PostgreSQL each test run gets its own test database (``test_vpp_<pid>``, or ``$VPP_TEST_DB_NAME``), so that concurrent
runs on one server do not drop each other's database.
"""

import os

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("VPP_TEST_DB_NAME", f"test_vpp_{os.getpid()}")}

# Tests opt in to the activation → dispatch hand-off (``settings`` fixture), so no stray dispatch messages
# are left in the broker for another test's worker.
VPP_ACTIVATION_TASK = ""
VPP_AWARD_TASK = ""

# Many tests ask for tokens and log in from 127.0.0.1 within a minute; the rate-limit tests set low rates.
VPP_RATE_LIMITS = {"token": "100000/min", "login": "100000/min"}

# OpenADR webhook tests use local callback sinks (http://127.0.0.1:…); production requires https.
OPENADR_ALLOW_LOOPBACK_CALLBACKS = True
OPENADR_CALLBACK_TIMEOUT_S = 5.0
