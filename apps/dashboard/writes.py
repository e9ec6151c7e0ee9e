"""The dashboard's only writes: owner-portal enrolment forms and staff enrolment buttons.

Every function here calls one service of :mod:`apps.assets.services` (the same ones the REST API calls), so
the portal gets the API's permission checks, editable-status rule (409) and enrolment state machine. Views
never import services directly and nothing in the dashboard writes through the ORM; reads go through
selectors. Errors are the services' own: ``DomainError`` subclasses and ``ValidationError`` (field → reason).
"""

from __future__ import annotations

from typing import Any

from apps.accounts.principal import Principal
from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from apps.assets.services import (
    site_asset_create,
    site_asset_delete,
    site_asset_update,
    site_create,
    site_delete,
    site_transition,
    site_update,
    workload_class_create,
    workload_class_update,
)


def site_save(*, principal: Principal, site: Site | None, data: dict[str, Any]) -> Site:
    """Register a new draft site (``site`` is None) or change a draft/rejected one."""
    if site is None:
        return site_create(principal=principal, data=data)
    return site_update(principal=principal, site=site, data=data)


def site_remove(*, principal: Principal, site: Site) -> None:
    """Delete a site that never left draft."""
    site_delete(principal=principal, site=site)


def asset_save(
    *,
    principal: Principal,
    site: Site,
    model: type[WorkloadClass] | type[Battery] | type[PVArray],
    asset: WorkloadClass | Battery | PVArray | None,
    data: dict[str, Any],
) -> Any:
    """Add (``asset`` is None) or change a workload class, battery or PV array of ``site``."""
    if model is WorkloadClass:
        if asset is None:
            return workload_class_create(principal=principal, data={**data, "site": site})
        return workload_class_update(principal=principal, workload=asset, data=data)  # type: ignore[arg-type]
    if asset is None:
        return site_asset_create(principal=principal, model=model, data={**data, "site": site})  # type: ignore[arg-type]
    return site_asset_update(principal=principal, asset=asset, data=data)  # type: ignore[arg-type]


def asset_remove(*, principal: Principal, asset: WorkloadClass | Battery | PVArray) -> None:
    """Remove a workload class, battery or PV array from an editable site."""
    site_asset_delete(principal=principal, asset=asset)


def enrolment_act(*, principal: Principal, site: Site, action: str, reason: str = "") -> Site:
    """Take an enrolment action (submit, approve, reject, activate, suspend) through the state machine."""
    return site_transition(principal=principal, site=site, action=action, reason=reason)
