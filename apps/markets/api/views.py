"""Markets API.

``/api/v1/market/…`` is the market operator's side: its programs, events (announce, cancel, close the gate,
read bids after gate closure, post awards and activations) and activations (end). ``/api/v1/events/`` and
``/api/v1/bids/`` are the aggregator's side: the events it can bid into and its own bids (submit a draft).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsMember
from apps.accounts.principal import PrincipalMixin, principal_for
from apps.core.api.exceptions import problem_response
from apps.core.api.schema import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from apps.core.api.strict import EmptyInputSerializer
from apps.core.errors import NotPermitted
from apps.markets import selectors, services
from apps.markets.models import Bid

from .filters import ActivationFilter, BidFilter, EventFilter, ProgramFilter
from .serializers import (
    ActivationEndInputSerializer,
    ActivationInputSerializer,
    ActivationSerializer,
    AwardInputSerializer,
    AwardSerializer,
    BidSerializer,
    EventAnnounceInputSerializer,
    EventSerializer,
    ProgramSerializer,
    ReasonInputSerializer,
)

_WRITE = {**PROBLEM_RESPONSES, **CONFLICT_RESPONSE}


class MarketOperatorAccess(IsMember):
    """Market operators only; writes need an admin or staff role."""

    message = "Only market operators may use the market-operator API; viewers may only read."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        principal = principal_for(request.user)
        return principal.is_market_operator and (
            request.method in permissions.SAFE_METHODS or principal.can_write
        )


@extend_schema_view(
    create=extend_schema(summary="Create a program", responses={201: ProgramSerializer, **_WRITE}),
    update=extend_schema(summary="Replace a program's rules", responses={200: ProgramSerializer, **_WRITE}),
    partial_update=extend_schema(
        summary="Change a program's rules", responses={200: ProgramSerializer, **_WRITE}
    ),
)
class MarketProgramViewSet(
    PrincipalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The operator's programs and their rules."""

    serializer_class = ProgramSerializer
    permission_classes = [MarketOperatorAccess]
    filterset_class = ProgramFilter

    def get_queryset(self):
        return selectors.program_list(principal=self.principal)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.program_create(
            principal=self.principal, data=serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.program_update(
            principal=self.principal, program=serializer.instance, data=serializer.validated_data
        )


class MarketEventViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The operator's events and their life cycle: announce → gate closed → awarded → active → completed."""

    serializer_class = EventSerializer
    permission_classes = [MarketOperatorAccess]
    filterset_class = EventFilter

    def get_queryset(self):
        return selectors.event_list(principal=self.principal)

    @extend_schema(
        summary="Announce an event",
        request=EventAnnounceInputSerializer,
        responses={201: EventSerializer, **_WRITE},
    )
    def create(self, request: Request) -> Response:
        payload = EventAnnounceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        program = selectors.program_list(principal=self.principal).filter(pk=data.pop("program")).first()
        if program is None:
            return _field_error("program", "no such program of yours.")
        event = services.event_announce(principal=self.principal, program=program, **data)
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel an event before it is active",
        request=ReasonInputSerializer,
        responses={200: EventSerializer, **_WRITE},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        payload = ReasonInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = services.event_cancel(
            principal=self.principal, event=self.get_object(), reason=payload.validated_data["reason"]
        )
        return Response(EventSerializer(event).data)

    @extend_schema(
        summary="Close the gate (at or after gate-closure time)",
        request=None,
        responses={200: EventSerializer, **_WRITE},
    )
    @action(detail=True, methods=["post"], url_path="close-gate")
    def close_gate(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        if event.program.operator_id != self.principal.org.pk:
            raise NotPermitted("This event belongs to another market operator.")
        return Response(EventSerializer(services.event_close_gate(event=event)).data)

    @extend_schema(
        summary="Bids made to the event (only after gate closure)",
        responses={200: BidSerializer(many=True), **_WRITE},
    )
    @action(detail=True, methods=["get"])
    def bids(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        if not services.event_gate_is_closed(event):
            return _conflict(
                "bids are sealed until gate closure at " + event.gate_closure_at.isoformat() + "."
            )
        bids = selectors.bid_list(principal=self.principal).filter(event=event)
        return Response(BidSerializer(bids, many=True).data)

    @extend_schema(
        summary="Award a bid (after gate closure, at most what was bid)",
        request=AwardInputSerializer,
        responses={201: AwardSerializer, **_WRITE},
    )
    @action(detail=True, methods=["post"])
    def awards(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        payload = AwardInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        bid = Bid.objects.filter(pk=data["bid"], event=event).first()
        if bid is None:
            return _field_error("bid", "no such bid for this event.")
        award = services.award_post(
            principal=self.principal,
            event=event,
            bid=bid,
            clearing_price_per_mwh=data["clearing_price_per_mwh"],
            intervals=[(i["start"], i["awarded_kw"]) for i in data["intervals"]],
        )
        return Response(AwardSerializer(award).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Activate an awarded event (activation_id is an idempotency key)",
        request=ActivationInputSerializer,
        responses={201: ActivationSerializer, **_WRITE},
    )
    @action(detail=True, methods=["post"])
    def activations(self, request: Request, pk: str | None = None) -> Response:
        payload = ActivationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        activation = services.activation_post(
            principal=self.principal, event=self.get_object(), **payload.validated_data
        )
        return Response(ActivationSerializer(activation).data, status=status.HTTP_201_CREATED)


class MarketActivationViewSet(
    PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The operator's activations."""

    serializer_class = ActivationSerializer
    permission_classes = [MarketOperatorAccess]
    filterset_class = ActivationFilter

    def get_queryset(self):
        return selectors.activation_list(principal=self.principal)

    @extend_schema(
        summary="End an activation",
        request=ActivationEndInputSerializer,
        responses={200: ActivationSerializer, **_WRITE},
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        payload = ActivationEndInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        activation = services.activation_end(
            principal=self.principal, activation=self.get_object(), end=payload.validated_data.get("end")
        )
        return Response(ActivationSerializer(activation).data)


class EventViewSet(PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Events of every program (public market information for members)."""

    serializer_class = EventSerializer
    permission_classes = [IsMember]
    filterset_class = EventFilter

    def get_queryset(self):
        return selectors.event_list(principal=self.principal)


class BidViewSet(PrincipalMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The aggregator's bids; a draft (built by the bidding cycle, reviewed by staff) is submitted here."""

    serializer_class = BidSerializer
    permission_classes = [IsMember]
    filterset_class = BidFilter

    def get_queryset(self):
        return selectors.bid_list(principal=self.principal)

    @extend_schema(
        summary="Submit a draft bid (before gate closure)",
        request=None,
        responses={200: BidSerializer, **_WRITE},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        bid = self.get_object()
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        if not (self.principal.is_aggregator and self.principal.can_write):
            raise NotPermitted("Only the aggregator's admins and staff may submit bids.")
        return Response(BidSerializer(services.bid_submit(bid=bid)).data)


def _conflict(reason: str) -> Response:
    return problem_response(409, [{"field": None, "reason": reason}], code="conflict")


def _field_error(field: str, reason: str) -> Response:
    return problem_response(400, [{"field": field, "reason": reason}])
