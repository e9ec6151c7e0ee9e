"""The HTTP side of OpenADR webhooks: POSTing a notification body to a subscription's callback
(:func:`post_notification`, no proxies, no redirects), the callback URL policy (:func:`callback_url_check`) and
the echo challenge of Definition.md §Webhooks (:func:`callback_verify`, :func:`subscription_callbacks_verify`)
run when a subscription is created or names a new callback.

Re-exported from :mod:`apps.openadr.services.notify`, which sends the recorded notifications through here.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from ..models import Subscription

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class HttpResult:
    """The outcome of one callback request: ``ok`` for a 2xx answer."""

    ok: bool
    status: int | None
    error: str = ""
    body: bytes = b""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Callbacks are not followed to another address (Definition.md §Webhooks: redirects to private IPs)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


#: No proxies from the environment and no redirects.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _request(request: urllib.request.Request) -> HttpResult:
    timeout = float(settings.OPENADR_CALLBACK_TIMEOUT_S)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = response.read(65536)
            return HttpResult(200 <= response.status < 300, response.status, "", body)
    except urllib.error.HTTPError as exc:
        return HttpResult(False, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return HttpResult(False, None, str(exc)[:500] or type(exc).__name__)


def _headers(bearer_token: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "vpp-openadr-vtn/3.1.0"}
    if bearer_token:
        headers["Authorization"] = f"Bearer {bearer_token}"
    return headers


def post_notification(url: str, body: Any, *, bearer_token: str = "") -> HttpResult:
    """POST one ``notification`` body as JSON to a callback, with the subscription's bearer token."""
    data = json.dumps(body, separators=(",", ":")).encode()
    return _request(urllib.request.Request(url, data=data, method="POST", headers=_headers(bearer_token)))


def callback_url_check(url: str, *, field: str) -> None:
    """The callback URL policy: ``https://`` (Definition.md §Webhooks "The VTN MUST validate that an HTTPS
    schema is used"), and no literal loopback, private or link-local address. With
    ``settings.OPENADR_ALLOW_LOOPBACK_CALLBACKS`` (tests, local demo) ``http://`` and ``https://`` to
    ``localhost`` / ``127.0.0.1`` / ``::1`` are allowed too.

    Raises:
        ValidationError: keyed by ``field``.
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    loopback_ok = bool(settings.OPENADR_ALLOW_LOOPBACK_CALLBACKS) and host in LOOPBACK_HOSTS
    if parts.scheme.lower() != "https" and not (loopback_ok and parts.scheme.lower() == "http"):
        raise ValidationError({field: ["must be an https:// URL (Definition.md §Webhooks)."]})
    if loopback_ok:
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            raise ValidationError({field: ["a loopback callback is not allowed."]}) from None
        return
    if address.is_loopback or address.is_private or address.is_link_local or address.is_reserved:
        raise ValidationError(
            {field: [f"callbacks to {address} (a private or reserved address) are refused."]}
        )


def callback_verify(url: str, *, bearer_token: str = "", field: str) -> None:
    """Definition.md §Webhooks: GET ``url`` with the query parameter ``echo`` set to a random string; the
    callback must answer 200 with that string in its body, else the subscription is refused.

    Raises:
        ValidationError: keyed by ``field``, naming the URL and what went wrong (the API answers 400).
    """
    challenge = secrets.token_urlsafe(24)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("echo", challenge)])
    target = urllib.parse.urlunsplit(parts._replace(query=query))
    headers = _headers(bearer_token)
    headers.pop("Content-Type")
    result = _request(urllib.request.Request(target, method="GET", headers=headers))
    if result.status != 200:
        why = result.error or f"HTTP {result.status}"
        raise ValidationError({field: [f"the callback {url} did not answer the echo challenge ({why})."]})
    if challenge.encode() not in result.body:
        raise ValidationError({field: [f"the callback {url} did not echo the challenge in its 200 answer."]})


def subscription_callbacks_verify(
    *, operations: list[dict[str, Any]], known: Iterable[str] = (), prefix: str = "objectOperations"
) -> None:
    """Check and verify each callback URL of a ``subscriptionRequest``'s ``objectOperations`` (once per URL);
    URLs in ``known`` (already verified on this subscription) are not challenged again.

    Raises:
        ValidationError: the first refused URL, keyed ``objectOperations[i].callbackUrl``.
    """
    seen = set(known)
    for i, operation in enumerate(operations):
        url, field = operation["callbackUrl"], f"{prefix}[{i}].callbackUrl"
        callback_url_check(url, field=field)
        if url in seen:
            continue
        callback_verify(url, bearer_token=operation.get("bearerToken") or "", field=field)
        seen.add(url)


def subscriptions_known_urls(subscription: Subscription) -> set[str]:
    """Callback URLs a stored subscription already has (verified when it was written)."""
    return {str(op.get("callbackUrl")) for op in subscription.object_operations or []}
