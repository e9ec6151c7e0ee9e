"""Serializers of the time-series API. Batches of data points are not validated here (row by row would be slow):
the ingestion service validates them vectorised; :class:`DataPointRowInputSerializer` documents the shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.principal import principal_for
from apps.assets import selectors as asset_selectors
from apps.assets.models import Battery, PVArray, Site
from apps.core.api.strict import StrictSerializer
from apps.core.selectors import market_zone_list
from apps.telemetry.choices import Aggregation, OwnerKind, Quantity
from apps.telemetry.models import TimeSeries
from apps.telemetry.validation import has_utc_offset


@extend_schema_field(OpenApiTypes.INT)
class _ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A site/asset reference that only resolves to objects the caller can see (others "do not exist")."""

    model: Any = None
    selector: Any = None

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:
            return self.model.objects.none()
        return type(self).selector(principal=principal_for(request.user))


class ScopedSiteField(_ScopedRelatedField):
    model = Site
    selector = staticmethod(asset_selectors.site_list)


class ScopedBatteryField(_ScopedRelatedField):
    model = Battery
    selector = staticmethod(asset_selectors.battery_list)


class ScopedPVArrayField(_ScopedRelatedField):
    model = PVArray
    selector = staticmethod(asset_selectors.pv_array_list)


class TimeSeriesSerializer(serializers.ModelSerializer):
    """A series as read: owner (one of site, battery, pv_array, market_zone; ``owner_key`` names it), quantity,
    unit, resolution and the aggregation rule used when resampling."""

    owner_kind = serializers.ChoiceField(choices=OwnerKind.choices, read_only=True)
    aggregation = serializers.ChoiceField(choices=Aggregation.choices, read_only=True)

    class Meta:
        model = TimeSeries
        fields = [
            "id",
            "owner_key",
            "owner_kind",
            "site",
            "battery",
            "pv_array",
            "market_zone",
            "quantity",
            "name",
            "unit",
            "resolution",
            "resolution_s",
            "aggregation",
            "source",
            "created_at",
        ]
        read_only_fields = fields


class TimeSeriesDetailSerializer(TimeSeriesSerializer):
    """A series with the extent of its data: first and last interval start and the number of points."""

    first_start = serializers.DateTimeField(read_only=True, allow_null=True)
    last_start = serializers.DateTimeField(read_only=True, allow_null=True)
    points = serializers.IntegerField(read_only=True)

    class Meta(TimeSeriesSerializer.Meta):
        fields = [*TimeSeriesSerializer.Meta.fields, "first_start", "last_start", "points"]
        read_only_fields = fields


class TimeSeriesCreateInputSerializer(StrictSerializer):
    """Body to create a series: exactly one owner (``site``, ``battery``, ``pv_array`` or ``market_zone``),
    the quantity, its resolution (ISO 8601 duration dividing a day, e.g. ``PT15M``), an optional name to tell
    apart several series of the same quantity, and the source (provenance)."""

    site = ScopedSiteField(required=False, allow_null=True)
    battery = ScopedBatteryField(required=False, allow_null=True)
    pv_array = ScopedPVArrayField(required=False, allow_null=True)
    market_zone = serializers.PrimaryKeyRelatedField(
        queryset=market_zone_list(), required=False, allow_null=True
    )
    quantity = serializers.ChoiceField(choices=Quantity.choices)
    resolution = serializers.CharField(max_length=16, help_text="ISO 8601 duration, e.g. PT5M, PT15M, PT1H.")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    source = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.source
        max_length=300, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        owners = [k for k in ("site", "battery", "pv_array", "market_zone") if attrs.get(k) is not None]
        if len(owners) != 1:
            raise serializers.ValidationError(
                "give exactly one owner: site, battery, pv_array or market_zone"
                + (f" (got {', '.join(owners)})." if owners else ".")
            )
        attrs["owner"] = attrs[owners[0]]
        return attrs


class DataPointRowInputSerializer(StrictSerializer):
    """One row of an ingestion batch: interval start (ISO 8601 *with* UTC offset, aligned to the series
    resolution) and the value in the series' unit. CSV bodies use the header ``start,value``."""

    start = serializers.DateTimeField(help_text="e.g. 2022-09-01T00:15:00Z")
    value = serializers.FloatField()


class IngestResultSerializer(serializers.Serializer):
    """Outcome of an accepted batch."""

    series = serializers.IntegerField()
    rows = serializers.IntegerField(help_text="rows received")
    created = serializers.IntegerField(help_text="new data points")
    updated = serializers.IntegerField(help_text="existing points whose value changed")
    unchanged = serializers.IntegerField(help_text="existing points sent again with the same value")
    first_start = serializers.DateTimeField(allow_null=True)
    last_start = serializers.DateTimeField(allow_null=True)


class DataQueryInputSerializer(serializers.Serializer):
    """Query of ``GET …/data/``: ``[start, end)`` with offsets and the wanted resolution (default: the series')."""

    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    resolution = serializers.CharField(required=False, max_length=16)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for key in ("start", "end"):
            raw = self.initial_data.get(key)
            if raw and not has_utc_offset(str(raw)):
                raise serializers.ValidationError(
                    {
                        key: f"'{raw}' has no UTC offset; use e.g. 2022-09-01T00:00:00Z ('+' must be sent as %2B)."
                    }
                )
        return attrs


class DataValueSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    value = serializers.FloatField()
    coverage = serializers.FloatField(help_text="share of the interval backed by stored points (0…1)")


class GapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class DataReadSerializer(serializers.Serializer):
    """Values of a series over ``[start, end)`` at ``resolution``; intervals without data are left out of
    ``data`` and reported in ``gaps`` (runs of missing native intervals)."""

    series = serializers.IntegerField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    aggregation = serializers.ChoiceField(choices=Aggregation.choices)
    resolution = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    data = DataValueSerializer(many=True)  # type: ignore[assignment]  # a declared field, not .data
    gaps = GapSerializer(many=True)
