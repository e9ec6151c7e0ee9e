"""Pages of the owner's enrolment: register or change a draft site, add or change its workload classes,
batteries and PV arrays (validated by :mod:`.forms`, written through :mod:`.writes`), and delete drafts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.assets.choices import EDITABLE_STATUSES
from apps.assets.models import Site
from apps.core.errors import DomainError

from . import writes
from .access import owner_writer_required, principal_of
from .forms import ASSET_FORMS, SiteForm
from .view_helpers import (
    ASSET_KINDS,
    attach_errors,
    not_editable,
    post_or_none,
    scoped_site,
    sentence,
    service_error,
)


@require_http_methods(["GET", "POST"])
@owner_writer_required
def site_create(request: HttpRequest) -> HttpResponse:
    """Step 1 of enrolment: register the site (a draft)."""
    return _site_form(request, site=None)


@require_http_methods(["GET", "POST"])
@owner_writer_required
def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft or rejected site's registration (409 otherwise)."""
    site = scoped_site(request, pk)
    if site.enrolment_status not in EDITABLE_STATUSES:
        return not_editable(request, site)
    return _site_form(request, site=site)


def _site_form(request: HttpRequest, *, site: Site | None) -> HttpResponse:
    principal = principal_of(request)
    form = SiteForm(post_or_none(request), instance=site, principal=principal)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            saved = writes.site_save(principal=principal, site=site, data=data)
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            return service_error(request, site, error)
        else:
            verb = "registered as a draft" if site is None else "saved"
            messages.success(request, f"{saved.name} {verb}.")
            return redirect("dashboard:site_detail", pk=saved.pk)
    status = 400 if form.errors else 200
    return render(request, "dashboard/site_form.html", {"form": form, "site": site}, status=status)


@require_POST
@owner_writer_required
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a draft site."""
    site = scoped_site(request, pk)
    try:
        writes.site_remove(principal=principal_of(request), site=site)
    except DomainError as error:
        return service_error(request, site, error)
    messages.success(request, f"Draft {site.name} deleted.")
    return redirect("dashboard:portal")


@require_http_methods(["GET", "POST"])
@owner_writer_required
def asset_form(request: HttpRequest, pk: int, kind: str, asset_pk: int | None = None) -> HttpResponse:
    """Add or change a workload class, battery or PV array of a draft or rejected site."""
    if kind not in ASSET_KINDS:
        raise Http404("unknown asset kind")
    principal = principal_of(request)
    site = scoped_site(request, pk)
    model, selector, noun = ASSET_KINDS[kind]
    asset = None
    if asset_pk is not None:
        asset = get_object_or_404(selector(principal=principal).filter(site=site), pk=asset_pk)
    if site.enrolment_status not in EDITABLE_STATUSES:
        return not_editable(request, site)
    form_class = ASSET_FORMS[kind]
    extra = {"principal": principal} if kind == "workloads" else {}
    form = form_class(post_or_none(request), instance=asset, site=site, **extra)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            saved = writes.asset_save(principal=principal, site=site, model=model, asset=asset, data=data)
        except ValidationError as error:
            attach_errors(form, error)
        except DomainError as error:
            return service_error(request, site, error)
        else:
            messages.success(request, f"{sentence(noun)} {saved.name} saved.")
            if "add_another" in request.POST:
                return redirect("dashboard:asset_create", pk=site.pk, kind=kind)
            return redirect("dashboard:site_detail", pk=site.pk)
    status = 400 if form.errors else 200
    return render(
        request,
        "dashboard/asset_form.html",
        {"form": form, "site": site, "asset": asset, "noun": noun, "kind": kind},
        status=status,
    )


@require_POST
@owner_writer_required
def asset_delete(request: HttpRequest, pk: int, kind: str, asset_pk: int) -> HttpResponse:
    """Remove a workload class, battery or PV array from a draft or rejected site."""
    if kind not in ASSET_KINDS:
        raise Http404("unknown asset kind")
    principal = principal_of(request)
    site = scoped_site(request, pk)
    _, selector, noun = ASSET_KINDS[kind]
    asset = get_object_or_404(selector(principal=principal).filter(site=site), pk=asset_pk)
    try:
        writes.asset_remove(principal=principal, asset=asset)
    except DomainError as error:
        return service_error(request, site, error)
    messages.success(request, f"{sentence(noun)} {asset.name} removed.")
    return redirect("dashboard:site_detail", pk=site.pk)
