"""Template helpers: the persona's navigation, status badges and unit formatting."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from apps.assets.choices import EnrolmentStatus

from ..access import principal_of

register = template.Library()

#: (URL name, label, URL names that mark it as the current page: dashboard names bare, other apps' namespaced)
NAV = {
    "aggregator": [
        ("dashboard:overview", "Overview", {"overview"}),
        ("dashboard:site_list", "Sites", {"site_list", "site_detail"}),
        ("dashboard:event_list", "Events", {"event_list", "event_detail"}),
        ("dashboard:revenue", "Revenue", {"revenue"}),
        ("dashboard:forecast_accuracy", "Forecasts", {"forecast_accuracy"}),
        ("greenpower:page", "Green power", {"greenpower:page"}),
    ],
    "site_owner": [
        (
            "dashboard:portal",
            "My sites",
            {"portal", "site_detail", "site_edit", "asset_create", "asset_edit"},
        ),
        ("dashboard:site_create", "Enrol a site", {"site_create"}),
        ("dashboard:event_list", "Events", {"event_list", "event_detail"}),
        ("dashboard:revenue", "Revenue", {"revenue"}),
        ("greenpower:page", "Green power", {"greenpower:page"}),
    ],
    "market_operator": [("dashboard:operator_home", "Home", {"operator_home"})],
}
ROLE_LABEL = {
    "aggregator": "Aggregator staff",
    "site_owner": "Site owner",
    "market_operator": "Market operator",
}


@register.inclusion_tag("dashboard/_nav.html", takes_context=True)
def nav(context: Any) -> dict[str, Any]:
    """Links for the caller's kind of organisation; the current page is marked."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"links": [], "user": None}
    principal = principal_of(request)
    match = getattr(request, "resolver_match", None)
    current = ""
    if match:  # dashboard pages by URL name, other apps' pages as "namespace:name"
        current = match.url_name if match.namespace == "dashboard" else f"{match.namespace}:{match.url_name}"
    links = [
        {"url": reverse(name), "label": label, "active": current in names}
        for name, label, names in NAV.get(principal.kind or "", [])
    ]
    return {
        "links": links,
        "user": user,
        "organisation": principal.organisation,
        "role_label": ROLE_LABEL.get(principal.kind or "", "No organisation"),
        "show_admin": bool(getattr(user, "is_staff", False)),
        "request": request,
    }


@register.simple_tag
def status_badge(status: str) -> str:
    """A coloured badge for an enrolment status."""
    try:
        label = EnrolmentStatus(status).label
    except ValueError:
        label = status
    return format_html('<span class="badge badge-{}">{}</span>', status, label)


@register.filter
def mw(kw: float | None, digits: int = 1) -> str:
    """kW → ``"12.3 MW"``."""
    if kw is None:
        return "—"
    return f"{float(kw) / 1000:,.{digits}f} MW"


@register.filter
def mwh(kwh: float | None, digits: int = 1) -> str:
    """kWh → ``"12.3 MWh"``."""
    if kwh is None:
        return "—"
    return f"{float(kwh) / 1000:,.{digits}f} MWh"


@register.filter
def num(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators, ``—`` when missing."""
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}"


@register.filter
def money(value: float | None, digits: int = 2) -> str:
    """An amount of money with thousands separators and cents (``—`` when missing); the currency is shown
    next to it by the template."""
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}"


@register.filter
def pct(value: float | None, digits: int = 1) -> str:
    """A fraction (0…1) as a percentage, ``—`` when missing."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f} %"


@register.simple_tag
def delivery_badge(status: str) -> str:
    """A coloured badge for a setpoint delivery status (pending, delivered, acknowledged, failed)."""
    return format_html('<span class="badge badge-delivery-{}">{}</span>', status, status.capitalize() or "—")


@register.filter
def get_item(mapping: dict, key: str) -> Any:
    """``mapping[key]`` in a template (``None`` when absent)."""
    return mapping.get(key)


@register.filter
def pct_of(pct: float | None, whole: float | None) -> float | None:
    """``pct`` percent of ``whole`` (e.g. a workload's share of the IT capacity in kW)."""
    if pct is None or whole is None:
        return None
    return float(pct) * float(whole) / 100.0


@register.filter
def peak(values: Any) -> float | None:
    """The largest of a sequence of numbers (``None`` when empty), e.g. the 24-h peak of an hourly series."""
    numbers = [float(v) for v in values or () if v is not None]
    return max(numbers) if numbers else None


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A value already in percent (e.g. ``19.86``) as ``"19.9 %"``, ``—`` when missing."""
    if value is None:
        return "—"
    return f"{float(value):.{digits}f} %"


@register.filter
def baseline_label(method: str | None) -> str:
    """A stored baseline-method code (``"10_of_10"``) as its label; an unknown code is shown as it is."""
    from apps.markets.choices import BaselineMethod

    if not method:
        return "—"
    return str(BaselineMethod(method).label) if method in BaselineMethod.values else method
