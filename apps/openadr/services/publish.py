"""The Python API the layers above (dispatch) publish setpoints and price / carbon signals with."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.assets.models import Site
from apps.core import clock
from apps.core.errors import ConflictError, DomainError
from apps.core.models import MarketZone

from .. import schemas
from ..models import Event, EventTarget, Program
from ..selectors import event_by_key, site_target, zone_target
from ..timing import duration_iso, format_datetime, lifespan_end
from ._common import MAX_PRIORITY
from .events import event_delete
from .notify import notifications_record_many
from .programs import program_ensure

#: Program used by :func:`openadr_event_publish` when none is given.
DISPATCH_PROGRAM_NAME = "vpp-dispatch"
#: Program used by :func:`openadr_signal_publish` when none is given.
SIGNALS_PROGRAM_NAME = "vpp-signals"
MAX_KEY_LENGTH = 200

#: An interval to publish: ``(start, duration, {payload type: value or [values]})``.
IntervalSpec = tuple[datetime, timedelta, Mapping[str, Any]]

#: Units of the payload types published by :func:`openadr_event_publish` (``eventPayloadDescriptor.units``).
SETPOINT_UNITS = {"IMPORT_CAPACITY_LIMIT": "KW", "DISPATCH_SETPOINT": "KW", "EXPORT_CAPACITY_LIMIT": "KW"}


@dataclass(frozen=True)
class SitePublication:
    """One site's setpoints for :func:`openadr_events_ensure_many` (fields as in :func:`openadr_event_ensure`)."""

    key: str | None
    site: Site
    intervals: Sequence[IntervalSpec]
    event_name: str | None = None
    priority: int | None = None


def _check_values(kind: str, values: list[Any], path: str) -> None:
    """Values of an enumerated payload type (Definition.md §"Event Payload Enumerations"): numbers where the
    enumeration says so, ≥ its minimum; always finite (JSON has no NaN)."""
    if not values:
        raise DomainError("a payload needs at least one value.", field=path)
    items = (schemas.enumeration("event-interval-payloads").get(kind) or {}).get("items") or {}
    for k, value in enumerate(values):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and not math.isfinite(value):
            raise DomainError("values must be finite numbers.", field=f"{path}[{k}]")
        if items.get("type") in ("number", "integer") and not number:
            raise DomainError(f"{kind} values are numbers.", field=f"{path}[{k}]")
        if number and "minimum" in items and value < items["minimum"]:
            raise DomainError(f"{kind} values are at least {items['minimum']}.", field=f"{path}[{k}]")


def _intervals_body(intervals: Sequence[IntervalSpec]) -> list[dict[str, Any]]:
    if not intervals:
        raise DomainError("an event needs at least one interval.", field="intervals")
    out = []
    for i, (start, duration, payloads) in enumerate(intervals):
        if timezone.is_naive(start):
            raise DomainError("interval starts must be timezone-aware.", field=f"intervals[{i}].start")
        if duration <= timedelta(0):
            raise DomainError("interval durations must be positive.", field=f"intervals[{i}].duration")
        if not payloads:
            raise DomainError("an interval needs at least one payload.", field=f"intervals[{i}].payloads")
        body = []
        for j, (kind, value) in enumerate(payloads.items()):
            values = list(value) if isinstance(value, list | tuple) else [value]
            _check_values(kind, values, f"intervals[{i}].payloads[{j}].values")
            body.append({"type": kind, "values": values})
        period = {"start": format_datetime(start), "duration": duration_iso(duration)}
        out.append({"id": i, "intervalPeriod": period, "payloads": body})
    return out


def _draft(
    *,
    program: Program,
    targets: list[str],
    intervals: list[dict[str, Any]],
    descriptors: list[dict[str, Any]],
    event_name: str | None,
    priority: int | None,
    key: str | None,
    ends_at: datetime | None = None,
) -> Event:
    """An unsaved event built by the system (its body is correct by construction: no schema round trip)."""
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise DomainError(f"a publish key has 1–{MAX_KEY_LENGTH} characters.", field="key")
    if priority is not None and not 0 <= priority <= MAX_PRIORITY:
        raise DomainError(f"priority is 0 (highest) … {MAX_PRIORITY}.", field="priority")
    event = Event(
        program=program,
        event_name=(event_name if event_name is not None else key) or "",
        priority=priority,
        targets=targets,
        payload_descriptors=descriptors or None,
        intervals=intervals,
        publish_key=key,
    )
    event.ends_at = ends_at if ends_at is not None else lifespan_end(None, intervals, None)
    return event


_PUBLISHED_FIELDS = (
    "program_id",
    "event_name",
    "priority",
    "targets",
    "payload_descriptors",
    "intervals",
    "ends_at",
)


