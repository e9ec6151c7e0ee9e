"""Green-power API under ``/api/v1/green/``: contracts, work units and work done, compute-power models (fit, compute
cap for a kW setpoint) and each site's hourly green ledger with KPIs (JSON and CSV).

Aggregator staff see everything; a site owner sees its own organisation's contracts and its own sites; market
operators have no access (403). Another owner's objects are 404.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.http import Http404, HttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsMember
from apps.accounts.principal import Principal, PrincipalMixin, principal_for
from apps.assets.models import Site
from apps.assets.selectors import site_get_visible, site_ids_visible
from apps.core.api.schema import PROBLEM_RESPONSES
from apps.core.api.strict import refuse_unknown_row_fields
from apps.core.errors import DomainError
from apps.greenpower import selectors, services

from .filters import GreenContractFilter, WorkUnitFilter
from .serializers import (
    ComputeCapSerializer,
    ComputeModelFitInputSerializer,
    ComputeModelSerializer,
    GreenContractInputSerializer,
    GreenContractSerializer,
    LedgerSerializer,
    WorkDoneResultSerializer,
    WorkDoneRowSerializer,
    WorkUnitSerializer,
)

MAX_LEDGER_DAYS = 366


class GreenAccess(IsMember):
    """Aggregator members and site owners; writes need a writing role. Market operators see no site data."""

    message = "Green-power data is visible to the aggregator and the sites' owners; viewers may only read."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        principal = principal_for(request.user)
        if not (principal.is_aggregator or principal.is_site_owner):
            return False
        return request.method in permissions.SAFE_METHODS or principal.can_write


def _visible_site(principal: Principal, raw: Any, field: str = "site") -> Site:
    """A site the caller sees, from a request value.

    Raises:
        DomainError: not an id; Http404: unknown or invisible.
    """
    try:
        pk = int(raw)
    except (TypeError, ValueError) as exc:
        raise DomainError("expected a site id.", field=field) from exc
    site = site_get_visible(principal=principal, site_id=pk)
    if site is None:
        raise Http404
    return site


@extend_schema_view(
    list=extend_schema(
        summary="Green contracts", responses={200: GreenContractSerializer(many=True), **PROBLEM_RESPONSES}
    ),
    retrieve=extend_schema(
        summary="One green contract", responses={200: GreenContractSerializer, **PROBLEM_RESPONSES}
    ),
    destroy=extend_schema(summary="Delete a green contract", responses={204: None, **PROBLEM_RESPONSES}),
)
class GreenContractViewSet(
    PrincipalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """PPAs and green certificates: zone, term, price, hourly volume profile, the sites that may match them."""

    serializer_class = GreenContractSerializer
    permission_classes = [GreenAccess]
    filterset_class = GreenContractFilter

    def get_queryset(self):
        return selectors.contract_list(principal=self.principal)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "visible_site_ids": self._visible_site_ids()}

    def _visible_site_ids(self) -> set[int] | None:
        if self.principal.is_aggregator:
            return None
        return site_ids_visible(principal=self.principal)

    @extend_schema(
        summary="Register a green contract",
        request=GreenContractInputSerializer,
        responses={201: GreenContractSerializer, **PROBLEM_RESPONSES},
    )
    def create(self, request: Request) -> Response:
        data = GreenContractInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        contract = services.green_contract_create(
            principal=self.principal,
            name=v["name"],
            kind=v["kind"],
            zone=v["zone"],
            price_per_mwh=v["price_per_mwh"],
            term_start=v["term_start"],
            term_end=v["term_end"],
            hourly_profile_kwh=v["hourly_profile_kwh"],
            take_or_pay=v["take_or_pay"],
            site_ids=v["sites"],
            owner_id=v.get("owner"),
        )
        return Response(
            GreenContractSerializer(contract, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance) -> None:
        services.green_contract_delete(principal=self.principal, contract=instance)


@extend_schema_view(
    list=extend_schema(
        summary="Work units per site", responses={200: WorkUnitSerializer(many=True), **PROBLEM_RESPONSES}
    ),
    retrieve=extend_schema(
        summary="One site's work unit", responses={200: WorkUnitSerializer, **PROBLEM_RESPONSES}
    ),
)
class WorkUnitViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """What each site counts as work (GPU-hours, tokens, jobs …) and the work it did per hour."""

    serializer_class = WorkUnitSerializer
    permission_classes = [GreenAccess]
    filterset_class = WorkUnitFilter

    def get_queryset(self):
        return selectors.work_unit_list(principal=self.principal)

    @extend_schema(
        summary="Define (or replace) a site's work unit",
        request=WorkUnitSerializer,
        responses={201: WorkUnitSerializer, **PROBLEM_RESPONSES},
    )
    def create(self, request: Request) -> Response:
        data = WorkUnitSerializer(data=request.data)
        raw_site = request.data.get("site") if isinstance(request.data, dict) else None
        site = _visible_site(self.principal, raw_site)
        data.is_valid(raise_exception=True)
        definition = services.work_unit_define(
            principal=self.principal,
            site=site,
            name=data.validated_data["name"],
            full_rate_per_hour=data.validated_data.get("full_rate_per_hour"),
        )
        return Response(WorkUnitSerializer(definition).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Report work done per hour (all or nothing)",
        request=WorkDoneRowSerializer(many=True),
        responses={200: WorkDoneResultSerializer, **PROBLEM_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def data(self, request: Request, pk: str | None = None) -> Response:
        rows = request.data if isinstance(request.data, list) else None
        if rows is None:
            raise DomainError("expected a JSON list of {start, work_units}.", field="rows")
        refuse_unknown_row_fields(rows, WorkDoneRowSerializer)
        count = services.work_done_ingest(principal=self.principal, definition=self.get_object(), rows=rows)
        return Response({"rows": count})


@extend_schema_view(
    list=extend_schema(
        summary="Compute-power models",
        responses={200: ComputeModelSerializer(many=True), **PROBLEM_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One site's compute-power model", responses={200: ComputeModelSerializer, **PROBLEM_RESPONSES}
    ),
)
class ComputeModelViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Each site's fitted utilisation → IT power model (monotone piecewise linear) with its held-out error."""

    serializer_class = ComputeModelSerializer
    permission_classes = [GreenAccess]

    def get_queryset(self):
        return selectors.compute_model_list(principal=self.principal)

    @extend_schema(
        summary="Fit a site's model on its utilisation and IT power telemetry",
        request=ComputeModelFitInputSerializer,
        responses={201: ComputeModelSerializer, **PROBLEM_RESPONSES},
    )
    @action(detail=False, methods=["post"])
    def fit(self, request: Request) -> Response:
        data = ComputeModelFitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        site = _visible_site(self.principal, v["site"])
        model = services.compute_model_fit(
            principal=self.principal, site=site, start=v["start"], end=v["end"], segments=v["segments"]
        )
        return Response(ComputeModelSerializer(model).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Compute cap for a kW setpoint",
        parameters=[
            OpenApiParameter("setpoint_kw", float, required=True, description="IT power setpoint, kW")
        ],
        responses={200: ComputeCapSerializer, **PROBLEM_RESPONSES},
    )
    @action(detail=True, methods=["get"])
    def cap(self, request: Request, pk: str | None = None) -> Response:
        stored = self.get_object()
        try:
            setpoint = float(request.query_params.get("setpoint_kw", ""))
        except ValueError as exc:
            raise DomainError("expected a number of kW.", field="setpoint_kw") from exc
        if not math.isfinite(setpoint) or setpoint < 0:
            raise DomainError("must be a finite number >= 0.", field="setpoint_kw")
        model = selectors.compute_model_of(stored)
        cap = float(model.cap_for_kw(setpoint, rated_kw=stored.rated_it_kw))
        unit = selectors.work_unit_of_site(site_id=stored.site_id)
        rate = unit.full_rate_per_hour if unit is not None else None
        body = {
            "setpoint_kw": setpoint,
            "utilization_cap": cap,
            "it_kw_at_cap": float(model.predict_kw(np.float64(cap), rated_kw=stored.rated_it_kw)),
            "work_units_per_hour_cap": None if rate is None else cap * rate,
        }
        return Response(ComputeCapSerializer(body).data)


