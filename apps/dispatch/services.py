"""Writes for dispatch: plans (exactly once per activation and version), deliveries, acknowledgements and the
closed loop that re-dispatches a shortfall.

Exactly once: version 1 of an activation's plan is unique, so a redelivered task (``acks_late``, worker killed
mid-dispatch) or two workers racing store one plan; the loser reads the winner's. Deliveries carry an
idempotency key, so a receiver drops duplicates of a resent webhook.
"""

from __future__ import annotations

import gc
import logging
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

import flexibility
from apps.accounts.principal import Principal
from apps.assets.models import Site
from apps.core import clock
from apps.core.clock import floor_to
from apps.core.errors import ConflictError, NotPermitted
from apps.markets.models import Activation

from . import checkpoints, storage, webhooks
from .choices import Channel, DeliveryStatus, PlanKind, PlanStatus
from .models import Delivery, DeliveryCheck, DispatchPlan, PreparedPlan, Setpoint, WebhookEndpoint
from .planning import PlanDraft, draft_from_json, draft_to_json, plan_reduction, plan_schedule

logger = logging.getLogger(__name__)

#: A portfolio shortfall above max(this fraction of the planned reduction, MIN_SHORTFALL_KW) is re-dispatched.
SHORTFALL_TOLERANCE = 0.05
MIN_SHORTFALL_KW = 100.0
MAX_WEBHOOK_ATTEMPTS = 6


def _channels(sites: list[Site]) -> dict[int, str]:
    """Delivery channel per site, in two queries: a registered webhook, else an OpenADR VEN, else polling."""
    from apps.openadr.selectors import ven_site_ids

    ids = [s.pk for s in sites]
    hooked = set(
        WebhookEndpoint.objects.filter(site_id__in=ids, is_active=True).values_list("site_id", flat=True)
    )
    vens = ven_site_ids(site_ids=ids)
    return {
        i: Channel.WEBHOOK if i in hooked else Channel.OPENADR if i in vens else Channel.POLL for i in ids
    }


def _store(
    activation: Activation | None,
    version: int,
    draft: PlanDraft,
    reason: str,
    *,
    kind: str = PlanKind.ACTIVATION,
    valid_to: datetime | None = None,
) -> DispatchPlan:
    """Write the plan, its setpoints and one pending delivery per site (bulk, see :mod:`.storage`); the caller
    holds the transaction. The returned plan carries ``setpoint_payloads`` (site id → the JSON setpoints of
    :func:`delivery_payload`), so the task that stored it can deliver without reading the rows back, and
    ``store_seconds`` (the writes, wall time)."""
    t0 = time.perf_counter()
    plan = DispatchPlan.objects.create(
        kind=kind,
        valid_to=valid_to,
        activation=activation,
        version=version,
        reason=reason,
        requested_kw=draft.requested_kw,
        planned_kw=draft.planned_kw,
        valid_from=draft.valid_from,
        objective=draft.objective,
        build_seconds=draft.build_seconds,
        solve_seconds=draft.solve_seconds,
        inputs=draft.inputs,
    )
    rows: list[storage.SetpointRow] = []
    payloads: dict[int, list[dict]] = {}
    for sp in draft.sites:
        site_id = sp.site.pk
        targets = sp.target_kw.tolist()
        baselines = sp.baseline_kw.tolist()
        batteries = sp.battery_kw.tolist()
        site_rows = [
            storage.SetpointRow(
                site_id=site_id,
                start=start,
                end=start + draft.step,
                baseline_kw=baselines[i],
                target_kw=targets[i],
                import_cap_kw=max(targets[i], 0.0) if baselines[i] - targets[i] > 1e-6 else None,
                battery_kw=batteries[i],
                workloads=sp.workloads[i] if i < len(sp.workloads) else {},
            )
            for i, start in enumerate(sp.starts)
        ]
        rows.extend(site_rows)
        payloads[site_id] = [setpoint_json(*row[1:]) for row in site_rows]
    storage.setpoints_insert(plan_id=plan.pk, rows=rows)
    channels = _channels([sp.site for sp in draft.sites])
    storage.deliveries_insert(
        plan_id=plan.pk,
        rows=[
            storage.DeliveryRow(sp.site.pk, channels[sp.site.pk], secrets.token_hex(16)) for sp in draft.sites
        ],
    )
    checkpoints.checkpoint(checkpoints.PLAN_STORED_UNCOMMITTED)
    plan.setpoint_payloads = payloads  # type: ignore[attr-defined]
    plan.store_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
    return plan


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector during an allocation burst (thousands of setpoint dicts). Measured
    at 1,000 sites: full collections triggered mid-burst, each scanning the prepared plan's large decoded JSON,
    took 0.7 s of the 1.2 s to read, scale and store a plan. Reference counting still frees everything acyclic;
    the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dispatch_activation(*, activation_id: int) -> DispatchPlan:
    """Version 1 of the activation's plan: solved and stored once, whoever asks and however often.

    A plan stored by this call carries ``setpoint_payloads``, ``plan_seconds`` and ``store_seconds`` (see
    :func:`_store`); one that already existed (a redelivered task, a racing worker) carries none of them.

    Raises:
        Activation.DoesNotExist: unknown activation.
        ValueError: nothing to dispatch (no participating site).
    """
    with _gc_paused():
        return _dispatch_activation(activation_id)


