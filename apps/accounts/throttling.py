"""Rate limits on the credential endpoints: the OAuth2 token endpoints and the dashboard login.

Rates come from ``settings.VPP_RATE_LIMITS`` (``{"token": "30/min", "login": "10/min"}``; env
``VPP_RATE_LIMIT_TOKEN`` / ``VPP_RATE_LIMIT_LOGIN``), counted in Django's cache (Redis in production, so every
gunicorn worker shares one count).

- Token endpoints (``POST /api/v1/auth/token``, ``POST /openadr3/3.1.0/auth/token``): every request counts, per
  client IP (DRF throttling, fixed window history). Over the rate → ``429`` problem document with
  ``Retry-After`` (seconds), via the project's exception handler.
- Login page: failed attempts count, per client IP and per username (so neither one address trying many names
  nor many addresses trying one name gets far); at the limit the form answers ``429`` with ``Retry-After``
  and the password is not even checked. A successful login does not count.

The client IP is ``REMOTE_ADDR``: behind a proxy, configure it to set ``REMOTE_ADDR`` (gunicorn's
``--forwarded-allow-ips``); ``X-Forwarded-For`` is not trusted here because any client can send it.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import SimpleRateThrottle

DEFAULT_RATES = {"token": "30/min", "login": "10/min"}


def rate_of(scope: str) -> str:
    """The configured rate of ``scope`` (``"<count>/<sec|min|hour|day>"``)."""
    return getattr(settings, "VPP_RATE_LIMITS", {}).get(scope, DEFAULT_RATES[scope])


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/min"`` → ``(10, 60)``: allowed requests and window in seconds.

    Raises:
        ValueError: malformed rate.
    """
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[:1]]
    return int(count), seconds


class TokenRateThrottle(SimpleRateThrottle):
    """DRF throttle of the token endpoints: ``VPP_RATE_LIMITS["token"]`` requests per client IP."""

    scope = "token"

    def get_rate(self) -> str:
        return rate_of(self.scope)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request) -> str:
        return request.META.get("REMOTE_ADDR") or "unknown"


def _login_keys(request: HttpRequest) -> list[str]:
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    username = (request.POST.get("username") or "").strip().lower()
    user_digest = hashlib.sha256(username.encode()).hexdigest()[:32]
    return [f"vpp:login-fail:ip:{ip}", f"vpp:login-fail:user:{user_digest}"]


def login_retry_after(request: HttpRequest) -> int | None:
    """Seconds until another login attempt is accepted from this IP / for this username, or ``None`` if allowed."""
    limit, _ = parse_rate(rate_of("login"))
    now = time.time()
    waits = []
    for key in _login_keys(request):
        entry = cache.get(key)
        if entry and entry["count"] >= limit and entry["until"] > now:
            waits.append(math.ceil(entry["until"] - now))
    return max(waits) if waits else None


def login_failed(request: HttpRequest) -> None:
    """Count one failed login for the request's IP and username (fixed window of the ``login`` rate)."""
    _, window = parse_rate(rate_of("login"))
    now = time.time()
    for key in _login_keys(request):
        entry = cache.get(key)
        if not entry or entry["until"] <= now:
            entry = {"count": 0, "until": now + window}
        entry["count"] += 1
        cache.set(key, entry, timeout=math.ceil(entry["until"] - now) + 1)


class ThrottledLoginView(LoginView):
    """Django's login view with :func:`login_retry_after` / :func:`login_failed` around the form check."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = login_retry_after(request)
        if wait is not None:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, f"Too many failed attempts. Try again in {wait} s.")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failed(self.request)
        return super().form_invalid(form)
