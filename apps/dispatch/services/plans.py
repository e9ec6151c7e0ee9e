"""Dispatch plans: an activation's plan (exactly once per activation and version), the plan prepared at award,
the day-ahead schedule, and the store step they share.

Exactly once: version 1 of an activation's plan is unique, so a redelivered task (``acks_late``, worker killed
mid-dispatch) or two workers racing store one plan; the loser reads the winner's.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

import flexibility
from apps.assets.models import Site
from apps.core import clock
from apps.core.clock import floor_to
from apps.markets import selectors as markets
from apps.markets.models import Activation

from .. import checkpoints, storage
from ..choices import Channel, PlanKind, PlanStatus
from ..models import DispatchPlan, PreparedPlan, WebhookEndpoint
from ..planning import PlanDraft, draft_from_json, draft_to_json, plan_reduction, plan_schedule
from .payloads import gc_paused, setpoint_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredPlan:
    """What storing a plan produced, handed from the store step to the delivery step in the same process.

    Attributes:
        plan: the stored plan (or, when this call stored nothing, the plan that already existed).
        setpoint_payloads: site id → that site's setpoints as :func:`.payloads.setpoint_json` dicts, in time
            order, so the plan can be delivered without reading the rows back; ``None`` when this call stored
            nothing (the delivery step then reads them).
        plan_seconds: wall time to read and scale the prepared plan, or to solve one, in s (NaN when not
            stored by this call, or not measured: a schedule, a re-dispatch).
        store_seconds: wall time of the bulk writes, in s (NaN when not stored by this call).
    """

    plan: DispatchPlan
    setpoint_payloads: Mapping[int, list[dict]] | None = None
    plan_seconds: float = math.nan
    store_seconds: float = math.nan

    @property
    def stored_now(self) -> bool:
        """Whether this call stored the plan (``False``: it existed, a redelivered task or a racing worker)."""
        return self.setpoint_payloads is not None


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


def plan_store(
    *,
    activation: Activation | None,
    version: int,
    draft: PlanDraft,
    reason: str,
    kind: str = PlanKind.ACTIVATION,
    valid_to: datetime | None = None,
) -> StoredPlan:
    """Write the plan, its setpoints and one pending delivery per site (bulk, see :mod:`apps.dispatch.storage`);
    the caller holds the transaction.

    Returns:
        the plan with its setpoint payloads and ``store_seconds`` (``plan_seconds`` is the caller's to fill).

    Raises:
        IntegrityError: the plan's (activation, version) or (schedule, start) already exists.
    """
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
    return StoredPlan(plan=plan, setpoint_payloads=payloads, store_seconds=time.perf_counter() - t0)


def activation_plan(*, activation_id: int) -> StoredPlan:
    """Version 1 of the activation's plan: solved (or scaled from the plan prepared at award) and stored once,
    whoever asks and however often. A plan that already existed comes back without payloads or timings
    (:attr:`StoredPlan.stored_now` is ``False``).

    Raises:
        Activation.DoesNotExist: unknown activation.
        ValueError: nothing to dispatch (no participating site).
        flexibility.FlexibilityInfeasible: infeasible even without migration targets.
    """
    with gc_paused():
        return _activation_plan(activation_id)


def dispatch_activation(*, activation_id: int) -> DispatchPlan:
    """The plan of :func:`activation_plan` (for callers that deliver separately or only read it).

    Raises:
        Activation.DoesNotExist: unknown activation.
        ValueError: nothing to dispatch (no participating site).
    """
    return activation_plan(activation_id=activation_id).plan


def _activation_plan(activation_id: int) -> StoredPlan:
    t0 = time.perf_counter()
    existing = DispatchPlan.objects.filter(activation_id=activation_id, version=1).first()
    if existing is not None:
        return StoredPlan(plan=existing)
    activation = markets.activation_get_for_dispatch(activation_id=activation_id)
    reduction = float(activation.kw or 0.0)
    prepared = PreparedPlan.objects.filter(event_id=activation.event_id).first()
    window_start = floor_to(
        activation.start, timedelta(minutes=activation.event.program.settlement_interval_minutes)
    )
    if (
        prepared is not None
        and not activation.signal  # a plan prepared at award cannot know the regulation signal
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
    plan_seconds = time.perf_counter() - t0  # read, scale (or solve): wall time
    try:
        with transaction.atomic():
            stored = plan_store(activation=activation, version=1, draft=draft, reason=reason)
    except IntegrityError:
        return StoredPlan(plan=DispatchPlan.objects.get(activation_id=activation_id, version=1))
    return dataclasses.replace(stored, plan_seconds=plan_seconds)


def _plan_or_degrade(**kwargs: Any) -> tuple[PlanDraft, str]:
    """:func:`~apps.dispatch.planning.plan_reduction`; when its problem is infeasible, once more without
    migration targets (each participating site plans its own work only, so another zone's site whose forecast
    load leaves no room cannot make the whole plan fail). Returns the draft and a note for the plan's reason
    ("" when not degraded).

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

    Raises:
        Event.DoesNotExist: unknown event.
    """
    existing = PreparedPlan.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing
    event = markets.event_get_for_dispatch(event_id=event_id)
    reduction = markets.event_awarded_max_kw(event_id=event.pk)
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
            return plan_store(
                activation=None,
                version=1,
                draft=draft,
                reason=reason,
                kind=PlanKind.SCHEDULE,
                valid_to=start + timedelta(hours=hours),
            ).plan
    except IntegrityError:
        return DispatchPlan.objects.get(kind=PlanKind.SCHEDULE, valid_from=start)


def plan_current(*, activation: Activation) -> DispatchPlan | None:
    """The activation's active plan of the highest version, or ``None`` before it is dispatched."""
    return activation.dispatch_plans.filter(status=PlanStatus.ACTIVE).order_by("-version").first()