def _dispatch_activation(activation_id: int) -> DispatchPlan:
    t0 = time.perf_counter()
    existing = DispatchPlan.objects.filter(activation_id=activation_id, version=1).first()
    if existing is not None:
        return existing
    activation = Activation.objects.select_related("event__program__zone").get(pk=activation_id)
    reduction = float(activation.kw or 0.0)
    prepared = PreparedPlan.objects.filter(event_id=activation.event_id).first()
    window_start = floor_to(
        activation.start, timedelta(minutes=activation.event.program.settlement_interval_minutes)
    )
    if (
        prepared is not None
        and prepared.reduction_kw > 0
        and reduction <= prepared.reduction_kw + 1e-6
        and prepared.draft["valid_from"] == window_start.isoformat()
    ):
        draft = draft_from_json(prepared.draft, scale=reduction / prepared.reduction_kw)
        reason = f"activation (plan prepared at award, scaled ×{reduction / prepared.reduction_kw:.3f})"
    else:
        draft, degraded = _plan_or_degrade(
            activation=activation, reduction_kw=reduction, belief_time=clock.now()
        )
        reason = "activation" + degraded
    plan_seconds = time.perf_counter() - t0
    try:
        with transaction.atomic():
            plan = _store(activation, 1, draft, reason=reason)
    except IntegrityError:
        return DispatchPlan.objects.get(activation_id=activation_id, version=1)
    plan.plan_seconds = plan_seconds  # type: ignore[attr-defined]  # read, scale (or solve): wall time
    return plan


def _plan_or_degrade(**kwargs: Any) -> tuple[PlanDraft, str]:
    """:func:`~.planning.plan_reduction`; when its problem is infeasible, once more without migration targets
    (each participating site plans its own work only, so another zone's site whose forecast load leaves no room
    cannot make the whole plan fail). Returns the draft and a note for the plan's reason ("" when not degraded).

    Raises:
        ValueError: nothing to dispatch.
        flexibility.FlexibilityInfeasible: infeasible even without migration targets.
    """
    try:
        return plan_reduction(**kwargs), ""
    except flexibility.FlexibilityInfeasible as exc:
        logger.warning("plan infeasible with migration targets (%s); planning without them", exc)
        draft = plan_reduction(**kwargs, include_migration_targets=False)
        return draft, f"; planned without migration targets: with them infeasible ({exc.family}: {exc})"


def plan_prepare(*, event_id: int) -> PreparedPlan | None:
    """Solve the plan for an awarded event's total awarded kW ahead of its activation (idempotent).

    Returns ``None`` when nothing was awarded or no site participates.
    """
    from apps.markets.models import AwardInterval, Event

    existing = PreparedPlan.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing
    event = Event.objects.select_related("program__zone").get(pk=event_id)
    awarded = AwardInterval.objects.filter(award__bid__event=event).values_list("awarded_kw", flat=True)
    reduction = max(awarded, default=0.0)
    if reduction <= 0:
        return None
    proxy = Activation(event=event, start=event.start, end=event.end, kw=reduction)
    try:
        draft, _ = _plan_or_degrade(activation=proxy, reduction_kw=reduction, belief_time=clock.now())
    except (ValueError, flexibility.FlexibilityError) as exc:
        # FlexibilityInfeasible is not a ValueError: without this the prepare task (and a replay) crashed
        logger.warning("no plan prepared for event %s: %s", event_id, exc)
        return None
    try:
        with transaction.atomic():
            return PreparedPlan.objects.create(
                event=event,
                reduction_kw=reduction,
                draft=draft_to_json(draft),
                solve_seconds=draft.solve_seconds,
            )
    except IntegrityError:
        return PreparedPlan.objects.get(event_id=event_id)