def _ensure_many(drafts: list[Event]) -> list[tuple[Event, bool]]:
    """Create the drafts, or update the events already published under their keys when they differ; a few
    queries for any number of events. Returns ``(event, created)`` in the drafts' order."""
    keys = [d.publish_key for d in drafts if d.publish_key is not None]
    if len(keys) != len(set(keys)):
        raise DomainError("publish keys must be unique within one call.", field="key")
    now = clock.now()
    with transaction.atomic():
        existing = {e.publish_key: e for e in Event.objects.select_for_update().filter(publish_key__in=keys)}
        results: list[tuple[Event, bool]] = []
        new: list[Event] = []
        changed: list[Event] = []
        for draft in drafts:
            event = existing.get(draft.publish_key) if draft.publish_key is not None else None
            if event is None:
                draft.created_date_time = draft.modification_date_time = now
                new.append(draft)
                results.append((draft, True))
                continue
            if any(getattr(event, f) != getattr(draft, f) for f in _PUBLISHED_FIELDS):
                for field in _PUBLISHED_FIELDS:
                    setattr(event, field, getattr(draft, field))
                event.modification_date_time = now
                changed.append(event)
            results.append((event, False))
        try:  # no savepoint of its own: on a clash the whole block rolls back and the caller retries
            Event.objects.bulk_create(new)
        except IntegrityError as exc:
            raise ConflictError("a concurrent publish used one of these keys; retry.", field="key") from exc
        if changed:
            Event.objects.bulk_update(changed, ["program", *_PUBLISHED_FIELDS[1:], "modification_date_time"])
            EventTarget.objects.filter(event__in=changed).delete()
        EventTarget.objects.bulk_create(
            [EventTarget(event=e, value=t) for e in [*new, *changed] for t in dict.fromkeys(e.targets or [])]
        )
        notifications_record_many(
            object_type="EVENT", changes=[*(("CREATE", e) for e in new), *(("UPDATE", e) for e in changed)]
        )
    return results


def _ensure_with_retry(drafts: list[Event]) -> list[tuple[Event, bool]]:
    try:
        return _ensure_many(drafts)
    except ConflictError:  # a concurrent call created one of the keys first: now it exists, so update it
        return _ensure_many(drafts)


def _setpoint_draft(program: Program, publication: SitePublication) -> Event:
    kinds = dict.fromkeys(kind for _, _, payloads in publication.intervals for kind in payloads)
    descriptors = [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": kind, "units": SETPOINT_UNITS[kind]}
        for kind in kinds
        if kind in SETPOINT_UNITS
    ]
    return _draft(
        program=program,
        targets=[site_target(publication.site)],
        intervals=_intervals_body(publication.intervals),
        descriptors=descriptors,
        event_name=publication.event_name,
        priority=publication.priority,
        key=publication.key,
        ends_at=max(start + duration for start, duration, _ in publication.intervals),
    )


def openadr_event_publish(
    *,
    site: Site,
    intervals: Sequence[IntervalSpec],
    program: Program | None = None,
    event_name: str | None = None,
    priority: int | None = None,
) -> Event:
    """Publish setpoints for one site as an OpenADR event targeted at the site's VEN.

    Args:
        site: the site; the event's target is :func:`~apps.openadr.selectors.site_target` (``site-<id>``),
            which the site's VEN always holds, so a VEN that registers later still receives it.
        intervals: ``[(start, duration, {payload type: value or [values]})]`` with aware ``start`` and positive
            ``duration``. Payload types: ``IMPORT_CAPACITY_LIMIT`` (site import cap) and ``DISPATCH_SETPOINT``
            (absolute consumption), both in **kW** and ≥ 0 (Definition.md §"Event Payload Enumerations");
            ``EXPORT_CAPACITY_LIMIT`` in kW; other enumerated or private types are passed as given. Several
            values in one payload are consecutive equal sub-intervals (User Guide §7.3).
        program: the OpenADR program; default :data:`DISPATCH_PROGRAM_NAME` (created on first use).
        event_name: the event's name (free text, need not be unique).
        priority: 0 is the highest.

    Returns:
        the new :class:`~apps.openadr.models.Event` (``event.object_id`` is its spec id).

    Raises:
        DomainError: naive start, non-positive duration, no interval, payload or value, a value that is not a
            finite number where the enumeration wants one, or below its minimum (e.g. a negative setpoint).
    """
    event, _ = openadr_event_ensure(
        key=None, site=site, intervals=intervals, program=program, event_name=event_name, priority=priority
    )
    return event


