"""The HTTP side of the simulated OpenADR 3.1 VEN (:mod:`apps.simulation.ven`), with no database access:

- :class:`VtnClient`: the VEN's session with a VTN over ``httpx`` (OAuth2 client-credentials token, renewed
  before it expires and once on a 401; VEN registration, paged ``GET /events?active=true``, ``POST /reports``
  and ``POST /subscriptions``), raising :class:`VtnError` when the VTN refuses or cannot be reached; a
  demand report may carry the site's live state (:class:`SiteStateReport`, :func:`state_resources`);
- :class:`NotificationListener`: the VEN's webhook endpoint (echo challenge, bearer-token notifications that
  wake the agent).

Re-exported from :mod:`apps.simulation.ven`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from apps.openadr.timing import duration_iso

#: Events fetched per ``GET /events`` page (the VTN caps ``limit``; paging stops at a short page).
PAGE = 50
#: A token is renewed this long before the ``expires_in`` the VTN gave.
TOKEN_MARGIN_S = 30.0


class VtnError(Exception):
    """The VTN refused a request or could not be reached; the message names the request and the VTN's answer."""


class VtnClient:
    """An OpenADR 3.1 VEN's HTTP session with a VTN (see the module docstring).

    ``base_url`` is the VTN's base, e.g. ``http://host:8000/openadr3/3.1.0``; ``transport`` is an optional
    ``httpx`` transport (tests).
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self.http.close()

    def _fetch_token(self) -> str:
        response = self.http.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret,
            },
        )
        if response.status_code != 200:
            raise VtnError(f"POST /auth/token: HTTP {response.status_code} {response.text[:300]}")
        body = response.json()
        self._token = body["access_token"]
        self._expires_at = time.monotonic() + float(body.get("expires_in", 3600)) - TOKEN_MARGIN_S
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``method path`` with a bearer token; returns the decoded JSON body.

        Raises:
            VtnError: a non-2xx answer (after one token renewal on 401) or a transport failure.
        """
        for attempt in (0, 1):
            token = (
                self._token if self._token and time.monotonic() < self._expires_at else self._fetch_token()
            )
            try:
                response = self.http.request(
                    method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
                )
            except httpx.HTTPError as exc:
                raise VtnError(f"{method} {path}: {exc}") from exc
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            if not 200 <= response.status_code < 300:
                raise VtnError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
            return response.json() if response.content else None
        raise VtnError(f"{method} {path}: unauthorised")  # pragma: no cover - the loop returns or raises

    def register(self, ven_name: str) -> dict:
        """This client's ven object: the one already registered (a VEN reads only its own), else a new one."""
        mine = self.request("GET", "/vens")
        if mine:
            return mine[0]
        return self.request("POST", "/vens", json={"objectType": "VEN_VEN_REQUEST", "venName": ven_name})

    def subscribe(self, *, client_name: str, callback_url: str, bearer_token: str) -> dict:
        """Subscribe to this VEN's event creates, updates and deletes at ``callback_url`` (the VTN verifies it
        with an echo challenge first, Definition.md §Webhooks); returns the subscription."""
        operation = {
            "objects": ["EVENT"],
            "operations": ["CREATE", "UPDATE", "DELETE"],
            "callbackUrl": callback_url,
            "bearerToken": bearer_token,
        }
        return self.request(
            "POST", "/subscriptions", json={"clientName": client_name, "objectOperations": [operation]}
        )

    def events(self) -> list[dict]:
        """Every event the VTN shows this VEN whose lifespan has not ended (``active=true``), all pages."""
        events: list[dict] = []
        while True:
            page = self.request(
                "GET", "/events", params={"active": "true", "skip": len(events), "limit": PAGE}
            )
            events.extend(page)
            if len(page) < PAGE:
                return events

    def report_demand(
        self,
        *,
        event_id: str,
        client_name: str,
        start: datetime,
        duration: timedelta,
        kw: float,
        state: SiteStateReport | None = None,
    ) -> dict:
        """Report the site's mean grid power ``kw`` over ``[start, start + duration)`` against ``event_id``, with
        the site's live ``state`` in the same report when given (:func:`state_resources`)."""
        interval_period = {"start": start.astimezone(UTC).isoformat(), "duration": duration_iso(duration)}
        resources: list[dict[str, Any]] = [
            {
                "resourceName": "AGGREGATED_REPORT",
                "intervals": [
                    {
                        "id": 0,
                        "intervalPeriod": interval_period,
                        "payloads": [{"type": "DEMAND", "values": [round(kw, 3)]}],
                    }
                ],
            }
        ]
        if state is not None:
            resources += state_resources(state)
        return self.request(
            "POST",
            "/reports",
            json={
                "eventID": event_id,
                "clientName": client_name,
                "reportName": "metered site power" if state is None else "metered site power and state",
                "payloadDescriptors": [
                    {
                        "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
                        "payloadType": "DEMAND",
                        "readingType": "DIRECT_READ",
                        "units": "KW",
                    }
                ],
                "resources": resources,
            },
        )


