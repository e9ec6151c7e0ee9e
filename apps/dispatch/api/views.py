"""Dispatch API: deliveries of setpoints (read and acknowledge), plans (staff) and webhook registration."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsMember
from apps.accounts.principal import PrincipalMixin
from apps.assets.selectors import site_list
from apps.core.api.exceptions import problem_response
from apps.core.api.schema import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from apps.core.api.strict import EmptyInputSerializer
from apps.dispatch import selectors, services

from .filters import DeliveryFilter, PlanFilter
from .serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    PlanSerializer,
    WebhookRegisteredSerializer,
    WebhookRegisterInputSerializer,
    WebhookSerializer,
)


class _Scoped(PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsMember]


class DeliveryViewSet(_Scoped):
    """Setpoints delivered (or to deliver) to sites; a site reads its own and acknowledges them."""

    filterset_class = DeliveryFilter

    def get_queryset(self):
        return selectors.delivery_list(principal=self.principal)

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    @extend_schema(
        summary="Acknowledge the setpoints",
        request=None,
        responses={200: DeliverySerializer, **PROBLEM_RESPONSES, **CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        delivery = self.get_object()
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        delivery = services.delivery_acknowledge(principal=self.principal, delivery=delivery)
        return Response(DeliverySerializer(delivery).data)


class PlanViewSet(_Scoped):
    """Versioned dispatch plans (aggregator staff)."""

    serializer_class = PlanSerializer
    filterset_class = PlanFilter

    def get_queryset(self):
        return selectors.plan_list(principal=self.principal)


class WebhookViewSet(_Scoped):
    """Webhook endpoints of sites; registering one returns its signing secret once."""

    serializer_class = WebhookSerializer

    def get_queryset(self):
        return selectors.webhook_list(principal=self.principal)

    @extend_schema(
        summary="Register (or replace) a site's webhook URL",
        request=WebhookRegisterInputSerializer,
        responses={201: WebhookRegisteredSerializer, **PROBLEM_RESPONSES},
    )
    def create(self, request: Request) -> Response:
        payload = WebhookRegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        site = site_list(principal=self.principal).filter(pk=payload.validated_data["site"]).first()
        if site is None:
            return problem_response(400, [{"field": "site", "reason": "no such site of yours."}])
        endpoint, secret = services.webhook_endpoint_register(
            principal=self.principal, site=site, url=payload.validated_data["url"]
        )
        body = {**WebhookSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)
