"""Pages of the staff dashboard, the site-owner portal and the market-operator home.

Views only: they check who is calling (:mod:`.access`), read through the selectors of the apps below (via
:mod:`.summaries`), validate input with :mod:`.forms` and write through :mod:`.writes` (the asset services).
Objects outside the caller's scope are 404, never 403, so their existence does not leak.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from apps.assets.choices import EDITABLE_STATUSES, EnrolmentAction, EnrolmentStatus
from apps.assets.models import Site
from apps.core.errors import DomainError, NotPermitted
from apps.markets.flexibility_view import PortfolioFlexibility, portfolio_flexibility

from . import accuracy, activity, charts, results, revenue, site_charts, summaries, writes
from .access import (
    aggregator_required,
    asset_reader_required,
    member_required,
    operator_required,
    owner_required,
    principal_of,
)
from .forms import TransitionForm
from .plan_delivery import plan_delivery
from .view_helpers import safe_next, scoped_site

#: Rows a page of the site list and of the events list (issue #22: pages stay fast at 10,000 sites).
PAGE_SIZE = 50

#: Chart colours of the enrolment statuses (the badge colours of static/dashboard/app.css).
STATUS_COLORS: dict[str, str] = {
    EnrolmentStatus.DRAFT: "#7a8894",
    EnrolmentStatus.SUBMITTED: "#4c8dd6",
    EnrolmentStatus.APPROVED: "#2f9e4f",
    EnrolmentStatus.REJECTED: "#d9534f",
    EnrolmentStatus.ACTIVE: "#0e7c66",
    EnrolmentStatus.SUSPENDED: "#e0a030",
}


def _flexibility_chart(flex: PortfolioFlexibility | None) -> dict:
    """Hourly down/up flexibility of the portfolio over the next 24 h (kW, step lines from each window start):
    the same :class:`PortfolioFlexibility` as the table beside it, whose "24-h peak" columns are the chart's
    highest points (its "now" columns are the first point when the clock is on the hour); ``flex`` None: not
    computed yet."""
    empty = "No active site: no flexibility to offer."
    if flex is None:
        empty = "Being computed in the background."
    if flex is None or flex.empty:
        return {"kind": "timeseries", "unit": "kW", "t": [], "series": [], "empty": empty}
    index = pd.DatetimeIndex(flex.hours)
    down = pd.Series(flex.total.down_kw, index=index)
    up = pd.Series(flex.total.up_kw, index=index)
    return charts.timeseries_chart(
        lines=[
            charts.Line("Down: reduction holdable for 1 h", down, style="step"),
            charts.Line("Up: increase holdable for 1 h", up, style="step"),
        ],
        unit="kW",
        empty=empty,
    )


# --- entry and persona homes --------------------------------------------------------------------------------


@require_safe
@member_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each persona to its own start page."""
    principal = principal_of(request)
    if principal.is_aggregator:
        return redirect("dashboard:overview")
    if principal.is_site_owner:
        return redirect("dashboard:portal")
    return redirect("dashboard:operator_home")


@require_safe
@aggregator_required
def overview(request: HttpRequest) -> HttpResponse:
    """Staff overview: enrolled capacity by zone, sites by status, the enrolment queue, batteries and PV, the
    portfolio's down/up flexibility now and over the next 24 h, events, dispatch and revenue."""
    principal = principal_of(request)
    flexibility = portfolio_flexibility(principal=principal)
    summary = summaries.portfolio_summary(principal=principal)
    zone_chart = charts.bar_chart(
        categories=[z.zone for z in summary.zones],
        series={
            "Active": [z.active_kw / 1000 for z in summary.zones],
            "Submitted or approved": [z.pipeline_kw / 1000 for z in summary.zones],
        },
        unit="MW",
        empty="No site is active or in enrolment yet.",
    )
    status_chart = charts.bar_chart(
        categories=[EnrolmentStatus(s).label for s in summary.status_counts],
        series={"Sites": list(summary.status_counts.values())},
        unit="sites",
        horizontal=True,
        colors=[STATUS_COLORS[s] for s in summary.status_counts],
        empty="No sites registered yet.",
    )
    return render(
        request,
        "dashboard/overview.html",
        {
            "activity": summaries.activity_summary(principal=principal),
            "flexibility": flexibility,
            "flexibility_chart": _flexibility_chart(flexibility),
            "summary": summary,
            "zone_chart": zone_chart,
            "status_chart": status_chart,
            "statuses": [(EnrolmentStatus(s), n) for s, n in summary.status_counts.items()],
            "can_act": principal.can_write,
            "events": summaries.open_events(principal=principal),
            "results": results.period_results(principal=principal),
        },
    )


