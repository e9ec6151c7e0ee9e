"""Writes to the asset registry: create, update and delete sites and their assets, and enrolment transitions.

Every write checks that the caller may make it and that the site is still editable (draft or rejected);
every enrolment transition is a conditional UPDATE on the current status, so that two concurrent requests
cannot both move a site, and is recorded with who, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from apps.accounts.audit import audit_record
from apps.accounts.principal import Principal
from apps.core.errors import ConflictError, DomainError, NotPermitted

from . import selectors
from .choices import EDITABLE_STATUSES, EnrolmentAction, EnrolmentStatus
from .models import Battery, EnrolmentTransition, PVArray, Site, SiteCredential, WorkloadClass

#: action → (statuses it may start from, status it leads to, who may take it)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    EnrolmentAction.SUBMIT: (
        frozenset({EnrolmentStatus.DRAFT, EnrolmentStatus.REJECTED}),
        EnrolmentStatus.SUBMITTED,
        "owner",
    ),
    EnrolmentAction.APPROVE: (frozenset({EnrolmentStatus.SUBMITTED}), EnrolmentStatus.APPROVED, "aggregator"),
    EnrolmentAction.REJECT: (frozenset({EnrolmentStatus.SUBMITTED}), EnrolmentStatus.REJECTED, "aggregator"),
    EnrolmentAction.ACTIVATE: (
        frozenset({EnrolmentStatus.APPROVED, EnrolmentStatus.SUSPENDED}),
        EnrolmentStatus.ACTIVE,
        "aggregator",
    ),
    EnrolmentAction.SUSPEND: (frozenset({EnrolmentStatus.ACTIVE}), EnrolmentStatus.SUSPENDED, "aggregator"),
}
REASON_REQUIRED = frozenset({EnrolmentAction.REJECT, EnrolmentAction.SUSPEND})


def _require_owner_writer(*, principal: Principal, site: Site) -> None:
    if not (principal.is_site_owner and principal.can_write and principal.organisation == site.owner):
        raise NotPermitted("Only the site owner's admins and staff may change this site.")


def _require_editable(site: Site) -> None:
    if site.enrolment_status not in EDITABLE_STATUSES:
        raise ConflictError(
            f"site '{site.name}' is {site.enrolment_status}; its registration can only be changed while it is "
            "a draft or rejected.",
            field="site",
        )


def _apply(instance: Model, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(instance, key, value)


def site_create(*, principal: Principal, data: dict[str, Any]) -> Site:
    """Create a draft site owned by the caller's organisation.

    Raises:
        NotPermitted: the caller is not a site owner's admin or staff.
    """
    if not (principal.is_site_owner and principal.can_write):
        raise NotPermitted("Only site owners' admins and staff may register sites.")
    return Site.objects.create(owner=principal.org, enrolment_status=EnrolmentStatus.DRAFT, **data)


def site_update(*, principal: Principal, site: Site, data: dict[str, Any]) -> Site:
    """Update a draft or rejected site of the caller's organisation (409 otherwise)."""
    _require_owner_writer(principal=principal, site=site)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        _require_editable(site)
        _apply(site, data)
        site.save()
    return site


def site_delete(*, principal: Principal, site: Site) -> None:
    """Delete a site that never left draft (a submitted site keeps its history)."""
    _require_owner_writer(principal=principal, site=site)
    if site.enrolment_status != EnrolmentStatus.DRAFT:
        raise ConflictError(f"site '{site.name}' is {site.enrolment_status}; only drafts can be deleted.")
    site.delete()


def _check_migration_targets(site: Site, targets: Iterable[Site]) -> None:
    for target in targets:
        if target.pk == site.pk:
            raise ValidationError({"migratable_to": "A workload cannot migrate to its own site."})
        if target.owner_id != site.owner_id:
            raise ValidationError({"migratable_to": f"Site {target.pk} belongs to another owner."})


def _check_share(site: Site, share_pct: float, exclude_id: int | None) -> None:
    others = selectors.site_workload_share_pct(site=site, exclude_id=exclude_id)
    if others + share_pct > 100.0 + 1e-9:
        raise ValidationError(
            {
                "share_pct": f"Shares of site '{site.name}' would add up to {others + share_pct:g} % (max 100 %)."
            }
        )


def workload_class_create(*, principal: Principal, data: dict[str, Any]) -> WorkloadClass:
    """Add a workload class to an editable site of the caller; shares of a site stay ≤ 100 %."""
    data = dict(data)
    targets = data.pop("migratable_to", [])
    site: Site = data["site"]
    _require_owner_writer(principal=principal, site=site)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        _require_editable(site)
        _check_share(site, data["share_pct"], exclude_id=None)
        _check_migration_targets(site, targets)
        workload = WorkloadClass.objects.create(**{**data, "site": site})
        workload.migratable_to.set(targets)
    return workload