def schedule_day(*, start: datetime, hours: int = 24) -> DispatchPlan | None:
    """The day-ahead schedule of all active sites for ``[start, start + hours)``, solved once (idempotent per
    start) from what is known now (:func:`apps.core.clock.now`). ``None`` when no site is active."""
    from apps.assets.selectors import active_site_list

    existing = DispatchPlan.objects.filter(kind=PlanKind.SCHEDULE, valid_from=start).first()
    if existing is not None:
        return existing
    sites = list(
        active_site_list().prefetch_related("workload_classes__migratable_to", "batteries", "pv_arrays")
    )
    if not sites:
        return None
    draft = plan_schedule(sites=sites, start=start, hours=hours, belief_time=clock.now())
    savings = draft.inputs.get("savings_pct")
    reason = (
        f"day-ahead schedule; planned cost saving {savings:.1f} % against run-as-it-arrives"
        if savings
        else ("day-ahead schedule")
    )
    try:
        with transaction.atomic():
            return _store(
                None, 1, draft, reason, kind=PlanKind.SCHEDULE, valid_to=start + timedelta(hours=hours)
            )
    except IntegrityError:
        return DispatchPlan.objects.get(kind=PlanKind.SCHEDULE, valid_from=start)


def plan_current(*, activation: Activation) -> DispatchPlan | None:
    return activation.dispatch_plans.filter(status=PlanStatus.ACTIVE).order_by("-version").first()


def setpoint_json(
    start: datetime,
    end: datetime,
    baseline_kw: float,
    target_kw: float,
    import_cap_kw: float | None,
    battery_kw: float,
    workloads: dict,
) -> dict:
    """One setpoint as a site receives it (kW rounded to 1 W, ISO 8601 UTC times)."""
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "baseline_kw": round(baseline_kw, 3),
        "target_kw": round(target_kw, 3),
        "import_cap_kw": None if import_cap_kw is None else round(import_cap_kw, 3),
        "battery_kw": round(battery_kw, 3),
        "workloads": workloads,
    }


def _payload(plan: DispatchPlan, delivery_id: int, key: str, site_id: int, setpoints: list[dict]) -> dict:
    return {
        "delivery_id": delivery_id,
        "idempotency_key": key,
        "plan_id": plan.pk,
        "plan_version": plan.version,
        "plan_kind": plan.kind,
        "activation_id": plan.activation.activation_id if plan.activation else None,
        "site_id": site_id,
        "setpoints": setpoints,
    }


def delivery_payload(delivery: Delivery, setpoints: list[Setpoint] | None = None) -> dict:
    """The JSON a site receives: the plan's identity and the site's setpoints (read unless given)."""
    plan = delivery.plan
    if setpoints is None:
        setpoints = list(plan.setpoints.filter(site=delivery.site).order_by("start"))
    return _payload(
        plan,
        delivery.pk,
        delivery.idempotency_key,
        delivery.site_id,
        [
            setpoint_json(
                s.start, s.end, s.baseline_kw, s.target_kw, s.import_cap_kw, s.battery_kw, s.workloads
            )
            for s in setpoints
        ],
    )


