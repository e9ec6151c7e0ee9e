"""Settlement API.

- ``/api/v1/market/performance/`` — the market operator's performance reports: the current settlement of each
  event of its own programs, per settlement interval (portfolio level; no site or owner figures).
- ``/api/v1/settlement/runs/`` — every settlement version with provenance (aggregator staff); ``settle/``
  (re-)settles an event now.
- ``/api/v1/settlement/sites/`` — per-site results of current settlements (staff: all; a site owner: its own
  sites); ``summary/`` sums them per event, site, program, month or owner.
- ``/api/v1/settlement/statements/`` — monthly owner statements: ``{YYYY-MM}/`` as JSON, ``csv/`` and ``page/``
  (printable HTML). Staff pass ``?owner=<id>``; another owner's statement is 404.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsMember
from apps.accounts.principal import PrincipalMixin, principal_for
from apps.accounts.selectors import site_owner_get_visible
from apps.core.api.schema import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from apps.core.errors import DomainError
from apps.markets.selectors import event_exists
from apps.settlement import selectors, services
from apps.settlement.choices import SummaryGroup

from .filters import PerformanceFilter, SettlementRunFilter, SiteSettlementFilter
from .serializers import (
    PerformanceReportSerializer,
    SettleInputSerializer,
    SettlementRunSerializer,
    SettleResultSerializer,
    SiteSettlementDetailSerializer,
    SiteSettlementSerializer,
    StatementMonthSerializer,
    StatementSerializer,
    SummaryRowSerializer,
)

MONTH = OpenApiParameter(
    "month", str, OpenApiParameter.PATH, description="statement month, YYYY-MM", pattern=r"^\d{4}-\d{2}$"
)
OWNER = OpenApiParameter(
    "owner", int, OpenApiParameter.QUERY, description="owner organisation id (required for aggregator staff)"
)


class OperatorReads(IsMember):
    """Market operators only, read-only."""

    message = "Only market operators read performance reports here."

    def has_permission(self, request, view) -> bool:
        return (
            super().has_permission(request, view)
            and request.method in permissions.SAFE_METHODS
            and principal_for(request.user).is_market_operator
        )


class AggregatorOnly(IsMember):
    """Aggregator members; writes need a writing role."""

    message = "Only the aggregator's staff may use this endpoint; viewers may only read."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        principal = principal_for(request.user)
        return principal.is_aggregator and (request.method in permissions.SAFE_METHODS or principal.can_write)


class AggregatorOrOwnerReads(IsMember):
    """Aggregator members and site owners, read-only (market operators see no site or owner money)."""

    message = "Settlement of sites is visible to the aggregator and the sites' owners only."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view) or request.method not in permissions.SAFE_METHODS:
            return False
        principal = principal_for(request.user)
        return principal.is_aggregator or principal.is_site_owner


@extend_schema_view(
    list=extend_schema(
        summary="Performance reports of my programs' events",
        responses={200: PerformanceReportSerializer(many=True), **PROBLEM_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One event's performance report",
        responses={200: PerformanceReportSerializer, **PROBLEM_RESPONSES},
    ),
)
class MarketPerformanceViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The current settlement of each event of the operator's programs (baseline, metered, delivered, awarded,
    performance factor and payments per settlement interval; regulation scores)."""

    serializer_class = PerformanceReportSerializer
    permission_classes = [OperatorReads]
    filterset_class = PerformanceFilter

    def get_queryset(self):
        return selectors.run_list(principal=self.principal).order_by("-event__start", "event_id")


