"""Reads of the VTN, scoped to the caller (Definition.md §"Object Privacy" and §"Response Filtering").

- Business logic reads everything; a ``targets`` query narrows a list to objects carrying any of them.
- A VEN reads only the ven, resource, report and subscription objects of its own ``clientID``.
- A VEN reads a program or event when it has no targets, or when its targets meet the targets *granted* to
  the VEN: those of its ven object and of that ven's resources (§"program and event objects - targeting").
  Without a ven object nothing targeted is granted. With a ``targets`` query the VEN reads only objects
  matching (requested ∩ granted); without one, the granted targets are used (User Guide §8.13, Example 8.13-5:
  "the VEN does not need to include targets as query params"). An event is readable only if its program is.
- Target hiding: in programs and events shown to a VEN, ``targets`` lists only the ones it was matched on.

Every VEN object always holds the targets of its site and of the site's market zone (:func:`site_targets`),
which :func:`apps.openadr.services.openadr_event_publish` and :func:`~apps.openadr.services.openadr_signal_publish`
use to address a site's or a zone's VENs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.assets.models import Site
from apps.core import clock
from apps.core.models import MarketZone

from .access import VtnCaller
from .models import (
    Event,
    EventTarget,
    Program,
    ProgramTarget,
    Report,
    Resource,
    ResourceTarget,
    Subscription,
    Ven,
    VenTarget,
)


def site_target(site: Site) -> str:
    """The target naming one site's VEN, e.g. ``site-12``."""
    return f"site-{site.pk}"


def zone_target(zone: MarketZone | str) -> str:
    """The target naming every VEN of a market zone, e.g. ``zone-CAISO_NP15``."""
    return f"zone-{zone.code if isinstance(zone, MarketZone) else zone}"


def site_targets(site: Site) -> list[str]:
    """Targets the VTN keeps on the ven object of ``site``: its own and its market zone's."""
    return [site_target(site), zone_target(site.market_zone_id)]


def object_pk(object_id: str | None) -> int | None:
    """The primary key behind a spec ``objectID`` string, ``None`` when it cannot name an object here."""
    if not object_id or not object_id.isdigit() or len(object_id) > 18:
        return None
    return int(object_id)


def ven_for_client(*, client_id: str) -> Ven | None:
    """The ven object of an API client (by the spec's ``clientID``)."""
    return Ven.objects.select_related("site").filter(client_id=client_id).first()


def ven_for_site(*, site: Site) -> Ven | None:
    """The VEN of ``site``, or ``None`` while the site's VEN has not registered (then events published for the
    site wait for it: they are addressed by the site's target, see :func:`site_target`)."""
    return Ven.objects.filter(site=site).first()


def granted_targets(*, caller: VtnCaller) -> frozenset[str]:
    """Targets granted to a VEN caller: its ven object's (including the site and zone targets) and those of the
    ven's resources. Empty when the VEN has no ven object."""
    ven = ven_for_client(client_id=caller.client_id)
    if ven is None:
        return frozenset()
    granted = set(ven.targets or []) | set(site_targets(ven.site))
    for targets in Resource.objects.filter(ven=ven).values_list("targets", flat=True):
        granted.update(targets or [])
    return frozenset(granted)


@dataclass(frozen=True)
class TargetScope:
    """How a read treats targets.

    ``match``: objects must carry one of these (``None``: no condition); ``include_untargeted``: objects without
    targets pass too; ``shown``: targets shown in representations (``None``: all); ``granted``: a VEN's granted
    targets (``None`` for business logic).
    """

    match: frozenset[str] | None
    include_untargeted: bool
    shown: frozenset[str] | None
    granted: frozenset[str] | None


def target_scope(*, caller: VtnCaller, requested: Iterable[str] = ()) -> TargetScope:
    """The :class:`TargetScope` of a read by ``caller`` with the ``targets`` query ``requested``."""
    wanted = frozenset(requested)
    if caller.is_bl:
        return TargetScope(match=wanted or None, include_untargeted=not wanted, shown=None, granted=None)
    granted = granted_targets(caller=caller)
    effective = granted & wanted if wanted else granted
    return TargetScope(match=effective, include_untargeted=not wanted, shown=effective, granted=granted)


def _scoped(qs: QuerySet, rows: Any, fk: str, scope: TargetScope) -> QuerySet:
    if scope.match is None:
        return qs
    matching = Exists(rows.objects.filter(**{fk: OuterRef("pk"), "value__in": scope.match}))
    if scope.include_untargeted:
        return qs.filter(~Exists(rows.objects.filter(**{fk: OuterRef("pk")})) | matching)
    return qs.filter(matching)


def shown_targets(targets: list[str] | None, scope: TargetScope | None) -> list[str] | None:
    """Target hiding: the targets of a program or event that ``scope`` may show."""
    if targets is None or scope is None or scope.shown is None:
        return targets
    return [t for t in targets if t in scope.shown] or None


def program_list(*, caller: VtnCaller, scope: TargetScope) -> QuerySet[Program]:
    """Programs readable under ``scope`` (see the module docstring)."""
    return _scoped(Program.objects.all(), ProgramTarget, "program", scope)


