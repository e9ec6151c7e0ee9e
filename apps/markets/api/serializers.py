"""Serializers of the markets API (market-operator side and aggregator side)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.strict import StrictModelSerializer, StrictSerializer
from apps.markets.models import Activation, Award, AwardInterval, Bid, BidInterval, Event, Program


class ProgramSerializer(StrictModelSerializer):
    operator: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    currency = serializers.CharField(read_only=True)

    class Meta:
        model = Program
        fields = [
            "id",
            "operator",
            "zone",
            "code",
            "name",
            "product",
            "min_bid_kw",
            "bid_granularity_kw",
            "notice_minutes",
            "response_time_seconds",
            "min_duration_minutes",
            "max_duration_minutes",
            "gate_closure_lead_minutes",
            "settlement_interval_minutes",
            "pricing_mode",
            "capacity_price_per_mw_h",
            "energy_price_per_mwh",
            "price_cap_per_mwh",
            "baseline_method",
            "performance_cap",
            "penalty_threshold",
            "shortfall_penalty_per_mwh",
            "rule_source",
            "is_active",
            "currency",
        ]

    def validate(self, attrs: dict) -> dict:
        lo = attrs.get("min_duration_minutes", getattr(self.instance, "min_duration_minutes", 15))
        hi = attrs.get("max_duration_minutes", getattr(self.instance, "max_duration_minutes", 240))
        if lo > hi:
            raise serializers.ValidationError({"max_duration_minutes": "must be ≥ min_duration_minutes."})
        return attrs


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = [
            "id",
            "program",
            "start",
            "end",
            "requested_kw",
            "gate_closure_at",
            "status",
            "announced_at",
            "reference_price_per_mwh",
            "cancel_reason",
        ]
        read_only_fields = ["gate_closure_at", "status", "announced_at", "cancel_reason"]


class EventAnnounceInputSerializer(StrictSerializer):
    program = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    requested_kw = serializers.FloatField(min_value=0)
    reference_price_per_mwh = serializers.FloatField(required=False, allow_null=True)


class ReasonInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class BidIntervalSerializer(serializers.ModelSerializer):
    class Meta:
        model = BidInterval
        fields = ["start", "end", "quantity_kw", "price_per_mwh"]


class BidSerializer(serializers.ModelSerializer):
    bidder: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    intervals = BidIntervalSerializer(many=True, read_only=True)

    class Meta:
        model = Bid
        fields = ["id", "event", "bidder", "status", "submitted_at", "method", "overridden_by", "intervals"]


class AwardIntervalInputSerializer(StrictSerializer):
    start = serializers.DateTimeField()
    awarded_kw = serializers.FloatField(min_value=0)


class AwardInputSerializer(StrictSerializer):
    bid = serializers.IntegerField()
    clearing_price_per_mwh = serializers.FloatField()
    intervals = AwardIntervalInputSerializer(many=True, allow_empty=False)


class AwardIntervalSerializer(serializers.ModelSerializer):
    class Meta:
        model = AwardInterval
        fields = ["start", "end", "awarded_kw"]


class AwardSerializer(serializers.ModelSerializer):
    intervals = AwardIntervalSerializer(many=True, read_only=True)

    class Meta:
        model = Award
        fields = ["id", "bid", "clearing_price_per_mwh", "intervals", "created_at"]


class ActivationInputSerializer(StrictSerializer):
    activation_id = serializers.CharField(max_length=100)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True)
    kw = serializers.FloatField(required=False, allow_null=True, min_value=0)
    signal = serializers.ListField(
        child=serializers.FloatField(), required=False, allow_null=True, max_length=100_000
    )
    signal_resolution_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class ActivationEndInputSerializer(StrictSerializer):
    end = serializers.DateTimeField(required=False, allow_null=True)


class ActivationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Activation
        fields = ["id", "event", "activation_id", "start", "end", "kw", "signal_resolution_seconds", "status"]
