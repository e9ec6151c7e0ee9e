"""Asset registry API: sites, workload classes, batteries, PV arrays and enrolment actions.

Querysets are scoped in ``get_queryset()`` (another owner's objects are 404); writes go through services.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import AssetsAccess
from apps.accounts.principal import PrincipalMixin
from apps.assets import selectors, services
from apps.assets.choices import EnrolmentAction
from apps.assets.models import Battery, PVArray
from apps.core.api.schema import CONFLICT_RESPONSE, PROBLEM_RESPONSES

from .filters import BatteryFilter, PVArrayFilter, SiteFilter, WorkloadClassFilter
from .serializers import (
    BatterySerializer,
    EnrolmentActionInputSerializer,
    EnrolmentTransitionSerializer,
    PVArraySerializer,
    SiteSerializer,
    WorkloadClassSerializer,
)

_WRITE_RESPONSES = {**PROBLEM_RESPONSES, **CONFLICT_RESPONSE}


def _crud_schema(serializer: type, noun: str) -> Any:
    return extend_schema_view(
        list=extend_schema(summary=f"List {noun}s visible to you"),
        retrieve=extend_schema(summary=f"One {noun}", responses={200: serializer, **PROBLEM_RESPONSES}),
        create=extend_schema(summary=f"Register a {noun}", responses={201: serializer, **_WRITE_RESPONSES}),
        update=extend_schema(summary=f"Replace a {noun}", responses={200: serializer, **_WRITE_RESPONSES}),
        partial_update=extend_schema(
            summary=f"Change a {noun}", responses={200: serializer, **_WRITE_RESPONSES}
        ),
        destroy=extend_schema(summary=f"Delete a {noun}", responses={204: None, **_WRITE_RESPONSES}),
    )


def _action_schema(action_name: str, who: str) -> Any:
    return extend_schema(
        summary=f"{action_name.capitalize()} the site's enrolment ({who})",
        request=EnrolmentActionInputSerializer,
        responses={200: SiteSerializer, **_WRITE_RESPONSES},
    )


class ScopedViewSet(PrincipalMixin, viewsets.ModelViewSet):
    permission_classes = [AssetsAccess]


@_crud_schema(SiteSerializer, "site")
class SiteViewSet(ScopedViewSet):
    """Datacenter sites. Owners register and edit drafts; staff approve; enrolment moves through actions."""

    serializer_class = SiteSerializer
    filterset_class = SiteFilter
    ordering_fields = ["name", "created_at", "it_capacity_kw"]

    def get_queryset(self):
        return selectors.site_list(principal=self.principal)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.site_create(principal=self.principal, data=serializer.validated_data)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.site_update(
            principal=self.principal, site=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        services.site_delete(principal=self.principal, site=instance)

    def _transition(self, request: Request, action_name: str) -> Response:
        site = self.get_object()
        payload = EnrolmentActionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        site = services.site_transition(
            principal=self.principal, site=site, action=action_name, reason=payload.validated_data["reason"]
        )
        return Response(SiteSerializer(site, context=self.get_serializer_context()).data)

    @_action_schema("submit", "owner")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, EnrolmentAction.SUBMIT)

    @_action_schema("approve", "aggregator")
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, EnrolmentAction.APPROVE)

    @_action_schema("reject", "aggregator; reason required")
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, EnrolmentAction.REJECT)

    @_action_schema("activate", "aggregator")
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, EnrolmentAction.ACTIVATE)

    @_action_schema("suspend", "aggregator; reason required")
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, EnrolmentAction.SUSPEND)

    @extend_schema(
        summary="Enrolment history of the site", responses={200: EnrolmentTransitionSerializer(many=True)}
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """The site's enrolment transitions, oldest first, paginated like every list (``limit``/``offset``)."""
        site = self.get_object()
        page = self.paginate_queryset(selectors.site_transition_list(site=site))
        return self.get_paginated_response(EnrolmentTransitionSerializer(page, many=True).data)


@_crud_schema(WorkloadClassSerializer, "workload class")
class WorkloadClassViewSet(ScopedViewSet):
    """Workload classes of a site and their flexibility (deferral, interruption, migration)."""

    serializer_class = WorkloadClassSerializer
    filterset_class = WorkloadClassFilter

    def get_queryset(self):
        return selectors.workload_class_list(principal=self.principal)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.workload_class_create(
            principal=self.principal, data=serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.workload_class_update(
            principal=self.principal, workload=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        services.site_asset_delete(principal=self.principal, asset=instance)


class _SiteAssetViewSet(ScopedViewSet):
    model: type[Battery] | type[PVArray]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.site_asset_create(
            principal=self.principal, model=self.model, data=serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.site_asset_update(
            principal=self.principal, asset=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        services.site_asset_delete(principal=self.principal, asset=instance)


@_crud_schema(BatterySerializer, "battery")
class BatteryViewSet(_SiteAssetViewSet):
    """Batteries (UPS / on-site storage) with their backup reserve."""

    model = Battery
    serializer_class = BatterySerializer
    filterset_class = BatteryFilter

    def get_queryset(self):
        return selectors.battery_list(principal=self.principal)


@_crud_schema(PVArraySerializer, "PV array")
class PVArrayViewSet(_SiteAssetViewSet):
    """Rooftop PV arrays."""

    model = PVArray
    serializer_class = PVArraySerializer
    filterset_class = PVArrayFilter

    def get_queryset(self):
        return selectors.pv_array_list(principal=self.principal)
