"""Reads of the asset registry, always scoped to what the caller may see.

Scoping (DESIGN.md): aggregator members see every site; a site owner sees its own organisation's sites (an
API client bound to one site sees only that site); a market operator sees no assets.
"""

from __future__ import annotations

from django.db.models import QuerySet, Sum

from apps.accounts.choices import ApiClientRole
from apps.accounts.principal import Principal

from .choices import EnrolmentStatus
from .models import Battery, EnrolmentTransition, PVArray, Site, SiteCredential, WorkloadClass


def site_list(*, principal: Principal) -> QuerySet[Site]:
    """Sites visible to ``principal`` (possibly none)."""
    qs = Site.objects.select_related("owner", "market_zone")
    if principal.is_aggregator:
        return qs
    if principal.is_site_owner:
        qs = qs.filter(owner=principal.organisation)
        if principal.api_client is not None:
            bound = SiteCredential.objects.filter(api_client=principal.api_client).values("site_id")
            if bound.exists():
                qs = qs.filter(pk__in=bound)
        return qs
    return qs.none()


def workload_class_list(*, principal: Principal) -> QuerySet[WorkloadClass]:
    """Workload classes of the sites visible to ``principal``."""
    return (
        WorkloadClass.objects.filter(site__in=site_list(principal=principal))
        .select_related("site")
        .prefetch_related("migratable_to")
    )


def battery_list(*, principal: Principal) -> QuerySet[Battery]:
    """Batteries of the sites visible to ``principal``."""
    return Battery.objects.filter(site__in=site_list(principal=principal)).select_related("site")


def pv_array_list(*, principal: Principal) -> QuerySet[PVArray]:
    """PV arrays of the sites visible to ``principal``."""
    return PVArray.objects.filter(site__in=site_list(principal=principal)).select_related("site")


def site_transition_list(*, site: Site) -> QuerySet[EnrolmentTransition]:
    """Enrolment history of ``site``, oldest first."""
    return site.transitions.all()


def site_workload_share_pct(*, site: Site, exclude_id: int | None = None) -> float:
    """Sum of the workload-class shares of ``site`` in percent, optionally leaving one class out."""
    qs = WorkloadClass.objects.filter(site=site)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return float(qs.aggregate(total=Sum("share_pct"))["total"] or 0.0)


def site_bound_to_client(*, api_client_id: int) -> Site | None:
    """The site an API client speaks for, if it is bound to one."""
    credential = SiteCredential.objects.select_related("site").filter(api_client_id=api_client_id).first()
    return credential.site if credential else None


def active_site_list() -> QuerySet[Site]:
    """Sites in the portfolio (enrolment active), for scheduled jobs that act for the aggregator."""
    return Site.objects.filter(enrolment_status=EnrolmentStatus.ACTIVE).select_related("market_zone")


def site_for_ven_client(*, client_id: str) -> Site | None:
    """The site bound to the active VEN API client ``client_id`` (its OpenADR ``clientID``), or ``None``."""
    credential = (
        SiteCredential.objects.select_related("site")
        .filter(
            api_client__client_id=client_id, api_client__role=ApiClientRole.VEN, api_client__is_active=True
        )
        .first()
    )
    return credential.site if credential else None