def event_list(
    *,
    caller: VtnCaller,
    scope: TargetScope,
    program_id: str | None = None,
    active: bool | None = None,
) -> QuerySet[Event]:
    """Events readable under ``scope``; ``program_id`` filters by program, ``active=True`` leaves out events
    whose lifespan has ended (openadr3.yaml ``GET /events`` parameter ``active``)."""
    qs = _scoped(Event.objects.select_related("program"), EventTarget, "event", scope)
    if caller.is_ven:
        base = TargetScope(
            match=scope.granted or frozenset(), include_untargeted=True, shown=None, granted=scope.granted
        )
        qs = qs.filter(program__in=program_list(caller=caller, scope=base))
    if program_id is not None:
        qs = qs.filter(program_id=object_pk(program_id) or 0)
    if active:
        qs = qs.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=clock.now()))
    return qs


def ven_list(*, caller: VtnCaller, ven_name: str | None = None, targets: Iterable[str] = ()) -> QuerySet[Ven]:
    """Ven objects: all for business logic, the caller's own for a VEN; filtered by name and any target."""
    qs = Ven.objects.select_related("site")
    if caller.is_ven:
        qs = qs.filter(client_id=caller.client_id)
    if ven_name is not None:
        qs = qs.filter(ven_name=ven_name)
    wanted = list(targets)
    if wanted:
        qs = qs.filter(Exists(VenTarget.objects.filter(ven=OuterRef("pk"), value__in=wanted)))
    return qs


def resource_list(
    *,
    caller: VtnCaller,
    resource_name: str | None = None,
    ven_id: str | None = None,
    targets: Iterable[str] = (),
) -> QuerySet[Resource]:
    """Resources: all for business logic, those of the caller's own ven for a VEN; filtered as given."""
    qs = Resource.objects.select_related("ven")
    if caller.is_ven:
        qs = qs.filter(ven__client_id=caller.client_id)
    if resource_name is not None:
        qs = qs.filter(resource_name=resource_name)
    if ven_id is not None:
        qs = qs.filter(ven_id=object_pk(ven_id) or 0)
    wanted = list(targets)
    if wanted:
        qs = qs.filter(Exists(ResourceTarget.objects.filter(resource=OuterRef("pk"), value__in=wanted)))
    return qs


def report_list(
    *,
    caller: VtnCaller,
    program_id: str | None = None,
    event_id: str | None = None,
    client_name: str | None = None,
) -> QuerySet[Report]:
    """Reports: all for business logic, the caller's own for a VEN; filtered by program, event, client name."""
    qs = Report.objects.all()
    if caller.is_ven:
        qs = qs.filter(client_id=caller.client_id)
    if program_id is not None:
        qs = qs.filter(program_ref=program_id)
    if event_id is not None:
        qs = qs.filter(event_ref=event_id)
    if client_name is not None:
        qs = qs.filter(client_name=client_name)
    return qs


def subscription_list(
    *,
    caller: VtnCaller,
    program_id: str | None = None,
    client_name: str | None = None,
) -> QuerySet[Subscription]:
    """Subscriptions: all for business logic, the caller's own for a VEN; filtered by program and client name.
    (The ``objects`` filter is applied by the view on the JSON ``objectOperations``.)"""
    qs = Subscription.objects.all()
    if caller.is_ven:
        qs = qs.filter(client_id=caller.client_id)
    if program_id is not None:
        qs = qs.filter(program_id=object_pk(program_id) or 0)
    if client_name is not None:
        qs = qs.filter(client_name=client_name)
    return qs


def event_by_key(*, key: str) -> Event | None:
    """The event published under the idempotency ``key`` (:func:`apps.openadr.services.openadr_event_ensure`)."""
    return Event.objects.select_related("program").filter(publish_key=key).first()


def ven_site_ids(*, site_ids: list[int]) -> set[int]:
    """Which of ``site_ids`` have a registered VEN (one query; dispatch picks delivery channels with it)."""
    return set(Ven.objects.filter(site_id__in=site_ids).values_list("site_id", flat=True))


def granted_targets_many(*, client_ids: Iterable[str] | None = None) -> dict[str, tuple[int, frozenset[str]]]:
    """``clientID → (ven pk, granted targets)`` for the vens of ``client_ids`` (all vens when ``None``), in two
    queries: :func:`granted_targets` for many VENs at once (notification fan-out). A client without a ven object
    is absent (it is granted nothing)."""
    vens = Ven.objects.all()
    if client_ids is not None:
        vens = vens.filter(client_id__in=list(client_ids))
    rows = list(vens.values_list("pk", "client_id", "targets", "site_id", "site__market_zone_id"))
    extra: dict[int, set[str]] = {}
    for ven_id, targets in Resource.objects.filter(ven_id__in=[r[0] for r in rows]).values_list(
        "ven_id", "targets"
    ):
        extra.setdefault(ven_id, set()).update(targets or [])
    out: dict[str, tuple[int, frozenset[str]]] = {}
    for pk, client_id, targets, site_id, zone in rows:
        granted = {*(targets or []), f"site-{site_id}", zone_target(zone), *extra.get(pk, ())}
        out[client_id] = (pk, frozenset(granted))
    return out


def subscriptions_for(*, object_type: str) -> QuerySet[Subscription]:
    """Subscriptions that may want notifications of ``object_type`` (a coarse filter; the exact match is
    :func:`apps.openadr.notifications.deliveries`)."""
    return Subscription.objects.filter(object_operations__icontains=f'"{object_type}"')


def subscriptions_exist() -> bool:
    """Whether any subscription exists (writes skip recording notifications when none does and MQTT is off)."""
    return Subscription.objects.exists()
