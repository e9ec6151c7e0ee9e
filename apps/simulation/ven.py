"""A datacenter site's OpenADR 3.1 VEN over HTTP: the simulated site of :mod:`apps.simulation.agent` driven by the
VTN's events and metered through reports, with no database access for either.

- :class:`VtnClient` talks to a VTN (this project's ``/openadr3/3.1.0`` or any other) with ``httpx``: an OAuth2
  client-credentials token from ``POST /auth/token`` (RFC 6749 §4.4; renewed before it expires and once on a
  401), VEN registration (``POST /vens``, a ``VEN_VEN_REQUEST``), ``GET /events?active=true`` paged with
  ``skip``/``limit``, ``POST /reports`` and ``POST /subscriptions``.
- :class:`NotificationListener` is the VEN's webhook endpoint: the agent subscribes to its events and re-reads
  them when notified, polling only as a fallback.
- :func:`setpoints_from_events` reads interval payloads (Definition.md §"Event Payload Enumerations", kW):
  ``DISPATCH_SETPOINT`` (absolute grid power) and ``IMPORT_CAPACITY_LIMIT``; a payload with *n* values is *n* equal consecutive sub-intervals (User Guide §7.3);
  interval timing follows the event's ``intervalPeriod`` inheritance (:func:`apps.openadr.timing.resolve_windows`).
  Where events overlap, the lower ``priority`` number wins (0 is highest), then the later-created event.
- :class:`VenAgent` is a :class:`~apps.simulation.agent.SiteAgent` whose setpoint comes from those events and
  whose meter posts a ``DEMAND`` (kW, ``DIRECT_READ``) report per step, which the VTN stores as the site's
  ``site_power_kw`` telemetry. The plant it simulates (PUE, IT capacity, workload classes, batteries) is the
  site's registered description; only control and metering go over OpenADR.

Local control policy (OpenADR carries no battery/workload split): ``DISPATCH_SETPOINT`` is absolute, so the
change asked for is the setpoint less the site's own uncontrolled grid power now (not the aggregator's
forecast baseline); a reduction is covered by deferrable work first and the batteries (above their backup
reserve) for the rest; an increase catches up deferred work. ``IMPORT_CAPACITY_LIMIT`` alone is followed as a
target of ``min(own power, limit)``. (``DISPATCH_SETPOINT_RELATIVE`` is not used: its enumeration has a
minimum of 0, so it cannot carry a reduction as a signed change.)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd

from apps.assets.models import Site
from apps.openadr.timing import duration_iso, resolve_windows

from .agent import SiteAgent

logger = logging.getLogger(__name__)

SETPOINT = "DISPATCH_SETPOINT"
IMPORT_LIMIT = "IMPORT_CAPACITY_LIMIT"
#: Events fetched per ``GET /events`` page (the VTN caps ``limit``; paging stops at a short page).
PAGE = 50
#: A token is renewed this long before the ``expires_in`` the VTN gave.
TOKEN_MARGIN_S = 30.0


class VtnError(Exception):
    """The VTN refused a request or could not be reached; the message names the request and the VTN's answer."""


@dataclass(frozen=True)
class VenSetpoint:
    """One interval of an event, as the VEN read it: aware UTC ``[start, end)``, kW values or ``None``."""

    start: datetime
    end: datetime
    event_id: str
    priority: int
    created: str
    target_kw: float | None = None
    import_cap_kw: float | None = None


@dataclass
class AgentSetpoint:
    """What :meth:`~apps.simulation.agent.SiteAgent.step` follows (the fields of a stored setpoint it reads)."""

    baseline_kw: float
    target_kw: float
    battery_kw: float
    workloads: dict = field(default_factory=dict)
    event_id: str = ""


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
        self, *, event_id: str, client_name: str, start: datetime, duration: timedelta, kw: float
    ) -> dict:
        """Report the site's mean grid power ``kw`` over ``[start, start + duration)`` against ``event_id``."""
        interval_period = {"start": start.astimezone(UTC).isoformat(), "duration": duration_iso(duration)}
        return self.request(
            "POST",
            "/reports",
            json={
                "eventID": event_id,
                "clientName": client_name,
                "reportName": "metered site power",
                "payloadDescriptors": [
                    {
                        "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
                        "payloadType": "DEMAND",
                        "readingType": "DIRECT_READ",
                        "units": "KW",
                    }
                ],
                "resources": [
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
                ],
            },
        )


def _kw_payloads(event: dict) -> set[str]:
    """Payload types of ``event`` in kW: declared so by a descriptor, or undeclared (kW is this VTN's unit)."""
    units = {
        d.get("payloadType"): (d.get("units") or "KW").upper() for d in event.get("payloadDescriptors") or []
    }
    return {kind for kind in (SETPOINT, IMPORT_LIMIT) if units.get(kind, "KW") == "KW"}