@extend_schema_view(
    list=extend_schema(
        summary="Settlement versions",
        responses={200: SettlementRunSerializer(many=True), **PROBLEM_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One settlement version", responses={200: SettlementRunSerializer, **PROBLEM_RESPONSES}
    ),
)
class SettlementRunViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every settlement version, current and superseded, with its input fingerprint and provenance."""

    serializer_class = SettlementRunSerializer
    permission_classes = [AggregatorOnly]
    filterset_class = SettlementRunFilter

    def get_queryset(self):
        return selectors.run_list(principal=self.principal).order_by("-event__start", "event_id", "-version")

    @extend_schema(
        summary="Settle an event now",
        description="Idempotent: unchanged inputs return the current version (200, created false); changed "
        "inputs create a new version (201) and keep the old one as superseded.",
        request=SettleInputSerializer,
        responses={
            200: SettleResultSerializer,
            201: SettleResultSerializer,
            **PROBLEM_RESPONSES,
            **CONFLICT_RESPONSE,
        },
    )
    @action(detail=False, methods=["post"])
    def settle(self, request: Request) -> Response:
        data = SettleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not event_exists(event_id=data.validated_data["event"]):
            raise DomainError("no such event.", field="event")
        run, created = services.event_settle(
            event_id=data.validated_data["event"], reason="settled by staff", principal=self.principal
        )
        run = selectors.run_list(principal=self.principal).get(pk=run.pk)
        body = SettleResultSerializer({"created": created, "run": run}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(
        summary="Site settlements (current versions)",
        responses={200: SiteSettlementSerializer(many=True), **PROBLEM_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One site settlement with its intervals",
        responses={200: SiteSettlementDetailSerializer, **PROBLEM_RESPONSES},
    ),
)
class SiteSettlementViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Each site's result in the current settlement of an event: performance on its share of the award, revenue
    share, fee, payout, and cost and carbon savings."""

    permission_classes = [AggregatorOrOwnerReads]
    filterset_class = SiteSettlementFilter

    def get_queryset(self):
        qs = selectors.site_settlement_list(principal=self.principal).order_by(
            "-run__event__start", "site_id"
        )
        return qs.prefetch_related("intervals") if self.action == "retrieve" else qs

    def get_serializer_class(self):
        return SiteSettlementDetailSerializer if self.action == "retrieve" else SiteSettlementSerializer

    @extend_schema(
        summary="Sums per event, site, program, month or owner",
        parameters=[
            OpenApiParameter("group_by", str, enum=list(SummaryGroup.values), required=True),
            OpenApiParameter("month", str, description="only this month, YYYY-MM"),
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="events starting on or after this day (UTC)"
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="events starting before this day (UTC)"),
            OpenApiParameter("site", int, description="only this site"),
        ],
        responses={200: SummaryRowSerializer(many=True), **PROBLEM_RESPONSES},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def summary(self, request: Request) -> Response:
        group_by = request.query_params.get("group_by", "")
        if group_by not in SummaryGroup.values:
            raise DomainError(f"group_by must be one of {', '.join(SummaryGroup.values)}.", field="group_by")
        params = request.query_params
        month = _month(params["month"]) if params.get("month") else None
        start, end = (_day(params[name], name) if params.get(name) else None for name in ("start", "end"))
        site = params.get("site")
        if site is not None and not site.isdigit():
            raise DomainError("site must be a site id.", field="site")
        rows = selectors.settlement_summary(
            principal=self.principal,
            group_by=group_by,
            month=month,
            start=start,
            end=end,
            site_id=int(site) if site is not None else None,
        )
        return Response(SummaryRowSerializer(rows, many=True).data)


def _day(text: str, field: str) -> date:
    """``YYYY-MM-DD`` → a date.

    Raises:
        DomainError: not a date.
    """
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DomainError("expected a date YYYY-MM-DD.", field=field) from exc


def _month(text: str) -> date:
    """``YYYY-MM`` → the first day of that month.

    Raises:
        DomainError: not a month.
    """
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise DomainError("month must be YYYY-MM.", field="month") from exc


@extend_schema_view(
    list=extend_schema(
        summary="Statements I can read",
        responses={200: StatementMonthSerializer(many=True), **PROBLEM_RESPONSES},
    ),
)
class StatementViewSet(PrincipalMixin, viewsets.ViewSet):
    """Monthly owner statements: revenue share by event and site, the aggregator's fee, the payout, savings."""

    permission_classes = [AggregatorOrOwnerReads]
    lookup_field = "month"
    lookup_value_regex = r"\d{4}-\d{2}"

    def list(self, request: Request) -> Response:
        rows = [
            {"owner": o, "month": m.strftime("%Y-%m")}
            for o, m in selectors.statement_months(principal=self.principal)
        ]
        return Response(StatementMonthSerializer(rows, many=True).data)

    def _statement(self, request: Request, month: str) -> selectors.Statement:
        first_day = _month(month)
        owner_param = request.query_params.get("owner")
        if owner_param is None:
            if not self.principal.is_site_owner:
                raise DomainError("pass ?owner=<organisation id>.", field="owner")
            owner_id = self.principal.org.pk
        else:
            try:
                owner_id = int(owner_param)
            except ValueError as exc:
                raise Http404 from exc
        owner = site_owner_get_visible(principal=self.principal, organisation_id=owner_id)
        if owner is None:
            raise Http404
        return selectors.owner_statement(principal=self.principal, owner=owner, month=first_day)

    @extend_schema(
        summary="An owner's statement for a month",
        parameters=[MONTH, OWNER],
        responses={200: StatementSerializer, **PROBLEM_RESPONSES},
    )
    def retrieve(self, request: Request, month: str | None = None) -> Response:
        return Response(StatementSerializer(self._statement(request, str(month))).data)

    @extend_schema(
        summary="An owner's statement for a month as CSV",
        parameters=[MONTH, OWNER],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR), **PROBLEM_RESPONSES},
    )
    @action(detail=True, methods=["get"])
    def csv(self, request: Request, month: str | None = None) -> HttpResponse:
        statement = self._statement(request, str(month))
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
        filename = f"statement-{statement.owner.slug}-{statement.month_label}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @extend_schema(
        summary="An owner's statement for a month as a printable page",
        parameters=[MONTH, OWNER],
        responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR), **PROBLEM_RESPONSES},
    )
    @action(detail=True, methods=["get"])
    def page(self, request: Request, month: str | None = None) -> HttpResponse:
        statement = self._statement(request, str(month))
        html = render_to_string("settlement/statement.html", {"statement": statement}, request=request)
        return HttpResponse(html, content_type="text/html; charset=utf-8")