@require_safe
@aggregator_required
def site_list(request: HttpRequest) -> HttpResponse:
    """Every site (staff), optionally filtered by enrolment status, :data:`PAGE_SIZE` a page (``?page=``; a page
    out of range shows the last one)."""
    status = request.GET.get("status", "")
    sites = summaries.owner_site_list(principal=principal_of(request))
    if status in EnrolmentStatus.values:
        sites = sites.filter(enrolment_status=status)
    else:
        status = ""
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/site_list.html",
        {
            "sites": page.object_list,
            "page": page,
            "page_query": f"status={status}&" if status else "",
            "status": status,
            "statuses": EnrolmentStatus.choices,
        },
    )


@require_safe
@operator_required
def operator_home(request: HttpRequest) -> HttpResponse:
    """A market operator's programs and open events; the operator works through the API (linked)."""
    principal = principal_of(request)
    return render(
        request,
        "dashboard/operator.html",
        {
            "programs": summaries.operator_programs(principal=principal),
            "events": summaries.open_events(principal=principal, limit=10),
            "past": summaries.past_events(principal=principal),
        },
    )


# --- site page (staff: any site; owner: own sites) -----------------------------------------------------------


def _site_page(
    request: HttpRequest, site: Site, *, status: int = 200, extra: dict[str, Any] | None = None
) -> HttpResponse:
    principal = principal_of(request)
    detail = summaries.site_detail(principal=principal, site=site)
    shares = {w.name: w.share_pct for w in detail.workloads}
    if detail.workloads and detail.unallocated_pct > 0:
        shares["Not declared"] = detail.unallocated_pct
    period = request.GET.get("period", site_charts.DEFAULT_PERIOD)
    if period not in site_charts.PERIODS:
        period = site_charts.DEFAULT_PERIOD
    context = {
        "detail": detail,
        "site": site,
        "series": site_charts.site_charts(principal=principal, site=site, period=period),
        "periods": list(site_charts.PERIODS),
        "share_chart": charts.donut_chart(slices=shares, unit="%", empty="No workload classes declared yet."),
        "is_owner": principal.is_site_owner,
        "can_edit": principal.is_site_owner and principal.can_write and detail.editable,
        "actions": _available_actions(principal, site),
        **(extra or {}),
    }
    return render(request, "dashboard/site_detail.html", context, status=status)


def _available_actions(principal: Any, site: Site) -> list[tuple[str, str, bool]]:
    """(action, label, needs a reason) the caller could take now, for the buttons on the site page."""
    if not principal.can_write:
        return []
    status = site.enrolment_status
    if principal.is_site_owner:
        return [("submit", "Submit for approval", False)] if status in EDITABLE_STATUSES else []
    if not principal.is_aggregator:
        return []
    by_status: dict[str, list[tuple[str, str, bool]]] = {
        EnrolmentStatus.SUBMITTED: [("approve", "Approve", False), ("reject", "Reject", True)],
        EnrolmentStatus.APPROVED: [("activate", "Activate", False)],
        EnrolmentStatus.ACTIVE: [("suspend", "Suspend", True)],
        EnrolmentStatus.SUSPENDED: [("activate", "Re-activate", False)],
    }
    return by_status.get(status, [])