def delivery_send(*, delivery_id: int) -> Delivery:
    """Send one pending delivery over its channel. Webhook failures raise :class:`RetryableDeliveryError` until
    :data:`MAX_WEBHOOK_ATTEMPTS`, then the delivery is failed; OpenADR deliveries become a targeted VTN event;
    poll deliveries are delivered when the site reads them."""
    delivery = Delivery.objects.select_related("plan__activation", "site").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.PENDING:
        return delivery
    now = clock.now()  # product time: replayed deliveries carry the replay's time
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    delivery.attempts += 1
    if delivery.channel == Channel.WEBHOOK:
        endpoint: WebhookEndpoint = delivery.site.webhook
        result = webhooks.post(
            endpoint.url,
            delivery_payload(delivery),
            secret=endpoint.secret,
            idempotency_key=delivery.idempotency_key,
        )
        if not result.ok:
            failed = delivery.attempts >= MAX_WEBHOOK_ATTEMPTS
            Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
                last_error=result.error or f"HTTP {result.status}",
                status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
            )
            if not failed:
                raise RetryableDeliveryError(result.error or f"HTTP {result.status}")
            delivery.refresh_from_db()
            return delivery
    elif delivery.channel == Channel.OPENADR:
        _publish_openadr(delivery)
    else:
        return delivery
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=""
    )
    delivery.refresh_from_db()
    return delivery


class RetryableDeliveryError(Exception):
    """A delivery attempt failed and may be retried."""


def _publish_openadr(delivery: Delivery) -> None:
    """Publish the site's setpoints as an OpenADR event targeted at its VEN (IMPORT_CAPACITY_LIMIT and
    DISPATCH_SETPOINT interval payloads), idempotently keyed by the delivery's key."""
    from apps.openadr import services as vtn

    payload = delivery_payload(delivery)
    intervals = []
    for sp in payload["setpoints"]:
        duration = datetime.fromisoformat(sp["end"]) - datetime.fromisoformat(sp["start"])
        values = {"DISPATCH_SETPOINT": [sp["target_kw"]]}
        if sp["import_cap_kw"] is not None:
            values["IMPORT_CAPACITY_LIMIT"] = [sp["import_cap_kw"]]
        intervals.append((datetime.fromisoformat(sp["start"]), duration, values))
    vtn.dispatch_event_publish(
        site=delivery.site, intervals=intervals, event_name=f"dispatch-{delivery.idempotency_key}"
    )


def delivery_acknowledge(*, principal: Principal, delivery: Delivery) -> Delivery:
    """A site acknowledges its setpoints (its own site-bound client, or its owner's staff).

    Raises:
        NotPermitted: not the site's owner or its bound client.
        ConflictError: the delivery failed or is already acknowledged.
    """
    if not (principal.is_site_owner and principal.organisation == delivery.site.owner):
        raise NotPermitted("Only the site may acknowledge its setpoints.")
    updated = Delivery.objects.filter(
        pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.DELIVERED]
    ).update(
        status=DeliveryStatus.ACKNOWLEDGED,
        acknowledged_at=clock.now(),
        delivered_at=delivery.delivered_at or clock.now(),
    )
    if updated != 1:
        raise ConflictError(
            f"the delivery is {Delivery.objects.get(pk=delivery.pk).status}; nothing to acknowledge."
        )
    delivery.refresh_from_db()
    return delivery


def webhook_endpoint_register(*, principal: Principal, site: Site, url: str) -> tuple[WebhookEndpoint, str]:
    """Register (or replace) the site's webhook URL; returns the endpoint and its new signing secret."""
    if not (principal.is_site_owner and principal.can_write and principal.organisation == site.owner):
        raise NotPermitted("Only the site owner's admins and staff may register its webhook.")
    secret = secrets.token_urlsafe(32)
    endpoint, _ = WebhookEndpoint.objects.update_or_create(
        site=site, defaults={"url": url, "secret": secret, "is_active": True}
    )
    return endpoint, secret


def _metered_reduction(plan: DispatchPlan, start: datetime, end: datetime) -> tuple[float | None, dict]:
    """Σ over sites of (baseline − metered mean grid power) in ``[start, end)``; per-site detail. A meter coarser
    than the interval (a 15-minute meter under a 5-minute program) counts with the reading whose interval
    contains it, so only the first interval of each reading used to see it."""
    from apps.telemetry.choices import Quantity
    from apps.telemetry.selectors import datapoints_series, series_for

    detail = {}
    total = 0.0
    seen = False
    for sp in plan.setpoints.filter(start=start).select_related("site"):
        series = series_for(site=sp.site, quantity=Quantity.SITE_POWER_KW)
        read_from = floor_to(start, timedelta(seconds=series.resolution_s)) if series else start
        metered = datapoints_series(series=series, start=read_from, end=end) if series else None
        if metered is None or metered.empty:
            detail[str(sp.site_id)] = {"planned_kw": round(sp.reduction_kw, 1), "metered_kw": None}
            continue
        reduction = sp.baseline_kw - float(metered.mean())
        detail[str(sp.site_id)] = {"planned_kw": round(sp.reduction_kw, 1), "metered_kw": round(reduction, 1)}
        total += reduction
        seen = True
    return (total if seen else None), detail


