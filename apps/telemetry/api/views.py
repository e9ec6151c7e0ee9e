"""Time-series API: list and create series, read one, ingest batches and read data resampled.

Scoping is in ``get_queryset()`` (:func:`apps.telemetry.selectors.timeseries_list`): another organisation's
site series is 404. Ingestion is one action calling one service; a batch is all-or-nothing and a refusal is a
400 problem document naming each row (``rows[17].start``) and the reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsMember
from apps.accounts.principal import PrincipalMixin, principal_for
from apps.core.api.schema import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from apps.core.api.strict import refuse_unknown_row_fields
from apps.core.errors import DomainError, NotPermitted
from apps.telemetry import selectors, services
from apps.telemetry.durations import duration_iso, duration_seconds
from apps.telemetry.models import TimeSeries
from apps.telemetry.validation import batch_refused, parse_csv, parse_records

from .filters import TimeSeriesFilter
from .parsers import CSVParser, CSVText, IngestJSONParser
from .serializers import (
    DataPointRowInputSerializer,
    DataQueryInputSerializer,
    DataReadSerializer,
    IngestResultSerializer,
    TimeSeriesCreateInputSerializer,
    TimeSeriesDetailSerializer,
    TimeSeriesSerializer,
)

#: Largest batch accepted in one request; split bigger uploads (each batch is its own transaction).
MAX_ROWS_PER_REQUEST = 500_000
#: Largest number of intervals returned by one read.
MAX_INTERVALS_PER_READ = 100_000
DEFAULT_READ_WINDOW = timedelta(days=7)


class TelemetryAccess(IsMember):
    """Members read (scoped); market operators may not write time series."""

    message = "Market operators may read zone series but not write time series."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return not principal_for(request.user).is_market_operator


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.isoformat().replace("+00:00", "Z")


@extend_schema_view(
    list=extend_schema(summary="List time series visible to you"),
    retrieve=extend_schema(
        summary="One time series with the extent of its data",
        responses={200: TimeSeriesDetailSerializer, **PROBLEM_RESPONSES},
    ),
)
class TimeSeriesViewSet(
    PrincipalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Time series ("sensors") of sites, assets and market zones, and their data points."""

    permission_classes = [TelemetryAccess]
    serializer_class = TimeSeriesSerializer
    filterset_class = TimeSeriesFilter
    ordering_fields = ["id", "owner_key", "quantity", "name"]

    def get_queryset(self) -> Any:
        return selectors.timeseries_list(principal=self.principal)

    def _series(self, pk: str | None) -> TimeSeries:
        """The series by id within the caller's scope (404 otherwise), without applying list filters."""
        series = get_object_or_404(self.get_queryset(), pk=pk)
        self.check_object_permissions(self.request, series)
        return series

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        series = self._series(kwargs.get("pk"))
        first, last, count = selectors.timeseries_extent(series=series)
        data = TimeSeriesDetailSerializer(series).data
        data.update(
            {
                "first_start": _iso(pd.Timestamp(first)) if first else None,
                "last_start": _iso(pd.Timestamp(last)) if last else None,
                "points": count,
            }
        )
        return Response(data)

    @extend_schema(
        summary="Create a time series (site owners for their sites and assets; aggregator staff for zones)",
        request=TimeSeriesCreateInputSerializer,
        responses={201: TimeSeriesSerializer, **PROBLEM_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = TimeSeriesCreateInputSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        series = services.timeseries_create(
            principal=self.principal,
            owner=data["owner"],
            quantity=data["quantity"],
            resolution=data["resolution"],
            name=data["name"],
            source=data["source"],
        )
        return Response(TimeSeriesSerializer(series).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["POST"],
        summary="Ingest a batch of data points (JSON or CSV; all or nothing; upsert)",
        description=(
            'JSON: `[{"start": "2022-09-01T00:15:00Z", "value": 12.5}, ...]`; CSV (`Content-Type: text/csv`):'
            " header `start,value`. Every start needs a UTC offset and must be aligned to the series resolution; "
            "no start twice in a batch; values finite and within the quantity's physical range. A refusal names "
            f"each row (`rows[17].start`), lists at most the first 100 errors with the total, and writes nothing. "
            f"At most {MAX_ROWS_PER_REQUEST} rows per request."
        ),
        request={
            "application/json": DataPointRowInputSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
        },
        responses={200: IngestResultSerializer, **PROBLEM_RESPONSES, **CONFLICT_RESPONSE},
    )
    @extend_schema(
        methods=["GET"],
        summary="Read data points over [start, end), resampled with the quantity's rule, with gaps",
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATETIME, description="with offset; default: end − 7 days"
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATETIME, description="with offset; default: after the latest point"
            ),
            OpenApiParameter(
                "resolution",
                OpenApiTypes.STR,
                description="ISO 8601 duration; default: the series resolution",
            ),
        ],
        responses={200: DataReadSerializer, **PROBLEM_RESPONSES},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="data",
        url_name="data",
        parser_classes=[IngestJSONParser, CSVParser],
        filter_backends=[],
    )
    def data(self, request: Request, pk: str | None = None) -> Response:
        series = self._series(pk)
        if request.method == "POST":
            return self._ingest(request, series)
        return self._read(request, series)

    def _ingest(self, request: Request, series: TimeSeries) -> Response:
        if not services.series_writable_by(principal=self.principal, series=series):
            raise NotPermitted("You may read this series but not write to it.")  # before parsing the body
        body = request.data
        if isinstance(body, CSVText):
            raw = parse_csv(body)
        else:
            if isinstance(body, list) and len(body) > MAX_ROWS_PER_REQUEST:
                raise batch_refused(
                    f"a batch holds at most {MAX_ROWS_PER_REQUEST} rows ({len(body)} sent); split it."
                )
            refuse_unknown_row_fields(body, DataPointRowInputSerializer)
            raw = parse_records(body)
        if raw.n > MAX_ROWS_PER_REQUEST:
            raise batch_refused(
                f"a batch holds at most {MAX_ROWS_PER_REQUEST} rows ({raw.n} sent); split it."
            )
        result = services.datapoints_ingest(series=series, rows=raw, principal=self.principal)
        body_out = {
            "series": result.series_id,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "first_start": _iso(result.first_start) if result.first_start is not None else None,
            "last_start": _iso(result.last_start) if result.last_start is not None else None,
        }
        return Response(body_out, status=status.HTTP_200_OK)

    def _read(self, request: Request, series: TimeSeries) -> Response:
        query = DataQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        resolution_s = series.resolution_s
        if params.get("resolution"):
            try:
                resolution_s = duration_seconds(params["resolution"])
            except ValueError as exc:
                raise DomainError(str(exc), field="resolution") from exc
        end = params.get("end")
        start = params.get("start")
        if end is None:
            _, last, _ = selectors.timeseries_extent(series=series)
            end = last + timedelta(seconds=series.resolution_s) if last else timezone.now()
            if start is not None and end <= start:
                end = start + DEFAULT_READ_WINDOW
        if start is None:
            start = end - DEFAULT_READ_WINDOW
        if end <= start:
            raise DomainError("end must be after start.", field="end")
        intervals = (end - start).total_seconds() / resolution_s
        if intervals > MAX_INTERVALS_PER_READ:
            raise DomainError(
                f"{intervals:.0f} intervals requested; at most {MAX_INTERVALS_PER_READ} per read (narrow the range "
                "or choose a coarser resolution).",
                field="resolution",
            )
        try:
            result = selectors.timeseries_resampled(
                series=series, start=start, end=end, resolution_s=resolution_s
            )
        except ValueError as exc:
            raise DomainError(str(exc), field="resolution") from exc
        values = result.values.to_numpy()
        present = ~np.isnan(values)
        stamps = result.values.index[present].strftime("%Y-%m-%dT%H:%M:%SZ")
        data = [
            {"start": s, "value": v, "coverage": c}
            for s, v, c in zip(
                stamps, values[present].tolist(), result.coverage.to_numpy()[present].tolist(), strict=True
            )
        ]
        return Response(
            {
                "series": series.pk,
                "quantity": series.quantity,
                "unit": series.unit,
                "aggregation": result.aggregation,
                "resolution": duration_iso(result.resolution_s),
                "start": _iso(result.start),
                "end": _iso(result.end),
                "data": data,
                "gaps": [{"start": _iso(a), "end": _iso(b)} for a, b in result.gaps],
            }
        )
