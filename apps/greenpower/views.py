"""The green-power page (``/green/``): per site, the hourly green share (24/7 CFE) against the grid's own low-carbon
share, the period's hourly-matched and annual-matched figures, measured PUE and work KPIs, and a CSV link.

Server-rendered with a chart spec for ``static/dashboard/charts.js`` (the ``timeseries`` shape documented in
``apps/dashboard/charts.py``). Aggregator staff pick any site, a site owner its own; market operators get 403.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.accounts.principal import principal_for
from apps.assets.selectors import site_list_by_name

from . import selectors

PERIOD_DAYS = {"1d": 1, "7d": 7, "30d": 30}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


@login_required(login_url="dashboard:login")
def green_page(request: HttpRequest) -> HttpResponse:
    """Green ledger and KPIs of one visible site (``?site=``, default the first; ``?period=`` 1d/7d/30d ending at
    the last meter reading)."""
    principal = principal_for(request.user)
    if not (principal.is_aggregator or principal.is_site_owner):
        raise PermissionDenied("Green-power figures are for the aggregator and site owners.")
    sites = site_list_by_name(principal=principal)
    site = None
    if request.GET.get("site", "").isdigit():
        site = next((s for s in sites if s.pk == int(request.GET["site"])), None)
    if site is None and sites:
        site = sites[0]
    period = request.GET.get("period", "7d")
    days = PERIOD_DAYS.get(period, 7)
    context: dict = {"sites": sites, "site": site, "period": period if period in PERIOD_DAYS else "7d"}
    context["periods"] = list(PERIOD_DAYS)
    if site is not None:
        end = selectors.site_data_end(site=site)
        if end is not None:
            led = selectors.site_green_ledger(site=site, start=end - timedelta(days=days), end=end)
            s = led.summary
            context["ledger"] = led
            context["kpis"] = {
                "hourly_pct": _pct(s["hourly_matched_share"]),  # type: ignore[arg-type]
                "annual_pct": _pct(s["annual_matched_share"]),  # type: ignore[arg-type]
                **s,
            }
            hours = led.hours
            context["chart"] = {
                "kind": "timeseries",
                "unit": "%",
                "step_s": 3600,
                "t": [int(t.value // 1_000_000) for t in hours.index],
                "series": [
                    {"name": "green share (hourly)", "values": _series(100 * hours["green_share"])},
                    {
                        "name": "grid low-carbon share",
                        "values": _series(100 * hours["grid_low_carbon_share"]),
                    },
                ],
            }
            if not len(hours):
                context["chart"]["empty"] = "No metered hours in this period."
            context["csv_query"] = (
                f"site={site.pk}&start={led.start:%Y-%m-%dT%H:%M:%SZ}&end={led.end:%Y-%m-%dT%H:%M:%SZ}"
            )
    return render(request, "greenpower/green.html", context)


def _series(values) -> list[float | None]:
    return [None if v != v else round(float(v), 3) for v in values]