#: Columns of the statement CSV (money as the API shows it: decimal with two places).
CSV_COLUMNS = [
    "event_id",
    "run_version",
    "program",
    "event_start",
    "site",
    "currency",
    "delivered_kwh",
    "performance_factor",
    "revenue_share",
    "fee_pct",
    "fee",
    "owner_payout",
    "cost_saving",
    "emissions_saving_kg",
]


def _text_cell(value: str) -> str:
    """A text cell safe to open in a spreadsheet: a leading ``= + - @`` (or tab/CR) would start a formula
    (OWASP "CSV injection"), so such a value gets a leading apostrophe. Only names go through this; numbers don't."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def statement_csv(statement: selectors.Statement) -> str:
    """The statement as CSV: one row per line, then one ``TOTAL`` row per currency. Money is written exactly as
    the API shows it (two decimals); site and program names are guarded against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        writer.writerow(
            [
                line.event_id,
                line.run_version,
                _text_cell(line.program),
                line.event_start,
                _text_cell(line.site),
                line.currency,
                line.delivered_kwh,
                "" if line.performance_factor is None else line.performance_factor,
                line.revenue_share,
                line.fee_pct,
                line.fee,
                line.owner_payout,
                line.cost_saving,
                "" if line.emissions_saving_kg is None else line.emissions_saving_kg,
            ]
        )
    for total in statement.totals:
        writer.writerow(
            [
                "TOTAL",
                "",
                "",
                "",
                "",
                total.currency,
                total.delivered_kwh,
                "",
                total.revenue_share,
                "",
                total.fee,
                total.owner_payout,
                total.cost_saving,
                total.emissions_saving_kg,
            ]
        )
    return buffer.getvalue()
