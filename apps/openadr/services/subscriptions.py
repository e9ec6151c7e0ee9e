"""Writes of subscription objects (``subscriptionRequest``): business logic any, a VEN its own."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.core.errors import ConflictError, NotPermitted

from .. import schemas
from ..access import VtnCaller
from ..models import Program, Subscription
from ..selectors import object_pk, program_list, target_scope
from ._common import _stamp, _without_metadata


def _subscription_apply(caller: VtnCaller | None, subscription: Subscription, data: Any) -> None:
    body = schemas.validate(_without_metadata(data), "subscriptionRequest")
    for i, operation in enumerate(body["objectOperations"]):
        if not operation["callbackUrl"].lower().startswith("https://"):
            raise ValidationError(
                {f"objectOperations[{i}].callbackUrl": ["must be an https:// URL (Definition.md §Webhooks)."]}
            )
    program = None
    if body.get("programID") is not None:
        programs = Program.objects.all()
        if caller is not None:
            programs = program_list(caller=caller, scope=target_scope(caller=caller))
        program = programs.filter(pk=object_pk(body["programID"]) or 0).first()
        if program is None:
            raise ConflictError(f"there is no program with id '{body['programID']}'.", field="programID")
    subscription.client_name = body["clientName"]
    subscription.program = program
    subscription.object_operations = body["objectOperations"]
    subscription.targets = body.get("targets")


def subscription_create(*, caller: VtnCaller | None, data: Any) -> Subscription:
    """Store a subscription (``subscriptionRequest``) of the caller. Callback URLs must be https. Notifications
    are not sent by this VTN yet."""
    subscription = Subscription(client_id=caller.client_id if caller else "system")
    _subscription_apply(caller, subscription, data)
    _stamp(subscription, created=True)
    subscription.save()
    return subscription


def subscription_update(*, caller: VtnCaller | None, subscription: Subscription, data: Any) -> Subscription:
    """Replace a subscription (business logic any, a VEN its own)."""
    if caller is not None and caller.is_ven and subscription.client_id != caller.client_id:
        raise NotPermitted("A VEN may only update its own subscriptions.")
    _subscription_apply(caller, subscription, data)
    _stamp(subscription, created=False)
    subscription.save()
    return subscription


def subscription_delete(*, caller: VtnCaller | None, subscription: Subscription) -> Subscription:
    """Delete a subscription (business logic any, a VEN its own)."""
    if caller is not None and caller.is_ven and subscription.client_id != caller.client_id:
        raise NotPermitted("A VEN may only delete its own subscriptions.")
    pk = subscription.pk
    subscription.delete()
    subscription.pk = pk
    return subscription
