"""``/api/v1/sites/{id}/state/``: a site reports its live state (``POST``) and callers read the latest (``GET``,
``?at=`` for the latest at or before a time).

Reporting: the site owner's admins and staff, and the site's own VEN API client (aggregator staff read only);
another organisation's site is 404. The body is strict (unknown fields and date-times without an offset are
400s naming the field); every rule on the values is :func:`apps.telemetry.services.site_state_report`'s, so
REST and OpenADR reports are validated alike.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsMember
from apps.accounts.principal import PrincipalMixin
from apps.assets.models import Site
from apps.assets.selectors import site_get_visible
from apps.core.api.schema import PROBLEM_RESPONSES
from apps.core.api.strict import StrictSerializer
from apps.telemetry import selectors, services
from apps.telemetry.choices import StateSource
from apps.telemetry.selectors import LiveState


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class IdOrNameField(serializers.Field):
    """A workload class by id (integer) or by its name at the site (string)."""

    default_error_messages = {"invalid": "give the workload class's id (integer) or name (string)."}

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str) or data == "":
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class SiteStateBatteryInputSerializer(StrictSerializer):
    """A battery's state of charge: its id and ``soc_kwh`` (0 … its energy capacity, kWh)."""

    battery = serializers.IntegerField()
    soc_kwh = serializers.FloatField()


class QueuedWorkInputSerializer(StrictSerializer):
    """Deferred work still waiting: a deferrable workload class of the site, ``energy_kwh`` left (≥ 0),
    ``arrived_at`` and ``deadline`` (≥ arrival), with offsets; ``job_id`` optional."""

    workload_class = IdOrNameField()
    energy_kwh = serializers.FloatField()
    arrived_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    job_id = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class KnownJobInputSerializer(StrictSerializer):
    """A job the site knows of and has not finished: ``job_id`` (unique in the report), a workload class of the
    site, ``energy_kwh`` (≥ 0) or ``power_kw`` (≥ 0) with ``duration_h`` (> 0), ``submitted_at``,
    ``earliest_start`` (≥ submission; default the submission) and ``deadline`` (optional, ≥ earliest start
    + duration), with offsets."""

    job_id = serializers.CharField(max_length=200)
    workload_class = IdOrNameField()
    energy_kwh = serializers.FloatField(required=False)
    power_kw = serializers.FloatField(required=False)
    duration_h = serializers.FloatField(required=False)
    submitted_at = serializers.DateTimeField()
    earliest_start = serializers.DateTimeField(required=False)
    deadline = serializers.DateTimeField(required=False)


class SiteStateReportInputSerializer(StrictSerializer):
    """A state report: ``reported_at`` (the state's time, not in the future), ``it_load_kw`` (≥ 0), the
    batteries' state of charge and the queue of deferred work."""

    reported_at = serializers.DateTimeField()
    it_load_kw = serializers.FloatField()
    batteries = SiteStateBatteryInputSerializer(many=True, required=False, default=list)
    queue = QueuedWorkInputSerializer(many=True, required=False, default=list)
    known_jobs = KnownJobInputSerializer(many=True, required=False, default=list)


class SiteStateQueryInputSerializer(StrictSerializer):
    """Query of ``GET …/state/``: ``at`` (with offset): the latest state at or before it (default: latest)."""

    at = serializers.DateTimeField(required=False)


class QueueEntrySerializer(serializers.Serializer):
    workload_class = serializers.IntegerField(source="workload_class_id")
    workload_name = serializers.CharField()
    energy_kwh = serializers.FloatField()
    arrived_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    job_id = serializers.CharField()


class KnownJobSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    workload_class = serializers.IntegerField(source="workload_class_id")
    workload_name = serializers.CharField()
    energy_kwh = serializers.FloatField()
    power_kw = serializers.FloatField(allow_null=True)
    duration_h = serializers.FloatField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    earliest_start = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)


class BatteryStateSerializer(serializers.Serializer):
    battery = serializers.IntegerField()
    soc_kwh = serializers.FloatField()


class SiteStateSerializer(serializers.Serializer):
    """A stored state as read: site, time, source, IT load (kW), batteries' SoC (kWh), queue (EDF order),
    its total (kWh) and the known jobs (by earliest start)."""

    id = serializers.IntegerField(source="state_id")
    site = serializers.IntegerField(source="site_id")
    reported_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=StateSource.choices)  # type: ignore[assignment]
    it_load_kw = serializers.FloatField()
    batteries = BatteryStateSerializer(many=True)
    queue = QueueEntrySerializer(many=True)
    queued_kwh = serializers.FloatField()
    known_jobs = KnownJobSerializer(many=True)


def state_body(state: LiveState) -> dict[str, Any]:
    """The JSON body of a :class:`~apps.telemetry.selectors.LiveState` (:class:`SiteStateSerializer`)."""
    batteries = [{"battery": pk, "soc_kwh": soc} for pk, soc in sorted(state.battery_soc_kwh.items())]
    return dict(
        SiteStateSerializer(
            {
                "state_id": state.state_id,
                "site_id": state.site_id,
                "reported_at": state.reported_at,
                "source": state.source,
                "it_load_kw": state.it_load_kw,
                "batteries": batteries,
                "queue": state.queue,
                "queued_kwh": state.queued_kwh,
                "known_jobs": state.known_jobs,
            }
        ).data
    )


class SiteStateView(PrincipalMixin, APIView):
    """The live state of one site (see the module docstring)."""

    permission_classes = [IsMember]

    def _site(self, site_id: int) -> Site:
        site = site_get_visible(principal=self.principal, site_id=site_id)
        if site is None:
            raise NotFound("No such site.")
        return site

    @extend_schema(
        summary="The site's latest reported state (at or before ?at=)",
        parameters=[OpenApiParameter("at", OpenApiTypes.DATETIME, description="with offset; default: now")],
        responses={200: SiteStateSerializer, **PROBLEM_RESPONSES},
    )
    def get(self, request: Request, site_id: int) -> Response:
        site = self._site(site_id)
        query = SiteStateQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        state = selectors.site_state_latest(site=site, at=query.validated_data.get("at"))
        if state is None:
            raise NotFound("This site has reported no state (at or before that time).")
        return Response(state_body(state))

    @extend_schema(
        summary="Report the site's state: IT load, battery SoC, queued deferred work, known jobs (all or nothing)",
        request=SiteStateReportInputSerializer,
        responses={201: SiteStateSerializer, **PROBLEM_RESPONSES},
    )
    def post(self, request: Request, site_id: int) -> Response:
        site = self._site(site_id)
        services.site_state_require_reporter(principal=self.principal, site=site)  # before reading the body
        payload = SiteStateReportInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        stored = services.site_state_report(
            principal=self.principal, site=site, data=payload.validated_data, source=StateSource.REST
        )
        state = selectors.site_state_by_id(state_id=stored.pk)
        assert state is not None
        return Response(state_body(state), status=status.HTTP_201_CREATED)
