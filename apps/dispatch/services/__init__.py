"""Writes for dispatch, re-exported so callers keep ``from apps.dispatch import services``.

- :mod:`.plans`: an activation's plan (exactly once per activation and version), the plan prepared at award,
  the day-ahead schedule, and the store step (:class:`~.plans.StoredPlan`);
- :mod:`.deliveries`: sending setpoints (webhooks, OpenADR, polling), retries, acknowledgements, webhooks;
- :mod:`.activation`: the worker's dispatch of one activation (plan, then deliver, timed);
- :mod:`.closed_loop`: metered shortfalls re-dispatched after each settlement interval;
- :mod:`.replan`: the intraday re-plan of the whole portfolio from the live site state (MPC);
- :mod:`.payloads`: the JSON a site receives.
"""

from __future__ import annotations

# ConflictError: raised by delivery_acknowledge; callers catch services.ConflictError.
from apps.core.errors import ConflictError

from .activation import ActivationDispatch, activation_dispatch
from .closed_loop import MIN_SHORTFALL_KW, SHORTFALL_TOLERANCE, checks_due, delivery_check
from .deliveries import (
    MAX_WEBHOOK_ATTEMPTS,
    WEBHOOK_CONCURRENCY,
    RetryableDeliveryError,
    deliveries_send,
    delivery_acknowledge,
    delivery_send,
    webhook_endpoint_register,
)
from .payloads import delivery_payload, setpoint_json
from .plans import (
    StoredPlan,
    activation_plan,
    dispatch_activation,
    plan_current,
    plan_prepare,
    plan_store,
    schedule_day,
)
from .replan import portfolio_replan

__all__ = [
    "MAX_WEBHOOK_ATTEMPTS",
    "MIN_SHORTFALL_KW",
    "SHORTFALL_TOLERANCE",
    "WEBHOOK_CONCURRENCY",
    "ActivationDispatch",
    "ConflictError",
    "RetryableDeliveryError",
    "StoredPlan",
    "activation_dispatch",
    "activation_plan",
    "checks_due",
    "deliveries_send",
    "delivery_acknowledge",
    "delivery_check",
    "delivery_payload",
    "delivery_send",
    "dispatch_activation",
    "plan_current",
    "plan_prepare",
    "plan_store",
    "portfolio_replan",
    "schedule_day",
    "setpoint_json",
    "webhook_endpoint_register",
]