def _moment(text: str, field: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 time with offset → aware datetime.

    Raises:
        DomainError: anything else.
    """
    try:
        day = parse_date(text)
        moment = None if day is not None else parse_datetime(text)
    except ValueError as exc:
        raise DomainError("expected YYYY-MM-DD or an ISO 8601 time with offset.", field=field) from exc
    if day is not None:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment is None:
        raise DomainError("expected YYYY-MM-DD or an ISO 8601 time with offset.", field=field)
    if moment.tzinfo is None:
        raise DomainError("the time needs a UTC offset.", field=field)
    return moment


LEDGER_PARAMS = [
    OpenApiParameter("site", int, required=True),
    OpenApiParameter("start", str, description="YYYY-MM-DD or ISO time (default: 7 days before end)"),
    OpenApiParameter(
        "end", str, description="YYYY-MM-DD or ISO time, exclusive (default: end of the meter data)"
    ),
]


class LedgerViewSet(PrincipalMixin, viewsets.ViewSet):
    """A site's hourly green ledger (PV, matched contracts, the grid's low-carbon share; hourly 24/7 share and
    annual matching) and compute KPIs (work per kWh and per kg CO2, measured PUE)."""

    permission_classes = [GreenAccess]

    def _ledger(self, request: Request) -> selectors.GreenLedger:
        params = request.query_params
        if "site" not in params:
            raise DomainError("pass ?site=<site id>.", field="site")
        site = _visible_site(self.principal, params["site"])
        end = _moment(params["end"], "end") if params.get("end") else selectors.site_data_end(site=site)
        if end is None:
            end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = _moment(params["start"], "start") if params.get("start") else end - timedelta(days=7)
        if end <= start:
            raise DomainError("end must be after start.", field="end")
        if end - start > timedelta(days=MAX_LEDGER_DAYS):
            raise DomainError(f"at most {MAX_LEDGER_DAYS} days per request.", field="end")
        return selectors.site_green_ledger(site=site, start=start, end=end)

    @extend_schema(
        summary="A site's hourly green ledger and KPIs",
        parameters=LEDGER_PARAMS,
        responses={200: LedgerSerializer, **PROBLEM_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        led = self._ledger(request)
        return Response(ledger_json(led))

    @extend_schema(
        summary="A site's hourly green ledger as CSV",
        parameters=LEDGER_PARAMS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR), **PROBLEM_RESPONSES},
    )
    @action(detail=False, methods=["get"])
    def csv(self, request: Request) -> HttpResponse:
        led = self._ledger(request)
        response = HttpResponse(ledger_csv(led), content_type="text/csv; charset=utf-8")
        name = f"green-ledger-site{led.site.pk}-{led.start:%Y%m%d}-{led.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def ledger_json(led: selectors.GreenLedger) -> dict[str, Any]:
    """The ledger as the API's JSON body (NaN → null)."""
    hours = [
        {"start": t.isoformat().replace("+00:00", "Z"), **{k: _clean(v) for k, v in row.items()}}
        for t, row in zip(led.hours.index, led.hours.to_dict("records"), strict=True)
    ]
    return {
        "site": led.site.pk,
        "start": led.start.isoformat().replace("+00:00", "Z"),
        "end": led.end.isoformat().replace("+00:00", "Z"),
        "work_unit": led.work_unit,
        "summary": {k: _clean(v) for k, v in led.summary.items()},
        "hours": hours,
    }


def ledger_csv(led: selectors.GreenLedger) -> str:
    """One row per hour: ``start_utc`` then :data:`selectors.LEDGER_COLUMNS` (empty cell = no data)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["start_utc", *selectors.LEDGER_COLUMNS])
    for t, row in zip(led.hours.index, led.hours.itertuples(index=False), strict=True):
        cells = [
            "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.6g}" for v in row
        ]
        writer.writerow([t.strftime("%Y-%m-%dT%H:%M:%SZ"), *cells])
    return buffer.getvalue()
