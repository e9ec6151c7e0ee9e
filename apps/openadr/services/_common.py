"""Helpers shared by the VTN's write services (metadata, stamps, target index, savepoints)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from apps.assets.choices import EnrolmentStatus
from apps.assets.models import Site
from apps.core import clock
from apps.core.errors import ConflictError, NotPermitted

from ..access import VtnCaller
from ..selectors import site_targets

M = TypeVar("M", bound=models.Model)

#: Site enrolment statuses in which a site may have a VEN (it is in, or about to join, the portfolio).
ENROLLED_STATUSES = frozenset({EnrolmentStatus.APPROVED, EnrolmentStatus.ACTIVE})
MAX_PRIORITY = 2**31 - 1
#: Target prefixes the VTN maintains on ven objects (:func:`apps.openadr.selectors.site_targets`).
RESERVED_TARGET_PREFIXES = ("site-", "zone-")
_METADATA = ("id", "createdDateTime", "modificationDateTime", "objectType")


def _require_bl(caller: VtnCaller | None, action: str) -> None:
    if caller is not None and not caller.is_bl:
        raise NotPermitted(f"Only business logic may {action} (openadr3.yaml security scopes).")


def _require_ven(caller: VtnCaller | None, action: str) -> VtnCaller:
    if caller is None or not caller.is_ven:
        raise NotPermitted(f"Only VENs may {action} (openadr3.yaml scope write_reports).")
    return caller


def _without_metadata(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    return {key: value for key, value in data.items() if key not in _METADATA}


def _save(obj: M, conflict: str, field: str | None = None) -> M:
    """Save in a savepoint; a unique-constraint race becomes a 409 instead of breaking the transaction."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ConflictError(conflict, field=field) from exc
    return obj


def _index_targets(rows: Any, fk: str, owner: models.Model, targets: list[str] | None) -> None:
    rows.objects.filter(**{fk: owner}).delete()
    rows.objects.bulk_create([rows(**{fk: owner, "value": value}) for value in dict.fromkeys(targets or [])])


def _stamp(obj: Any, *, created: bool) -> None:
    now = clock.now()
    if created:
        obj.created_date_time = now
    obj.modification_date_time = now


def _same_targets(given: list[str] | None, stored: list[str] | None) -> bool:
    return given is None or set(given) == set(stored or [])


def _request_kind(data: Any, caller: VtnCaller | None, *, bl_kind: str, ven_kind: str) -> dict[str, Any]:
    """The body with ``objectType`` set to the request schema's discriminator: kept when it is one of the two
    request types, else inferred from the caller's role (§"POST and PUT": a VTN ignores ``objectType``)."""
    if not isinstance(data, dict):
        return data
    body = {key: value for key, value in data.items() if key not in _METADATA[:3]}
    if body.get("objectType") not in (bl_kind, ven_kind):
        body["objectType"] = ven_kind if caller is not None and caller.is_ven else bl_kind
    return body


def _own_targets(targets: list[str] | None, site: Site) -> list[str]:
    """``targets`` without reserved ones (``site-…``, ``zone-…``) of other sites and zones: those are the VTN's
    and follow the site, so that a ven moved to another client or copied from another never keeps them."""
    own = set(site_targets(site))
    return [t for t in targets or [] if t in own or not t.startswith(RESERVED_TARGET_PREFIXES)]