@dataclass(frozen=True)
class QueueEntry:
    """One entry of deferred work: its class's name, IT energy (kWh), arrival and deadline (aware UTC)."""

    workload_class: str
    energy_kwh: float
    arrived_at: datetime
    deadline: datetime
    job_id: str = ""


@dataclass(frozen=True)
class SiteStateReport:
    """A site's live state at ``reported_at`` (aware UTC): IT load (kW), each battery's charge level (fraction
    0…1 of its energy capacity, by battery name) and its queue of deferred work."""

    reported_at: datetime
    it_load_kw: float
    charge_levels: tuple[tuple[str, float], ...] = ()
    queue: tuple[QueueEntry, ...] = ()


def state_resources(state: SiteStateReport) -> list[dict[str, Any]]:
    """The report resources carrying ``state`` as :mod:`apps.openadr.state` reads them: one resource per battery
    (named after it) with a ``STORAGE_CHARGE_LEVEL`` interval, and a ``site`` resource with ``X_VPP_IT_LOAD_KW``
    then one ``X_VPP_QUEUE`` interval per entry (its value a JSON-encoded object); every interval starts at
    ``reported_at`` (duration ``PT0S``: a state is an instant)."""
    period = {"start": state.reported_at.astimezone(UTC).isoformat(), "duration": "PT0S"}
    out: list[dict[str, Any]] = [
        {
            "resourceName": name,
            "intervalPeriod": period,
            "intervals": [
                {"id": 0, "payloads": [{"type": "STORAGE_CHARGE_LEVEL", "values": [round(level, 6)]}]}
            ],
        }
        for name, level in state.charge_levels
    ]
    site_intervals: list[dict[str, Any]] = [
        {"id": 0, "payloads": [{"type": "X_VPP_IT_LOAD_KW", "values": [round(state.it_load_kw, 3)]}]}
    ]
    for k, entry in enumerate(state.queue):
        raw = {
            "workload_class": entry.workload_class,
            "energy_kwh": round(entry.energy_kwh, 6),
            "arrived_at": entry.arrived_at.astimezone(UTC).isoformat(),
            "deadline": entry.deadline.astimezone(UTC).isoformat(),
        }
        if entry.job_id:
            raw["job_id"] = entry.job_id
        site_intervals.append(
            {"id": k + 1, "payloads": [{"type": "X_VPP_QUEUE", "values": [json.dumps(raw)]}]}
        )
    out.append({"resourceName": "site", "intervalPeriod": period, "intervals": site_intervals})
    return out


class NotificationListener:
    """The VEN's webhook endpoint: a small threaded HTTP server that answers the VTN's echo challenge
    (``GET ?echo=X`` → 200 ``X``) and wakes the agent on each notification POSTed with its bearer token (any
    other token: 401). The agent then re-reads its events; the notification only says that something changed.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, bearer_token: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        self.pushed = threading.Event()
        self.received = 0
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                echo = (parse_qs(urlsplit(self.path).query).get("echo") or [""])[0]
                self._answer(200 if echo else 400, echo.encode())

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != f"Bearer {bearer_token}":
                    self._answer(401)
                    return
                listener.received += 1
                listener.pushed.set()
                self._answer(200)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, public_host: str | None = None) -> str:
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        return f"http://{public_host or host}:{port}/openadr-notifications"

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for a notification; ``True`` if one came (and clear the flag)."""
        pushed = self.pushed.wait(timeout_s)
        self.pushed.clear()
        return pushed

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