def setpoints_from_events(events: list[dict]) -> list[VenSetpoint]:
    """The kW setpoints of ``events`` (openadr3.yaml ``event`` objects), one per (sub-)interval; intervals
    whose start or duration cannot be resolved, or payloads in other units, are left out."""
    out: list[VenSetpoint] = []
    for event in events:
        kinds = _kw_payloads(event)
        # a lower number is a higher priority; none is the lowest (Definition.md, event ``priority``)
        priority = int(event["priority"]) if event.get("priority") is not None else 1 << 30
        intervals = event.get("intervals") or []
        for interval, window in zip(
            intervals, resolve_windows(event.get("intervalPeriod"), intervals), strict=True
        ):
            if not isinstance(window.start, datetime) or window.end is None:
                continue
            values: dict[str, list[float]] = {
                p["type"]: [float(v) for v in p.get("values") or []]
                for p in interval.get("payloads") or []
                if p.get("type") in kinds
            }
            n = max((len(v) for v in values.values()), default=0)
            if n == 0:
                continue
            step = (window.end - window.start) / n
            for k in range(n):
                picked = {kind: v[k] if k < len(v) else v[-1] for kind, v in values.items() if v}
                out.append(
                    VenSetpoint(
                        start=window.start + k * step,
                        end=window.start + (k + 1) * step,
                        event_id=str(event["id"]),
                        priority=priority,
                        created=str(event.get("createdDateTime") or ""),
                        target_kw=picked.get(SETPOINT),
                        import_cap_kw=picked.get(IMPORT_LIMIT),
                    )
                )
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


class VenAgent(SiteAgent):
    """:class:`~apps.simulation.agent.SiteAgent` as an OpenADR VEN over HTTP (see the module docstring).

    Call :meth:`poll` to refresh the events, then :meth:`~apps.simulation.agent.SiteAgent.step`; each step's
    metered grid power is reported against the event in force (else the last event seen; with none yet, the
    reading is kept locally only). ``reports`` holds the VTN's answers.
    """

    def __init__(
        self,
        site: Site,
        uncontrolled_it_kw: pd.Series,
        *,
        vtn: VtnClient,
        ven_name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(site, uncontrolled_it_kw, **kwargs)
        self.vtn = vtn
        self.ven_name = ven_name
        self.setpoints: list[VenSetpoint] = []
        self.reports: list[dict] = []
        self.last_event_id: str | None = None
        self._current: AgentSetpoint | None = None

    def register(self) -> dict:
        """Register this VEN with the VTN (idempotent); dispatch then delivers the site's setpoints as events."""
        return self.vtn.register(self.ven_name)

    def poll(self) -> int:
        """Fetch the active events; returns how many setpoint intervals they hold."""
        self.setpoints = setpoints_from_events(self.vtn.events())
        if self.setpoints:
            self.last_event_id = max(self.setpoints, key=lambda s: s.created).event_id
        return len(self.setpoints)

    def _own_baseline_kw(self, moment: datetime) -> float:
        it = self._at(self.load, moment)
        pv = min(self._at(self.pv, moment), max(it * self.site.pue, 0.0)) if self.pv is not None else 0.0
        return self.site.pue * it - pv

    def setpoint_at(self, moment: datetime) -> AgentSetpoint | None:
        """The event interval in force at ``moment`` under the local control policy, or ``None``."""
        covering = [s for s in self.setpoints if s.start <= moment < s.end]
        if not covering:
            self._current = None
            return None
        sp = min(covering, key=lambda s: (s.priority, _neg(s.created)))
        baseline = self._own_baseline_kw(moment)
        if sp.target_kw is not None:
            target = sp.target_kw
        elif sp.import_cap_kw is not None:
            target = min(baseline, sp.import_cap_kw)
        else:
            self._current = None
            return None
        change = target - baseline
        if change < 0:
            it = self._at(self.load, moment)
            by_work = self.deferrable_share * it * self.site.pue
            battery_kw, workloads = -max(-change - by_work, 0.0), {}
        else:
            battery_kw, workloads = 0.0, {"backlog": {"defer_kw": -change / self.site.pue}}
        self._current = AgentSetpoint(baseline, target, battery_kw, workloads, sp.event_id)
        return self._current

    def _meter(self, start: datetime, dt: timedelta, grid: float, it: float) -> None:
        self.state.readings.append((start, grid))
        event_id = self._current.event_id if self._current else self.last_event_id
        if event_id is None:
            logger.info("site %s: no event to report %s against; kept locally", self.site.pk, start)
            return
        self.reports.append(
            self.vtn.report_demand(
                event_id=event_id, client_name=self.ven_name, start=start, duration=dt, kw=grid
            )
        )

    def _acknowledge(self) -> None:
        """OpenADR 3 events carry no acknowledgement; the VEN's reports are its answer."""


def _neg(created: str) -> tuple:
    """Sort key putting later ISO timestamps first."""
    return tuple(-ord(c) for c in created)
