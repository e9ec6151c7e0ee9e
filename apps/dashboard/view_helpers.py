"""Helpers the dashboard's views share: the caller's site or 404, a safe redirect target, the refusal pages, and
form plumbing. No queries of their own beyond the asset selectors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme

from apps.assets import selectors
from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from apps.core.errors import DomainError, NotPermitted

from .access import principal_of

#: URL segment → (model, selector of the caller's objects, label)
ASSET_KINDS: dict[str, tuple[type, Any, str]] = {
    "workloads": (WorkloadClass, selectors.workload_class_list, "workload class"),
    "batteries": (Battery, selectors.battery_list, "battery"),
    "pv-arrays": (PVArray, selectors.pv_array_list, "PV array"),
}


def scoped_site(request: HttpRequest, pk: int) -> Site:
    """The site ``pk`` if the caller may see it, else 404."""
    return get_object_or_404(selectors.site_list(principal=principal_of(request)), pk=pk)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def not_editable(request: HttpRequest, site: Site) -> HttpResponse:
    """409 page: the site's registration is frozen while it is submitted, approved, active or suspended."""
    reason = (
        f"'{site.name}' is {site.get_enrolment_status_display().lower()}; its registration can only be changed "
        "while it is a draft or rejected."
    )
    return render(request, "dashboard/conflict.html", {"site": site, "reason": reason}, status=409)


def service_error(request: HttpRequest, site: Site | None, error: DomainError) -> HttpResponse:
    """Render a refused write with the service's status (400/409) and reason; 403 for ``NotPermitted``."""
    if isinstance(error, NotPermitted):
        raise PermissionDenied(error.reason)
    return render(
        request, "dashboard/conflict.html", {"site": site, "reason": error.reason}, status=error.status
    )


def sentence(noun: str) -> str:
    """Capitalise the first letter only ("PV array" stays "PV array")."""
    return noun[:1].upper() + noun[1:]


def post_or_none(request: HttpRequest) -> Any:
    """The POST data of a submission (even an empty one, so it fails validation), ``None`` for a GET."""
    return request.POST if request.method == "POST" else None


def attach_errors(form: Any, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` next to the form fields it names (others above the form)."""
    if hasattr(error, "error_dict"):
        for field_name, errors in error.error_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, error)
