"""Signed webhooks: HMAC-SHA256 over ``"<timestamp>.<body>"`` (the scheme Stripe and GitHub use), sent with the
timestamp so a receiver can refuse replays outside a time window, and an idempotency key so a receiver can
drop duplicates of a retried delivery.

Header: ``X-VPP-Signature: t=<unix seconds>,v1=<hex digest>``; ``Idempotency-Key: <key>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

SIGNATURE_HEADER = "X-VPP-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Receivers refuse signatures older (or newer) than this, in seconds.
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The signature header value for ``body`` at ``timestamp`` (default: now)."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


class SignatureError(ValueError):
    """The webhook's signature is missing, malformed, wrong, or outside the time window."""


def verify(
    secret: str, header: str, body: bytes, *, now: int | None = None, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """Check a signature header; returns its timestamp.

    Raises:
        SignatureError: malformed header, timestamp outside ``±tolerance`` seconds (a replay), or a digest
            that does not match (constant-time comparison).
    """
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise SignatureError("malformed signature header") from exc
    current = int(time.time()) if now is None else now
    if abs(current - ts) > tolerance:
        raise SignatureError(f"signature timestamp outside the {tolerance} s window (replay?)")
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match")
    return ts


@dataclass(frozen=True)
class PostResult:
    ok: bool
    status: int | None
    error: str = ""


def post(url: str, payload: dict, *, secret: str, idempotency_key: str, timeout: float = 5.0) -> PostResult:
    """POST ``payload`` as JSON, signed; ``ok`` for any 2xx answer."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            IDEMPOTENCY_HEADER: idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return PostResult(200 <= response.status < 300, response.status)
    except urllib.error.HTTPError as exc:
        return PostResult(False, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return PostResult(False, None, str(exc)[:500])
