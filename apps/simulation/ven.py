"""A datacenter site's OpenADR 3.1 VEN over HTTP: the simulated site of :mod:`apps.simulation.agent` driven by the
VTN's events and metered through reports, with no database access for either.

- :class:`VtnClient` talks to a VTN (this project's ``/openadr3/3.1.0`` or any other) with ``httpx``: an OAuth2
  client-credentials token from ``POST /auth/token`` (RFC 6749 §4.4; renewed before it expires and once on a
  401), VEN registration (``POST /vens``, a ``VEN_VEN_REQUEST``), ``GET /events?active=true`` paged with
  ``skip``/``limit``, ``POST /reports`` and ``POST /subscriptions``.
- :class:`NotificationListener` is the VEN's webhook endpoint: the agent subscribes to its events and re-reads
  them when notified, polling only as a fallback. It and :class:`VtnClient` are in :mod:`.ven_http`,
  re-exported here.
- :func:`setpoints_from_events` reads interval payloads (Definition.md §"Event Payload Enumerations", kW):
  ``DISPATCH_SETPOINT`` (absolute grid power) and ``IMPORT_CAPACITY_LIMIT``; a payload with *n* values is *n* equal consecutive sub-intervals (User Guide §7.3);
  interval timing follows the event's ``intervalPeriod`` inheritance (:func:`apps.openadr.timing.resolve_windows`).
  Where events overlap, the lower ``priority`` number wins (0 is highest), then the later-created event.
- :class:`VenAgent` is a :class:`~apps.simulation.agent.SiteAgent` whose setpoint comes from those events and
  whose meter posts one report per step: a ``DEMAND`` (kW, ``DIRECT_READ``) reading, which the VTN stores as the
  site's ``site_power_kw`` telemetry, and the site's live state (``STORAGE_CHARGE_LEVEL`` per battery resource,
  ``X_VPP_IT_LOAD_KW``, one ``X_VPP_QUEUE`` interval per queued entry: :mod:`apps.openadr.state`), which the VTN
  stores as the site's state. A regulation order arrives as the private ``X_VPP_REGULATION`` interval payload
  (:func:`regulation_from_events`) and is followed at the signal's cadence
  (:func:`apps.simulation.regulation.follow_regulation`; its 10-second meter is the simulation's, local). The plant it simulates (PUE, IT capacity, workload classes, batteries) is the
  site's registered description; only control and metering go over OpenADR.

Local control policy (OpenADR carries no battery/workload split): ``DISPATCH_SETPOINT`` is absolute, so the
change asked for is the setpoint less the site's own uncontrolled grid power now (not the aggregator's
forecast baseline); a reduction is covered by deferrable work first and the batteries (above their backup
reserve) for the rest; an increase catches up deferred work. ``IMPORT_CAPACITY_LIMIT`` alone is followed as a
target of ``min(own power, limit)``. (``DISPATCH_SETPOINT_RELATIVE`` is not used: its enumeration has a
minimum of 0, so it cannot carry a reduction as a signed change.)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from apps.assets.models import Site
from apps.dispatch.regulation import REGULATION_KEY, REGULATION_PAYLOAD
from apps.openadr.timing import resolve_windows

from .agent import SiteAgent, _job_id
from .regulation import RegulationOrder
from .ven_http import (
    PAGE,
    TOKEN_MARGIN_S,
    NotificationListener,
    QueueEntry,
    SiteStateReport,
    VtnClient,
    VtnError,
    state_resources,
)

__all__ = [
    "IMPORT_LIMIT",
    "PAGE",
    "SETPOINT",
    "TOKEN_MARGIN_S",
    "AgentSetpoint",
    "NotificationListener",
    "QueueEntry",
    "SiteStateReport",
    "VenAgent",
    "VenSetpoint",
    "VtnClient",
    "VtnError",
    "regulation_from_events",
    "setpoints_from_events",
    "state_resources",
]

logger = logging.getLogger(__name__)

SETPOINT = "DISPATCH_SETPOINT"
IMPORT_LIMIT = "IMPORT_CAPACITY_LIMIT"


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


def regulation_from_events(events: list[dict]) -> list[tuple[datetime, datetime, RegulationOrder]]:
    """The regulation orders of ``events``: each interval's ``X_VPP_REGULATION`` payload (one value, the
    dispatch setpoint's order JSON-encoded: ``share_kw``, ``signal_start``, ``signal_resolution_seconds``,
    ``signal``), with the interval's ``[start, end)``; undecodable values and unresolved windows are skipped."""
    out: list[tuple[datetime, datetime, RegulationOrder]] = []
    for event in events:
        intervals = event.get("intervals") or []
        for interval, window in zip(
            intervals, resolve_windows(event.get("intervalPeriod"), intervals), strict=True
        ):
            if not isinstance(window.start, datetime) or window.end is None:
                continue
            for payload in interval.get("payloads") or []:
                if payload.get("type") != REGULATION_PAYLOAD:
                    continue
                for raw in payload.get("values") or []:
                    try:
                        order = RegulationOrder.from_workloads({REGULATION_KEY: json.loads(raw)})
                    except (TypeError, ValueError, KeyError) as exc:
                        logger.warning("event %s: regulation payload skipped: %s", event.get("id"), exc)
                        continue
                    if order is not None:
                        out.append((window.start, window.end, order))
    return out


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
        self.regulation: list[tuple[datetime, datetime, RegulationOrder]] = []
        self._current: AgentSetpoint | None = None
        self._pending: tuple[datetime, timedelta] | None = None
        self._pending_state: tuple[datetime, float] | None = None

    def register(self) -> dict:
        """Register this VEN with the VTN (idempotent); dispatch then delivers the site's setpoints as events."""
        return self.vtn.register(self.ven_name)

    def poll(self) -> int:
        """Fetch the active events; returns how many setpoint intervals they hold."""
        events = self.vtn.events()
        self.setpoints = setpoints_from_events(events)
        self.regulation = regulation_from_events(events)
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

    def step(self, now: datetime, dt: timedelta) -> float:
        """:meth:`SiteAgent.step`, then one report of the step: its metered grid power (``DEMAND``) and the
        site's state at ``now`` (with a regulation order in force: after the signal moved SoC and queue, with
        the regulated reading)."""
        grid = super().step(now, dt)
        if not getattr(self, "_regulating", False):
            self._send_report(grid)
        return grid

    def _meter(self, start: datetime, dt: timedelta, grid: float, it: float) -> None:
        self.state.readings.append((start, grid))
        self._pending = (start, dt)

    def _report_state(self, now: datetime, it: float) -> None:
        """Keep the state's time and IT load (kW) for the step's report (:meth:`_send_report`)."""
        self._pending_state = (now, max(float(it), 0.0))

    def site_state(self) -> SiteStateReport | None:
        """The state to report now: IT load, each battery's charge level (SoC ÷ energy capacity, the pooled SoC
        shared as :meth:`_battery_soc` does) and each queue entry (IT kWh, arrival, deadline, job id)."""
        if self._pending_state is None:
            return None
        now, it_kw = self._pending_state
        levels = tuple(
            (b.name, float(np.clip(soc / b.energy_capacity_kwh, 0.0, 1.0)))
            for b, soc in self._battery_soc()
            if b.energy_capacity_kwh > 0
        )
        queue = tuple(
            QueueEntry(
                workload_class=e.workload,
                energy_kwh=max(float(e.kwh), 0.0),
                arrived_at=e.arrived,
                deadline=e.deadline,
                job_id=_job_id(self.site.pk, e.workload, e.arrived, e.deadline, self.state.delays),
            )
            for e in self.state.queue
            if e.kwh > 1e-9
        )
        return SiteStateReport(reported_at=now, it_load_kw=it_kw, charge_levels=levels, queue=queue)

    def _send_report(self, grid: float) -> None:
        """``POST /reports``: the step's reading and the site's state, against the event in force (else the last
        event seen; with none, kept locally only: an OpenADR report names its event)."""
        if self._pending is None:
            return
        start, dt = self._pending
        state = self.site_state()
        self._pending, self._pending_state = None, None
        event_id = self._current.event_id if self._current else self.last_event_id
        if event_id is None:
            logger.info("site %s: no event to report %s against; kept locally", self.site.pk, start)
            return
        self.reports.append(
            self.vtn.report_demand(
                event_id=event_id, client_name=self.ven_name, start=start, duration=dt, kw=grid, state=state
            )
        )

    def _acknowledge(self) -> None:
        """OpenADR 3 events carry no acknowledgement; the VEN's reports are its answer."""

    def regulation_orders_between(self, start: datetime, end: datetime) -> list[RegulationOrder]:
        """Regulation orders of the events' intervals overlapping ``[start, end)`` (the private
        ``X_VPP_REGULATION`` payload, :func:`regulation_from_events`), which
        :func:`apps.simulation.regulation.follow_regulation` follows on top of the ``DISPATCH_SETPOINT``."""
        return [order for s, e, order in self.regulation if s < end and start < e]


def _neg(created: str) -> tuple:
    """Sort key putting later ISO timestamps first."""
    return tuple(-ord(c) for c in created)
