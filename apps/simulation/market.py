"""A market operator simulator that acts only through the REST API (``/api/v1/market/…``).

It plans peak-shaving events on the zone's real price peaks (from the stored prices): for each local day, the
window with the highest mean price between 14:00 and 22:00 local time becomes an event when that mean is at
least the :data:`PEAK_QUANTILE` quantile of the period's hourly prices and :data:`PEAK_FACTOR` × their median; the window lasts :data:`EVENT_HOURS`
hours, clamped to the program's minimum and maximum event duration. Events are announced day-ahead (10:00 local on
the previous day, as day-ahead demand-response programs do), the gate is closed at gate-closure time, bids
priced at or below the clearing price are awarded up to the requested kW (pay-as-clear at the window's mean
energy price, the price FERC Order 745 pays demand response), and the event is activated at its start for the
awarded kW. One regulation event replays the real PJM RegA 2-second signal bundled in ``data/markets``.

``step(now)`` is idempotent: it does whatever is due at ``now`` and remembers what it did, so it can be driven
by a replay loop or by the ``simulate_market`` command.
"""

from __future__ import annotations

import csv
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings

from apps.markets.models import Program
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import datapoints_series, series_for

PEAK_QUANTILE = 0.9
PEAK_FACTOR = 1.5
EVENT_HOURS = 2
PEAK_SEARCH_LOCAL = (time(14, 0), time(22, 0))
ANNOUNCE_LOCAL = time(10, 0)
REGA_FILE = Path(settings.BASE_DIR) / "data" / "markets" / "pjm_rega_2s_2017-08-01T21Z_1h.csv"


class OperatorApi(Protocol):
    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]: ...


class InProcessApi:
    """Calls the REST API in-process (full routing, authentication, serializers; no socket) with a bearer token."""

    def __init__(self, token: str) -> None:
        from rest_framework.test import APIClient

        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        response = getattr(self.client, method.lower())(path, body, format="json")
        data = response.json() if response.content else None
        return response.status_code, data


