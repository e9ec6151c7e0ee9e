"""Test settings: fast password hashing. DATABASE_URL / REDIS_URL select PostgreSQL and Redis (CI sets both).

On PostgreSQL each test run gets its own test database (``test_vpp_<pid>``, or ``$VPP_TEST_DB_NAME``), so that concurrent
runs on one server do not drop each other's database.
"""

import os
import re

# Under pytest-xdist (``-n N``) each worker gets its own Redis database (the base number + 1 + its index), so that
# one worker's Celery purge or queued tasks never reach another's test worker; its test database is already its
# own (the name carries the pid). The rewritten URL is inherited by the Celery workers the tests start, which
# must not shift it again. Redis has 16 databases (0-15) by default: with N workers the base must be at most 14 − N.
_xdist = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist.startswith("gw") and os.environ.get("REDIS_URL") and not os.environ.get("VPP_XDIST_REDIS_SHIFTED"):
    _match = re.fullmatch(r"(redis://[^/]+)/(\d+)", os.environ["REDIS_URL"])
    if _match:
        os.environ["REDIS_URL"] = f"{_match[1]}/{int(_match[2]) + 1 + int(_xdist[2:])}"
        os.environ["VPP_XDIST_REDIS_SHIFTED"] = "1"

from .base import *  # noqa: E402, F403
from .base import DATABASES  # noqa: E402

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
