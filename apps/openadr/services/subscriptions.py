"""Writes of subscription objects (``subscriptionRequest``): business logic any, a VEN its own."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core.errors import ConflictError, NotPermitted

from .. import schemas
from ..access import BL, VtnCaller
from ..models import Program, Subscription
from ..selectors import object_pk, program_list, target_scope
from ._common import _stamp, _without_metadata
from .notify import notification_record, subscription_callbacks_verify, subscriptions_known_urls


def _subscription_apply(caller: VtnCaller | None, subscription: Subscription, data: Any) -> None:
    body = schemas.validate(_without_metadata(data), "subscriptionRequest")
    program = None
    if body.get("programID") is not None:
        programs = Program.objects.all()
        if caller is not None:
            programs = program_list(caller=caller, scope=target_scope(caller=caller))
        program = programs.filter(pk=object_pk(body["programID"]) or 0).first()
        if program is None:
            raise ConflictError(f"there is no program with id '{body['programID']}'.", field="programID")
    known = subscriptions_known_urls(subscription) if subscription.pk is not None else set()
    subscription_callbacks_verify(operations=body["objectOperations"], known=known)
    subscription.client_name = body["clientName"]
    subscription.program = program
    subscription.object_operations = body["objectOperations"]
    subscription.targets = body.get("targets")


def subscription_create(*, caller: VtnCaller | None, data: Any) -> Subscription:
    """Store a subscription (``subscriptionRequest``) of the caller, after verifying each callback URL
    (:func:`~apps.openadr.services.notify.subscription_callbacks_verify`: https, and the echo challenge of
    Definition.md §Webhooks; a refused URL is a 400 naming it). Its callbacks then receive the notifications of
    :mod:`apps.openadr.notifications`."""
    subscription = Subscription(
        client_id=caller.client_id if caller else "system",
        client_role=caller.role if caller is not None else BL,
    )
    _subscription_apply(caller, subscription, data)
    _stamp(subscription, created=True)
    with transaction.atomic():
        subscription.save()
        notification_record(object_type="SUBSCRIPTION", operation="CREATE", obj=subscription)
    return subscription


def subscription_update(*, caller: VtnCaller | None, subscription: Subscription, data: Any) -> Subscription:
    """Replace a subscription (business logic any, a VEN its own); callback URLs it did not have yet are
    verified as in :func:`subscription_create`."""
    if caller is not None and caller.is_ven and subscription.client_id != caller.client_id:
        raise NotPermitted("A VEN may only update its own subscriptions.")
    _subscription_apply(caller, subscription, data)
    _stamp(subscription, created=False)
    with transaction.atomic():
        subscription.save()
        notification_record(object_type="SUBSCRIPTION", operation="UPDATE", obj=subscription)
    return subscription


def subscription_delete(*, caller: VtnCaller | None, subscription: Subscription) -> Subscription:
    """Delete a subscription (business logic any, a VEN its own)."""
    if caller is not None and caller.is_ven and subscription.client_id != caller.client_id:
        raise NotPermitted("A VEN may only delete its own subscriptions.")
    pk = subscription.pk
    with transaction.atomic():
        subscription.delete()
        subscription.pk = pk
        notification_record(object_type="SUBSCRIPTION", operation="DELETE", obj=subscription)
    return subscription
