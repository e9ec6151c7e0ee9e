"""``GET /api/v1/audit/``: the staff audit log, read-only, for aggregator members only."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from apps.accounts.audit import audit_entries
from apps.accounts.models import AuditAction, AuditEntry
from apps.accounts.permissions import IsMember
from apps.accounts.principal import principal_for
from apps.core.api.filters import StrictFilterSet
from apps.core.api.schema import PROBLEM_RESPONSES

from .serializers import AuditEntrySerializer


class AuditEntryFilter(StrictFilterSet):
    """``?action=``, ``?object_type=``, ``?object_id=`` and a ``[since, until)`` window on ``created_at``."""

    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["action", "object_type", "object_id"]


@extend_schema_view(
    list=extend_schema(
        summary="Audit log of staff actions",
        responses={200: AuditEntrySerializer(many=True), **PROBLEM_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One audit entry", responses={200: AuditEntrySerializer, **PROBLEM_RESPONSES}
    ),
)
class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Who approved, rejected, activated or suspended a site, overrode a bid or (re-)settled an event, when and
    why. Aggregator members only; site owners and market operators get 403."""

    permission_classes = [IsMember]
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        return audit_entries(principal=principal_for(self.request.user))