class HttpApi:
    """Calls a running server over HTTP with a bearer token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method.upper(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None


@dataclass
class PlannedEvent:
    """An event the simulator will run, and what it did so far."""

    program_id: int
    start: datetime
    end: datetime
    requested_kw: float
    announce_at: datetime
    reference_price_per_mwh: float | None
    signal: list[float] | None = None
    signal_resolution_seconds: int | None = None
    event_id: int | None = None
    gate_closure_at: datetime | None = None
    closed: bool = False
    awarded_kw: float = 0.0
    awarded: bool = False
    activated: bool = False
    log: list[str] = field(default_factory=list)


def zone_prices(zone_code: str, start: datetime, end: datetime) -> pd.Series:
    """Stored hourly prices of ``zone_code`` (its unnamed price series) over ``[start, end)``."""
    series = series_for(zone=zone_code, quantity=Quantity.PRICE)
    if series is None:
        return pd.Series(dtype=float)
    return datapoints_series(series=series, start=start, end=end)


def plan_peak_events(
    *, program: Program, start_day: pd.Timestamp, days: int, requested_kw: float
) -> list[PlannedEvent]:
    """Events on the real price peaks of ``program.zone`` for ``days`` local days from ``start_day``."""
    tz = ZoneInfo(program.zone.timezone)
    first = pd.Timestamp(start_day.date(), tz=tz)
    prices = zone_prices(
        program.zone_id,
        first.tz_convert("UTC") - pd.Timedelta(days=1),
        (first + pd.Timedelta(days=days + 1)).tz_convert("UTC"),
    )
    if prices.empty:
        return []
    values = prices.to_numpy()
    threshold = max(float(np.quantile(values, PEAK_QUANTILE)), PEAK_FACTOR * float(np.median(values)))
    hourly = prices.resample("1h").mean()
    duration = pd.Timedelta(
        minutes=min(max(EVENT_HOURS * 60, program.min_duration_minutes), program.max_duration_minutes)
    )
    window_hours = max(1, int(np.ceil(duration / pd.Timedelta(hours=1))))
    planned = []
    for d in range(days):
        day = first + pd.Timedelta(days=d)
        lo = day.replace(hour=PEAK_SEARCH_LOCAL[0].hour)
        hi = day.replace(hour=PEAK_SEARCH_LOCAL[1].hour)
        window = hourly[(hourly.index >= lo.tz_convert("UTC")) & (hourly.index < hi.tz_convert("UTC"))]
        rolling = window.rolling(window_hours).mean().dropna()
        if rolling.empty or rolling.max() < threshold:
            continue
        start = rolling.idxmax() - pd.Timedelta(hours=window_hours - 1)
        end_hour = start + duration
        announce = (day - pd.Timedelta(days=1)).replace(hour=ANNOUNCE_LOCAL.hour)
        planned.append(
            PlannedEvent(
                program_id=program.pk,
                start=start.to_pydatetime(),
                end=end_hour.to_pydatetime(),
                requested_kw=requested_kw,
                announce_at=announce.tz_convert("UTC").to_pydatetime(),
                reference_price_per_mwh=round(float(rolling.max()), 2),
            )
        )
    return planned


def plan_regulation_event(*, program: Program, day: pd.Timestamp, requested_kw: float) -> PlannedEvent:
    """One hour of regulation at 17:00 local on ``day``, following the bundled real RegA signal."""
    tz = ZoneInfo(program.zone.timezone)
    start = pd.Timestamp(day.date(), tz=tz).replace(hour=17).tz_convert("UTC")
    with REGA_FILE.open() as handle:
        signal = [float(row["rega_signal_pu"]) for row in csv.DictReader(handle)]
    announce = (
        (start.tz_convert(tz) - pd.Timedelta(days=1)).replace(hour=ANNOUNCE_LOCAL.hour).tz_convert("UTC")
    )
    return PlannedEvent(
        program_id=program.pk,
        start=start.to_pydatetime(),
        end=(start + pd.Timedelta(hours=1)).to_pydatetime(),
        requested_kw=requested_kw,
        announce_at=announce.to_pydatetime(),
        reference_price_per_mwh=None,
        signal=signal,
        signal_resolution_seconds=2,
    )


class MarketSimulator:
    """Drives planned events through the operator API; ``step(now)`` does what is due (idempotent)."""

    def __init__(self, api: OperatorApi, events: list[PlannedEvent]) -> None:
        self.api = api
        self.events = sorted(events, key=lambda e: e.start)

    def checkpoints(self) -> list[datetime]:
        """Times at which something is due (for a driver that jumps from one to the next)."""
        times: set[datetime] = set()
        for e in self.events:
            times.add(e.announce_at)
            times.add(e.start)
            times.add(e.end)
        return sorted(times)

    def step(self, now: datetime) -> list[str]:
        done: list[str] = []
        for e in self.events:
            if e.event_id is None and now >= e.announce_at:
                done += self._announce(e)
            if e.event_id is None:
                continue
            if not e.closed and e.gate_closure_at is not None and now >= e.gate_closure_at:
                status, _ = self.api.call("post", f"/api/v1/market/events/{e.event_id}/close-gate/")
                # 409 after gate-closure time means beat closed it already
                e.closed = status in (200, 409)
            if e.closed and not e.awarded:
                done += self._award(e)
            if e.awarded and e.awarded_kw > 0 and not e.activated and now >= e.start:
                done += self._activate(e)
        return done

    def _announce(self, e: PlannedEvent) -> list[str]:
        status, body = self.api.call(
            "post",
            "/api/v1/market/events/",
            {
                "program": e.program_id,
                "start": e.start.isoformat(),
                "end": e.end.isoformat(),
                "requested_kw": e.requested_kw,
                "reference_price_per_mwh": e.reference_price_per_mwh,
            },
        )
        if status != 201:
            e.event_id = -1
            msg = f"announce {e.start:%Y-%m-%d %H:%M} refused: {status} {body}"
        else:
            e.event_id = body["id"]
            e.gate_closure_at = datetime.fromisoformat(body["gate_closure_at"])
            msg = f"announced event {e.event_id} {e.start:%Y-%m-%d %H:%M}Z, {e.requested_kw:g} kW"
        e.log.append(msg)
        return [msg]

    def _award(self, e: PlannedEvent) -> list[str]:
        status, bids = self.api.call("get", f"/api/v1/market/events/{e.event_id}/bids/")
        if status != 200:
            return []
        clearing = e.reference_price_per_mwh
        remaining = e.requested_kw
        messages = []
        for bid in sorted(bids, key=lambda b: min((i["price_per_mwh"] for i in b["intervals"]), default=0.0)):
            if bid["status"] != "submitted" or remaining <= 0:
                continue
            intervals = []
            for i in bid["intervals"]:
                if clearing is not None and i["price_per_mwh"] > clearing:
                    continue
                intervals.append({"start": i["start"], "awarded_kw": min(i["quantity_kw"], remaining)})
            if not intervals:
                continue
            price = clearing if clearing is not None else max(i["price_per_mwh"] for i in bid["intervals"])
            code, _ = self.api.call(
                "post",
                f"/api/v1/market/events/{e.event_id}/awards/",
                {"bid": bid["id"], "clearing_price_per_mwh": price, "intervals": intervals},
            )
            if code == 201:
                kw = max(i["awarded_kw"] for i in intervals)
                e.awarded_kw += kw
                remaining -= kw
                messages.append(f"awarded {kw:g} kW of bid {bid['id']} at {price:g}/MWh (event {e.event_id})")
        e.awarded = True
        if not messages:
            messages.append(f"event {e.event_id}: no bid at or below the clearing price")
        e.log += messages
        return messages

    def _activate(self, e: PlannedEvent) -> list[str]:
        body: dict[str, Any] = {
            "activation_id": f"sim-{e.event_id}",
            "start": e.start.isoformat(),
            "end": e.end.isoformat(),
        }
        if e.signal is not None:
            body |= {
                "signal": e.signal,
                "signal_resolution_seconds": e.signal_resolution_seconds,
                "kw": e.awarded_kw,
            }
        else:
            body["kw"] = e.awarded_kw
        status, _ = self.api.call("post", f"/api/v1/market/events/{e.event_id}/activations/", body)
        e.activated = status in (201, 409)
        msg = (
            f"activated event {e.event_id} for {e.awarded_kw:g} kW"
            if status == 201
            else f"activation {status}"
        )
        e.log.append(msg)
        return [msg]