@require_safe
@asset_reader_required
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's operation (IT load, grid power, PV and battery against forecasts, with setpoints; ``?period=``
    one of :data:`~apps.dashboard.site_charts.PERIODS`, unknown values fall back to the default), registration,
    workload classes, batteries, PV arrays and enrolment history."""
    return _site_page(request, scoped_site(request, pk))


@require_POST
@asset_reader_required
def site_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take an enrolment action through the state machine: submit (owner); approve, reject, activate,
    suspend (aggregator). A refusal is shown with the service's status and reason."""
    if action not in EnrolmentAction.values:
        raise Http404("unknown enrolment action")
    site = scoped_site(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        reason_error = "; ".join(str(e) for e in form.errors.get("reason", ["invalid input"]))
        return _site_page(
            request, site, status=400, extra={"action_error": reason_error, "failed_action": action}
        )
    try:
        site = writes.enrolment_act(
            principal=principal_of(request), site=site, action=action, reason=form.cleaned_data["reason"]
        )
    except NotPermitted as error:
        raise PermissionDenied(error.reason) from error
    except DomainError as error:
        return _site_page(
            request, site, status=error.status, extra={"action_error": error.reason, "failed_action": action}
        )
    messages.success(request, f"{site.name}: {site.get_enrolment_status_display().lower()}.")
    return HttpResponseRedirect(safe_next(request, reverse("dashboard:site_detail", args=[site.pk])))


# --- owner portal ------------------------------------------------------------------------------------------


@require_safe
@owner_required
def portal(request: HttpRequest) -> HttpResponse:
    """The owner's sites with their enrolment status and what to do next."""
    principal = principal_of(request)
    return render(
        request,
        "dashboard/portal.html",
        {"sites": summaries.owner_site_list(principal=principal), "can_write": principal.can_write},
    )


# --- events, revenue, forecast accuracy ---------------------------------------------------------------------


@require_safe
@asset_reader_required
def event_list(request: HttpRequest) -> HttpResponse:
    """Market events with what was awarded, delivered and paid: every event for staff, the events its sites
    took part in (with only its sites' figures) for a site owner; newest first, :data:`PAGE_SIZE` a page."""
    principal = principal_of(request)
    page = Paginator(activity.visible_events(principal=principal), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = activity.event_rows(principal=principal, events=list(page.object_list))
    own_sites = not principal.is_aggregator
    return render(
        request,
        "dashboard/event_list.html",
        {
            "rows": rows,
            "page": page,
            "page_query": "",
            "own_sites": own_sites,
            "chart": activity.event_list_chart(rows, own_sites=own_sites),
        },
    )


@require_safe
@asset_reader_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One event: requested, bid, awarded, called and delivered kW per interval, baseline against metered,
    each site's contribution and the delivery and acknowledgement of its setpoints. An owner sees only its
    own sites' part; an event its sites had no part in is 404."""
    principal = principal_of(request)
    event = activity.event_get(principal=principal, pk=pk)
    return render(
        request,
        "dashboard/event_detail.html",
        {"detail": activity.event_detail(principal=principal, event=event)},
    )


@require_safe
@asset_reader_required
def revenue_page(request: HttpRequest) -> HttpResponse:
    """Settled money by month, program and site: the market revenue attributed to each site, the aggregator's
    fee and the owner's payout (staff: every site; owner: its own sites), with links to monthly statements."""
    principal = principal_of(request)
    return render(
        request,
        "dashboard/revenue.html",
        {
            "summary": revenue.revenue_summary(principal=principal),
            "results": results.period_results(principal=principal),
            "own_sites": not principal.is_aggregator,
        },
    )


#: Windows the forecast accuracy page offers, in days.
ACCURACY_DAYS = (7, 14, 30)


@require_safe
@aggregator_required
def forecast_accuracy(request: HttpRequest) -> HttpResponse:
    """Recent error of the stored forecasts against actuals and the persistence and seasonal-naive baselines,
    per series, and apart from them the plan's delivery per site (planned vs metered grid power,
    :mod:`apps.dashboard.plan_delivery`) (``?days=`` one of :data:`ACCURACY_DAYS`, default 14)."""
    try:
        days = int(request.GET.get("days", accuracy.DEFAULT_DAYS))
    except ValueError:
        days = accuracy.DEFAULT_DAYS
    if days not in ACCURACY_DAYS:
        days = accuracy.DEFAULT_DAYS
    return render(
        request,
        "dashboard/forecast_accuracy.html",
        {
            "summary": accuracy.forecast_accuracy(principal=principal_of(request), days=days),
            "delivery": plan_delivery(principal=principal_of(request), days=days),
            "choices": ACCURACY_DAYS,
            "methods": [(m, accuracy.LABELS[m]) for m in accuracy.METHODS],
        },
    )