def delivery_check(*, activation_id: int, interval_start: datetime) -> DeliveryCheck | None:
    """Closed loop for one settlement interval that has ended: compare metered with planned reduction; when the
    portfolio falls short beyond the tolerance and the activation has intervals left, re-dispatch: the
    under-delivering sites keep their (observed) contribution, the rest of the activation's kW goes to the
    other sites in a new plan version, and the check records why. Idempotent per interval."""
    activation = Activation.objects.select_related("event__program").get(pk=activation_id)
    plan = plan_current(activation=activation)
    if (
        plan is None
        or DeliveryCheck.objects.filter(activation=activation, interval_start=interval_start).exists()
    ):
        return None
    step = timedelta(minutes=activation.event.program.settlement_interval_minutes)
    planned = sum(s.reduction_kw for s in plan.setpoints.filter(start=interval_start))
    metered, detail = _metered_reduction(plan, interval_start, interval_start + step)
    shortfall = 0.0 if metered is None else max(0.0, float(activation.kw or planned) - metered)
    action = "no meter data yet" if metered is None else "within tolerance"
    end = activation.end or activation.event.end
    next_start = interval_start + step
    tolerance = max(SHORTFALL_TOLERANCE * planned, MIN_SHORTFALL_KW)
    if metered is not None and shortfall > tolerance and next_start < end:
        short_sites = [
            int(k)
            for k, v in detail.items()
            if v["metered_kw"] is not None
            and v["planned_kw"] - v["metered_kw"] > tolerance / max(len(detail), 1)
        ]
        kept = sum(detail[str(k)]["metered_kw"] for k in short_sites)
        try:
            draft = plan_reduction(
                activation=activation,
                reduction_kw=max(0.0, float(activation.kw or 0) - kept),
                belief_time=clock.now(),
                start=next_start,
                exclude_site_ids=frozenset(short_sites),
            )
            reason = (
                f"re-dispatch at {next_start:%H:%M}: metered {metered:.0f} kW of {activation.kw:.0f} kW; "
                f"sites {short_sites} under-delivered and keep their {kept:.0f} kW"
            )
            with transaction.atomic():
                DispatchPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.SUPERSEDED)
                new_plan = _store(activation, plan.version + 1, draft, reason)
                _carry_over(plan, new_plan, short_sites, next_start)
            action = f"re-dispatched as plan v{new_plan.version}"
        except (ValueError, IntegrityError, flexibility.FlexibilityError) as exc:
            action = f"re-dispatch impossible: {exc}"
    check, _ = DeliveryCheck.objects.get_or_create(
        activation=activation,
        interval_start=interval_start,
        defaults={
            "plan": plan,
            "planned_kw": planned,
            "metered_kw": metered,
            "shortfall_kw": shortfall,
            "action": action,
            "detail": detail,
        },
    )
    return check


def _carry_over(old: DispatchPlan, new: DispatchPlan, site_ids: list[int], start: datetime) -> None:
    """Sites left out of a re-dispatch keep their previous setpoints from ``start`` on in the new version."""
    rows = [
        Setpoint(
            plan=new,
            site_id=s.site_id,
            start=s.start,
            end=s.end,
            baseline_kw=s.baseline_kw,
            target_kw=s.target_kw,
            import_cap_kw=s.import_cap_kw,
            battery_kw=s.battery_kw,
            workloads=s.workloads,
        )
        for s in old.setpoints.filter(site_id__in=site_ids, start__gte=start)
    ]
    Setpoint.objects.bulk_create(rows)


def checks_due(*, now: datetime) -> list[tuple[int, datetime]]:
    """``(activation id, interval start)`` of every ended settlement interval of a running or recently ended
    activation that has no check yet."""
    due = []
    for activation in (
        Activation.objects.filter(start__lt=now, dispatch_plans__isnull=False)
        .distinct()
        .select_related("event__program")
    ):
        step = timedelta(minutes=activation.event.program.settlement_interval_minutes)
        end = min(activation.end or activation.event.end, now)
        done = set(
            DeliveryCheck.objects.filter(activation=activation).values_list("interval_start", flat=True)
        )
        t = clock.floor_to(activation.start, step)
        while t + step <= end:
            if t not in done:
                due.append((activation.pk, t))
            t += step
    return due


