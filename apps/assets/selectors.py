"""Reads of the asset registry, always scoped to what the caller may see.

Scoping (DESIGN.md): aggregator members see every site; a site owner sees its own organisation's sites (an
API client bound to one site sees only that site); a market operator sees no assets.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def site_get_visible(*, principal: Principal, site_id: int) -> Site | None:
    """Site ``site_id`` if ``principal`` sees it, else ``None`` (unknown and invisible look the same)."""
    return site_list(principal=principal).filter(pk=site_id).first()


def site_list_by_name(*, principal: Principal) -> list[Site]:
    """The sites visible to ``principal``, by name."""
    return list(site_list(principal=principal).order_by("name"))


def site_ids_visible(*, principal: Principal) -> set[int]:
    """Ids of the sites visible to ``principal``."""
    return set(site_list(principal=principal).values_list("pk", flat=True))


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


# System-job reads (no caller scoping)


def site_list_by_ids(*, site_ids: Iterable[int]) -> list[Site]:
    """The sites with these ids (zone and owner loaded), by name; unknown ids are left out."""
    return list(Site.objects.filter(pk__in=list(site_ids)).select_related("market_zone", "owner"))


def site_ids_active_in_zone(*, zone_id: str) -> list[int]:
    """Ids of the portfolio's active sites in market zone ``zone_id``, ascending."""
    return list(active_site_list().filter(market_zone_id=zone_id).order_by("pk").values_list("pk", flat=True))


def site_count_of_owner_in_zone(*, owner_id: int, zone_id: str) -> int:
    """How many sites ``owner_id`` has in market zone ``zone_id`` (any enrolment status)."""
    return Site.objects.filter(owner_id=owner_id, market_zone_id=zone_id).count()


def site_ids_bound_to_client(*, api_client_id: int) -> list[int]:
    """Ids of the sites an API client is bound to (its site credentials); empty for an unbound client."""
    return list(SiteCredential.objects.filter(api_client_id=api_client_id).values_list("site_id", flat=True))


def site_zone_ids(*, site_ids: Iterable[int], owner_id: int) -> list[str]:
    """Market-zone codes of those of ``site_ids`` that belong to ``owner_id`` (one per site)."""
    return list(
        Site.objects.filter(pk__in=list(site_ids), owner_id=owner_id).values_list("market_zone_id", flat=True)
    )


def pv_array_list_of_site(*, site: Site) -> list[PVArray]:
    """The site's PV arrays, in the database's order (as ``site.pv_arrays.all()``)."""
    return list(site.pv_arrays.all())


def site_get_by_reference(*, reference: str) -> Site | None:
    """The site whose id (all digits) or name is ``reference``, or ``None``: how a command line names a site."""
    sites = (
        Site.objects.filter(pk=int(reference)) if reference.isdigit() else Site.objects.filter(name=reference)
    )
    return sites.first()


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


def site_get(*, site_id: int) -> Site:
    """The site ``site_id``, for system jobs (no caller scoping).

    Raises:
        Site.DoesNotExist: unknown site.
    """
    return Site.objects.get(pk=site_id)


def site_ids_active_among(*, site_ids: Iterable[int]) -> list[int]:
    """Those of ``site_ids`` whose site is active in the portfolio, ascending."""
    return list(active_site_list().filter(pk__in=list(site_ids)).order_by("pk").values_list("pk", flat=True))


def site_owner_id_of(*, site_id: int) -> int | None:
    """The owner organisation's id of site ``site_id``; ``None`` for an unknown site."""
    return Site.objects.filter(pk=site_id).values_list("owner_id", flat=True).first()


def site_pv_capacity_kwp(*, site_id: int) -> float:
    """Total DC capacity (kWp) of the site's PV arrays; 0.0 without arrays."""
    return float(sum(PVArray.objects.filter(site_id=site_id).values_list("dc_capacity_kwp", flat=True)))


def battery_get_by_id(*, battery_id: int) -> Battery | None:
    """The battery ``battery_id``, or ``None`` (system reads: import commands)."""
    return Battery.objects.filter(pk=battery_id).first()


def pv_array_get_by_id(*, pv_array_id: int) -> PVArray | None:
    """The PV array ``pv_array_id``, or ``None`` (system reads: import commands)."""
    return PVArray.objects.filter(pk=pv_array_id).first()


def pv_array_first_of_site_named(*, site_name: str) -> PVArray | None:
    """The first PV array (lowest id) of the site named ``site_name``, or ``None``."""
    return PVArray.objects.filter(site__name=site_name).order_by("pk").first()


def site_count_named(*, name: str) -> int:
    """How many sites are named ``name`` (names are unique per owner, not across owners)."""
    return Site.objects.filter(name=name).count()
