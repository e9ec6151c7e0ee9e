"""Writes of ven objects (``BlVenRequest`` / ``VenVenRequest``): business logic, or a VEN itself."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.assets.models import Site
from apps.assets.selectors import site_for_ven_client
from apps.core.errors import ConflictError, DomainError, NotPermitted

from .. import schemas
from ..access import VtnCaller
from ..models import Ven, VenTarget
from ..selectors import site_targets
from ._common import (
    ENROLLED_STATUSES,
    _index_targets,
    _own_targets,
    _request_kind,
    _require_bl,
    _same_targets,
    _save,
    _stamp,
)
from .notify import notification_record


def _ven_site(client_id: str) -> Site:
    site = site_for_ven_client(client_id=client_id)
    if site is None:
        raise DomainError(
            f"'{client_id}' is not the client id of an active VEN API client bound to a site "
            "(manage.py create_api_client --role ven --site SITE).",
            field="clientID",
        )
    return site


def _ven_save(ven: Ven, *, created: bool, site_changed: bool = False) -> Ven:
    if (created or site_changed) and ven.site.enrolment_status not in ENROLLED_STATUSES:
        raise ConflictError(
            f"site '{ven.site}' is {ven.site.enrolment_status}; only approved or active sites have a VEN."
        )
    checks = [
        (Ven.objects.filter(ven_name=ven.ven_name), f"a ven named '{ven.ven_name}' exists", "venName"),
        (
            Ven.objects.filter(client_id=ven.client_id),
            f"client '{ven.client_id}' already has a ven",
            "clientID",
        ),
        (Ven.objects.filter(site=ven.site), f"site '{ven.site}' already has a ven", "clientID"),
    ]
    for qs, message, field in checks:
        clash = qs.exclude(pk=ven.pk).first()
        if clash is not None:
            raise ConflictError(f"{message} (id {clash.pk}).", field=field)
    ven.targets = list(dict.fromkeys([*_own_targets(ven.targets, ven.site), *site_targets(ven.site)]))
    _stamp(ven, created=created)
    _save(ven, f"a ven named '{ven.ven_name}' or for client '{ven.client_id}' exists.", "venName")
    _index_targets(VenTarget, "ven", ven, ven.targets)
    notification_record(object_type="VEN", operation="CREATE" if created else "UPDATE", obj=ven)
    return ven


def _ven_body(caller: VtnCaller | None, data: Any) -> dict[str, Any]:
    body = _request_kind(data, caller, bl_kind="BL_VEN_REQUEST", ven_kind="VEN_VEN_REQUEST")
    schema = "BlVenRequest" if body.get("objectType") == "BL_VEN_REQUEST" else "VenVenRequest"
    return schemas.validate(body, schema)


def _bl_client_id(body: dict[str, Any]) -> str:
    """The ``clientID`` business logic names in a ven body. A ``VenVenRequest`` (valid without it) sent by
    business logic has none: 400, not a crash (found by tests/reliability/test_openadr_fuzz.py).

    Raises:
        DomainError: no ``clientID``.
    """
    client_id = body.get("clientID")
    if not client_id:
        raise DomainError(
            "business logic names the ven's clientID (a BlVenRequest); VEN_VEN_REQUEST is for a VEN itself.",
            field="clientID",
        )
    return str(client_id)


def ven_create(*, caller: VtnCaller | None, data: Any) -> Ven:
    """Register a VEN: a ven object for one enrolled site.

    Business logic sends a ``BlVenRequest``; its ``clientID`` must be a VEN API client bound to a site (400
    otherwise). A VEN registers itself with a ``VenVenRequest``: ``clientID`` and site come from its token, and
    it may not set targets (403). The site must be approved or active, and may have one ven (409). The VTN adds
    the site's and its zone's targets (:func:`apps.openadr.selectors.site_targets`).
    """
    body = _ven_body(caller, data)
    if caller is not None and caller.is_ven:
        if body.get("clientID") not in (None, caller.client_id):
            raise NotPermitted("A VEN may only register itself (clientID is taken from its token).")
        if body.get("targets"):
            raise NotPermitted(
                "Only business logic may set the targets of a ven (Definition.md §Object Privacy)."
            )
        assert caller.site is not None
        ven = Ven(client_id=caller.client_id, site=caller.site, targets=[])
    else:
        client_id = _bl_client_id(body)
        ven = Ven(client_id=client_id, site=_ven_site(client_id), targets=body.get("targets"))
    ven.ven_name = body["venName"]
    ven.attributes = body.get("attributes")
    with transaction.atomic():
        return _ven_save(ven, created=True)


def ven_update(*, caller: VtnCaller | None, ven: Ven, data: Any) -> Ven:
    """Replace a ven object. A VEN may update only its own, and may not change its targets or clientID (403);
    business logic may change both (a new ``clientID`` moves the ven to that client's site)."""
    body = _ven_body(caller, data)
    if caller is not None and caller.is_ven:
        if ven.client_id != caller.client_id:
            raise NotPermitted("A VEN may only update its own ven object.")
        if body.get("clientID") not in (None, ven.client_id):
            raise NotPermitted("A VEN cannot change its clientID.")
        if not _same_targets(body.get("targets"), ven.targets):
            raise NotPermitted(
                "Only business logic may change the targets of a ven (Definition.md §Object Privacy)."
            )
    site_changed = False
    if caller is None or caller.is_bl:
        client_id = _bl_client_id(body)
        if client_id != ven.client_id:
            site = _ven_site(client_id)
            site_changed = site.pk != ven.site_id
            ven.site, ven.client_id = site, client_id
        ven.targets = body.get("targets")
    ven.ven_name = body["venName"]
    ven.attributes = body.get("attributes")
    with transaction.atomic():
        return _ven_save(ven, created=False, site_changed=site_changed)


def ven_delete(*, caller: VtnCaller | None, ven: Ven) -> Ven:
    """Delete a ven object and its resources (business logic only). Its reports are kept."""
    _require_bl(caller, "delete vens")
    pk = ven.pk
    ven.delete()
    ven.pk = pk
    notification_record(object_type="VEN", operation="DELETE", obj=ven)
    return ven
