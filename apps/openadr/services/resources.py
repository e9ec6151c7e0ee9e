"""Writes of resource objects (``BlResourceRequest`` / ``VenResourceRequest``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core.errors import ConflictError, DomainError, NotPermitted

from .. import schemas
from ..access import VtnCaller
from ..models import Resource, ResourceTarget, Ven
from ..selectors import object_pk
from ._common import _index_targets, _own_targets, _request_kind, _same_targets, _save, _stamp
from .notify import notification_record


def _resource_body(caller: VtnCaller | None, data: Any) -> dict[str, Any]:
    body = _request_kind(data, caller, bl_kind="BL_RESOURCE_REQUEST", ven_kind="VEN_RESOURCE_REQUEST")
    schema = "BlResourceRequest" if body.get("objectType") == "BL_RESOURCE_REQUEST" else "VenResourceRequest"
    return schemas.validate(body, schema)


def _resource_apply(caller: VtnCaller | None, resource: Resource, body: dict[str, Any]) -> None:
    ven_qs = Ven.objects.all()
    if caller is not None and caller.is_ven:
        ven_qs = ven_qs.filter(client_id=caller.client_id)
        if body.get("clientID") not in (None, caller.client_id):
            raise NotPermitted("A VEN may only write resources of its own ven.")
        if not _same_targets(body.get("targets") or None, resource.targets):
            raise NotPermitted(
                "Only business logic may set the targets of a resource (Definition.md §Object Privacy)."
            )
    ven = ven_qs.filter(pk=object_pk(body["venID"]) or 0).first()
    if ven is None:
        raise ConflictError(f"there is no ven with id '{body['venID']}' for this client.", field="venID")
    if resource.pk is not None and ven.pk != resource.ven_id:
        raise DomainError("a resource cannot move to another ven.", field="venID")
    if (caller is None or caller.is_bl) and body.get("clientID") not in (None, ven.client_id):
        raise DomainError(f"clientID must be the ven's ('{ven.client_id}').", field="clientID")
    resource.ven = ven
    resource.client_id = ven.client_id
    resource.resource_name = body["resourceName"]
    resource.attributes = body.get("attributes")
    if caller is None or caller.is_bl:
        targets = body.get("targets")
        resource.targets = None if targets is None else _own_targets(targets, ven.site)


def _resource_save(resource: Resource, *, created: bool) -> Resource:
    clash = (
        Resource.objects.filter(ven=resource.ven, resource_name=resource.resource_name)
        .exclude(pk=resource.pk)
        .first()
    )
    if clash is not None:
        raise ConflictError(
            f"ven {resource.ven_id} has a resource named '{resource.resource_name}' (id {clash.pk}).",
            field="resourceName",
        )
    _stamp(resource, created=created)
    _save(resource, f"the ven has a resource named '{resource.resource_name}'.", "resourceName")
    _index_targets(ResourceTarget, "resource", resource, resource.targets)
    notification_record(object_type="RESOURCE", operation="CREATE" if created else "UPDATE", obj=resource)
    return resource


def resource_create(*, caller: VtnCaller | None, data: Any) -> Resource:
    """Create a resource of a ven (``BlResourceRequest`` / ``VenResourceRequest``). A VEN only under its own
    ven and without targets (403); ``venID`` must name a ven the caller can write (409)."""
    body = _resource_body(caller, data)
    resource = Resource(targets=None)
    _resource_apply(caller, resource, body)
    with transaction.atomic():
        return _resource_save(resource, created=True)


def resource_update(*, caller: VtnCaller | None, resource: Resource, data: Any) -> Resource:
    """Replace a resource (same rules as :func:`resource_create`; it stays with its ven)."""
    body = _resource_body(caller, data)
    _resource_apply(caller, resource, body)
    with transaction.atomic():
        return _resource_save(resource, created=False)


def resource_delete(*, caller: VtnCaller | None, resource: Resource) -> Resource:
    """Delete a resource (business logic, or the VEN owning it)."""
    if caller is not None and caller.is_ven and resource.client_id != caller.client_id:
        raise NotPermitted("A VEN may only delete its own resources.")
    pk = resource.pk
    resource.delete()
    resource.pk = pk
    notification_record(object_type="RESOURCE", operation="DELETE", obj=resource)
    return resource
