"""The audit log of staff actions: enrolment decisions, bid overrides and (re-)settlements.

Services call :func:`audit_record` inside the transaction that carries out the action, so the entry and the
action commit or roll back together. Entries are read by aggregator staff only (:func:`audit_entries`): the
admin (read-only) and ``GET /api/v1/audit/``.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet

from apps.core.errors import NotPermitted

from .models import AuditAction, AuditEntry
from .principal import Principal, principal_for


def audit_record(
    *,
    actor: Principal | Any,
    action: AuditAction | str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit log.

    Args:
        actor: the :class:`~apps.accounts.principal.Principal` who acted, or a ``User`` (the admin's
            ``request.user``), resolved with :func:`~apps.accounts.principal.principal_for`.
        action: one of :class:`~apps.accounts.models.AuditAction`.
        target: the object acted on; its model label and primary key fill ``object_type`` / ``object_id``
            (or pass those two explicitly).
        reason: the reason given by the actor, if any.
        details: JSON-serialisable figures of the change (e.g. the new bid intervals in kW and per MWh).

    Raises:
        ValueError: ``action`` is not an :class:`AuditAction`, or no object is named.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    principal = actor if isinstance(actor, Principal) else principal_for(actor)
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    if not object_type or object_id in ("", None):
        raise ValueError("an audit entry names the object acted on (target, or object_type and object_id)")
    user = principal.user if principal.api_client is None and getattr(principal.user, "pk", None) else None
    return AuditEntry.objects.create(
        actor=principal.actor_label,
        user=user,
        organisation=principal.organisation,
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        reason=reason,
        details=details or {},
    )


def audit_entries(*, principal: Principal) -> QuerySet[AuditEntry]:
    """Every audit entry, newest first, for aggregator members.

    Raises:
        NotPermitted: the caller is not a member of the aggregator (site owners and market operators never see
            the log, which names other organisations' sites).
    """
    if not principal.is_aggregator:
        raise NotPermitted("Only the aggregator's staff may read the audit log.")
    return AuditEntry.objects.select_related("organisation", "user").order_by("-created_at", "-pk")
