"""The dispatch of one activation as the worker runs it: plan (once), then deliver, with the stages timed."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .deliveries import deliveries_send
from .plans import activation_plan


@dataclass(frozen=True)
class ActivationDispatch:
    """The outcome of :func:`activation_dispatch`.

    Attributes:
        plan_id, plan_version: the activation's version-1 plan.
        retry_delivery_ids: webhook deliveries that failed this attempt, to retry one by one.
        started_at: when the dispatch started, Unix time in s.
        plan_seconds: read + scale (or solve), s; NaN when the plan already existed.
        store_seconds: the bulk writes, s; NaN when the plan already existed.
        commit_seconds: the rest of the plan step (transaction commit, lookups), s.
        fanout_seconds: sending the deliveries, s.
    """

    plan_id: int
    plan_version: int
    retry_delivery_ids: tuple[int, ...]
    started_at: float
    plan_seconds: float
    store_seconds: float
    commit_seconds: float
    fanout_seconds: float


def activation_dispatch(*, activation_id: int) -> ActivationDispatch:
    """Plan the activation once (:func:`.plans.activation_plan`) and send its pending deliveries
    (:func:`.deliveries.deliveries_send`, with the payloads the store step produced when it ran now).

    A redelivered call finds the stored plan and resends only what is still pending (idempotency keys let
    receivers drop duplicates).

    Raises:
        Activation.DoesNotExist: unknown activation.
        ValueError: nothing to dispatch (no participating site).
    """
    started_at = time.time()
    t0 = time.perf_counter()
    stored = activation_plan(activation_id=activation_id)
    t1 = time.perf_counter()
    retry = deliveries_send(plan_id=stored.plan.pk, setpoint_payloads=stored.setpoint_payloads)
    return ActivationDispatch(
        plan_id=stored.plan.pk,
        plan_version=stored.plan.version,
        retry_delivery_ids=tuple(retry),
        started_at=started_at,
        plan_seconds=stored.plan_seconds,
        store_seconds=stored.store_seconds,
        commit_seconds=t1 - t0 - stored.plan_seconds - stored.store_seconds,
        fanout_seconds=time.perf_counter() - t1,
    )