def openadr_event_ensure(
    *,
    key: str | None,
    site: Site,
    intervals: Sequence[IntervalSpec],
    program: Program | None = None,
    event_name: str | None = None,
    priority: int | None = None,
) -> tuple[Event, bool]:
    """Idempotent :func:`openadr_event_publish` keyed by ``key`` (1–200 characters, e.g. ``"plan-17-v2-site-4"``).

    The first call creates the event (named ``key`` unless ``event_name`` is given); a later call with the same
    key returns the same event, updated in place when its intervals, name, priority or program differ (its
    ``modificationDateTime`` then moves; VENs see the new values on their next read). Safe under concurrency
    (the key is unique). ``key=None`` always creates.

    Returns:
        ``(event, created)``.
    """
    program = program or program_ensure(program_name=DISPATCH_PROGRAM_NAME)
    draft = _setpoint_draft(program, SitePublication(key, site, intervals, event_name, priority))
    (result,) = _ensure_with_retry([draft])
    return result


def openadr_events_ensure_many(
    *, publications: Sequence[SitePublication], program: Program | None = None
) -> list[tuple[Event, bool]]:
    """:func:`openadr_event_ensure` for many sites at once (one activation's plan), in a handful of queries
    whatever their number. Keys must be unique within the call. Returns ``(event, created)`` per publication,
    in order. All or nothing: a refused publication refuses the call."""
    program = program or program_ensure(program_name=DISPATCH_PROGRAM_NAME)
    drafts = []
    for index, publication in enumerate(publications):
        try:
            drafts.append(_setpoint_draft(program, publication))
        except DomainError as exc:
            raise DomainError(exc.reason, field=f"publications[{index}].{exc.field}") from exc
    return _ensure_with_retry(drafts)


def dispatch_event_publish(
    *,
    site: Site,
    intervals: Sequence[IntervalSpec],
    event_name: str,
    program: Program | None = None,
    priority: int | None = None,
) -> Event:
    """:func:`openadr_event_ensure` keyed by ``event_name`` (the name apps.dispatch calls it by): publishing the
    same delivery twice leaves one event, updated in place if its setpoints changed. Returns the event."""
    event, _ = openadr_event_ensure(
        key=event_name,
        site=site,
        intervals=intervals,
        program=program,
        event_name=event_name,
        priority=priority,
    )
    return event


def openadr_event_withdraw(*, key: str) -> bool:
    """Delete the event published under ``key`` (cancellation, User Guide §7.9); ``False`` if there is none."""
    event = event_by_key(key=key)
    if event is None:
        return False
    event_delete(caller=None, event=event)
    return True


def openadr_signal_publish(
    *,
    zone: MarketZone,
    signal: str,
    intervals: Sequence[tuple[datetime, timedelta, float]],
    program: Program | None = None,
    key: str | None = None,
    event_name: str | None = None,
) -> Event:
    """Publish a price or carbon signal for every VEN of a market zone (target ``zone-<code>``).

    Args:
        zone: the market zone; its VENs (sites in the zone) hold its target.
        signal: ``"PRICE"`` or ``"GHG"``.
        intervals: ``[(start, duration, value)]``. PRICE values in the zone's **currency per MWh** (DESIGN.md
            convention), published as OpenADR PRICE per kWh (value / 1000, descriptor ``units="KWH"``,
            ``currency`` = the zone's); GHG values in **gCO2/kWh** (descriptor ``units="GHG"``, g/kWh per the
            units enumeration), ≥ 0.
        program: default :data:`SIGNALS_PROGRAM_NAME` (created on first use).
        key: idempotency key as in :func:`openadr_event_ensure`.
        event_name: defaults to the key.

    Raises:
        DomainError: an unknown signal, or bad intervals or values as in :func:`openadr_event_publish`.
    """
    if signal == "PRICE":
        descriptor = {
            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            "payloadType": "PRICE",
            "units": "KWH",
            "currency": zone.currency,
        }
        scale = 1.0 / 1000.0
    elif signal == "GHG":
        descriptor = {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "GHG", "units": "GHG"}
        scale = 1.0
    else:
        raise DomainError(f"unknown signal '{signal}'; use PRICE or GHG.", field="signal")
    specs: list[IntervalSpec] = [
        (start, duration, {signal: value * scale}) for start, duration, value in intervals
    ]
    draft = _draft(
        program=program or program_ensure(program_name=SIGNALS_PROGRAM_NAME),
        targets=[zone_target(zone)],
        intervals=_intervals_body(specs),
        descriptors=[descriptor],
        event_name=event_name,
        priority=None,
        key=key,
    )
    ((event, _),) = _ensure_with_retry([draft])
    return event