#: Concurrent webhook POSTs per plan (I/O bound). Measured on the benchmark's 1,000 POSTs: 32 threads with urllib
#: took as long as an asyncio client (aiohttp) at 100–200 connections and half as long as httpx's async client.
WEBHOOK_CONCURRENCY = 32


def deliveries_send(*, plan_id: int, setpoint_payloads: dict[int, list[dict]] | None = None) -> list[int]:
    """Send every pending delivery of a plan: OpenADR events in turn, then webhooks concurrently in batches of
    ``settings.VPP_DISPATCH_DELIVERY_BATCH`` sites (HTTP in a pool of :data:`WEBHOOK_CONCURRENCY` threads,
    database writes in this thread: one UPDATE per batch for the delivered, one per failure).
    ``setpoint_payloads`` (site id → JSON setpoints, as :func:`_store` leaves them on a plan it stored) saves
    reading the setpoints back.

    Returns the ids of webhook deliveries that failed this attempt and are to be retried
    (:func:`delivery_send`); poll deliveries stay pending until the site reads them.
    """
    with _gc_paused():
        return _deliveries_send(plan_id, setpoint_payloads)


def _deliveries_send(plan_id: int, setpoint_payloads: dict[int, list[dict]] | None) -> list[int]:
    from django.db.models import F

    plan = DispatchPlan.objects.select_related("activation").get(pk=plan_id)
    pending = list(
        Delivery.objects.filter(plan_id=plan_id, status=DeliveryStatus.PENDING)
        .order_by("pk")
        .values_list(
            "pk", "site_id", "channel", "idempotency_key", "site__webhook__url", "site__webhook__secret"
        )
    )
    for delivery_id, _, channel, *_ in pending:
        if channel == Channel.OPENADR:
            delivery_send(delivery_id=delivery_id)
    hooks = [row for row in pending if row[2] == Channel.WEBHOOK]
    if not hooks:
        return []
    if setpoint_payloads is None:
        setpoint_payloads = {}
        for site_id, *fields in (
            Setpoint.objects.filter(plan_id=plan_id, site_id__in=[row[1] for row in hooks])
            .order_by("site_id", "start")
            .values_list(
                "site_id",
                "start",
                "end",
                "baseline_kw",
                "target_kw",
                "import_cap_kw",
                "battery_kw",
                "workloads",
            )
        ):
            setpoint_payloads.setdefault(site_id, []).append(setpoint_json(*fields))

    def post(row: tuple) -> webhooks.PostResult:
        delivery_id, site_id, _, key, url, secret = row
        if not url:
            return webhooks.PostResult(False, None, "no webhook endpoint")
        payload = _payload(plan, delivery_id, key, site_id, setpoint_payloads.get(site_id, []))
        return webhooks.post(url, payload, secret=secret, idempotency_key=key)

    # A batch's delivered statuses are committed before the next batch is sent, so a worker killed mid-fan-out
    # resends at most one batch (with the same idempotency keys, which receivers use to drop duplicates).
    size = max(1, int(getattr(settings, "VPP_DISPATCH_DELIVERY_BATCH", 250)))
    retry: list[int] = []
    with ThreadPoolExecutor(max_workers=min(WEBHOOK_CONCURRENCY, len(hooks))) as pool:
        for first in range(0, len(hooks), size):
            batch = hooks[first : first + size]
            results = list(pool.map(post, batch))
            ok_ids = [row[0] for row, result in zip(batch, results, strict=True) if result.ok]
            Delivery.objects.filter(pk__in=ok_ids, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.DELIVERED,
                delivered_at=clock.now(),
                attempts=F("attempts") + 1,
                last_error="",
            )
            for row, result in zip(batch, results, strict=True):
                if not result.ok:
                    Delivery.objects.filter(pk=row[0]).update(
                        attempts=F("attempts") + 1, last_error=result.error or f"HTTP {result.status}"
                    )
                    retry.append(row[0])
            checkpoints.checkpoint(checkpoints.DELIVERY_BATCH_SENT)
    return retry
