"""The JSON a site receives for a plan (shared by storing a plan and delivering it), and the garbage-collector
pause the allocation bursts of both run under."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from ..models import Delivery, DispatchPlan, Setpoint


@contextmanager
def gc_paused() -> Iterator[None]:
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


def site_payload(plan: DispatchPlan, delivery_id: int, key: str, site_id: int, setpoints: list[dict]) -> dict:
    """The delivery body: the plan's identity, the delivery's id and idempotency key, the site's setpoints (as
    :func:`setpoint_json` makes them)."""
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
    return site_payload(
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