def workload_class_update(
    *, principal: Principal, workload: WorkloadClass, data: dict[str, Any]
) -> WorkloadClass:
    """Update a workload class of an editable site of the caller."""
    data = dict(data)
    targets = data.pop("migratable_to", None)
    if "site" in data and data["site"].pk != workload.site_id:
        raise ValidationError({"site": "A workload class cannot move to another site."})
    _require_owner_writer(principal=principal, site=workload.site)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=workload.site_id)
        _require_editable(site)
        _check_share(site, data.get("share_pct", workload.share_pct), exclude_id=workload.pk)
        if targets is not None:
            _check_migration_targets(site, targets)
        _apply(workload, data)
        workload.save()
        if targets is not None:
            workload.migratable_to.set(targets)
    return workload


def site_asset_create(
    *, principal: Principal, model: type[Battery] | type[PVArray], data: dict[str, Any]
) -> Any:
    """Add a battery or PV array to an editable site of the caller."""
    site: Site = data["site"]
    _require_owner_writer(principal=principal, site=site)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site.pk)
        _require_editable(site)
        return model.objects.create(**data)


def site_asset_update(*, principal: Principal, asset: Battery | PVArray, data: dict[str, Any]) -> Any:
    """Update a battery or PV array of an editable site of the caller."""
    if "site" in data and data["site"].pk != asset.site_id:
        raise ValidationError({"site": "An asset cannot move to another site."})
    _require_owner_writer(principal=principal, site=asset.site)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=asset.site_id)
        _require_editable(site)
        _apply(asset, data)
        asset.save()
    return asset


def site_asset_delete(*, principal: Principal, asset: WorkloadClass | Battery | PVArray) -> None:
    """Remove a workload class, battery or PV array from an editable site of the caller."""
    _require_owner_writer(principal=principal, site=asset.site)
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=asset.site_id)
        _require_editable(site)
        asset.delete()


def site_transition(*, principal: Principal, site: Site, action: str, reason: str = "") -> Site:
    """Move ``site`` through its enrolment life cycle (see :data:`TRANSITIONS`).

    Submit is the owner's; approve, reject, activate and suspend are the aggregator's. Reject and suspend need
    a reason. The status change is a conditional UPDATE (``WHERE status IN allowed``), so concurrent requests
    cannot both succeed; a transition record stores who, when and why.

    Raises:
        NotPermitted: the caller may not take ``action``.
        DomainError: a required reason is missing (400).
        ConflictError: the site's current status does not allow ``action`` (409, with the reason).
    """
    if action not in TRANSITIONS:
        raise DomainError(f"unknown enrolment action '{action}'.", field="action")
    from_statuses, to_status, actor_kind = TRANSITIONS[action]
    if actor_kind == "owner":
        _require_owner_writer(principal=principal, site=site)
    elif not (principal.is_aggregator and principal.can_write):
        raise NotPermitted(f"Only the aggregator's admins and staff may {action} a site.")
    if action in REASON_REQUIRED and not reason.strip():
        raise DomainError(f"a reason is required to {action} a site.", field="reason")
    if action == EnrolmentAction.SUBMIT and not site.workload_classes.exists():
        raise ConflictError("declare at least one workload class before submitting the site.")

    with transaction.atomic():
        current = (
            Site.objects.select_for_update()
            .filter(pk=site.pk)
            .values_list("enrolment_status", flat=True)
            .first()
        )
        updated = Site.objects.filter(pk=site.pk, enrolment_status__in=from_statuses).update(
            enrolment_status=to_status, status_reason=reason, updated_at=timezone.now()
        )
        if updated != 1:
            allowed = ", ".join(sorted(from_statuses))
            raise ConflictError(
                f"cannot {action} a site that is {current}; {action} is only possible from: {allowed}."
            )
        user = principal.user if principal.api_client is None else None
        EnrolmentTransition.objects.create(
            site=site,
            from_status=str(current),
            to_status=to_status,
            actor=principal.actor_label,
            user=user,
            reason=reason,
        )
        if actor_kind == "aggregator":
            audit_record(
                actor=principal,
                action=f"site_{action}",
                target=site,
                reason=reason,
                details={"from_status": str(current), "to_status": str(to_status), "site": site.name},
            )
    site.refresh_from_db()
    return site


def site_credential_bind(*, api_client_id: int, site: Site) -> SiteCredential:
    """Bind an API client to the one site it speaks for (a VEN or a site control system).

    Raises:
        DomainError: the client belongs to another organisation than the site's owner.
    """
    credential = SiteCredential(api_client_id=api_client_id, site=site)
    if credential.api_client.organisation_id != site.owner_id:
        raise DomainError("the API client and the site belong to different organisations.", field="site")
    credential.save()
    return credential
