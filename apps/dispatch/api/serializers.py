from __future__ import annotations

from rest_framework import serializers

from apps.core.api.strict import StrictSerializer
from apps.dispatch.models import Delivery, DispatchPlan, WebhookEndpoint


class DeliverySerializer(serializers.ModelSerializer):
    plan_version = serializers.IntegerField(source="plan.version", read_only=True)
    activation_id = serializers.CharField(
        source="plan.activation.activation_id", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "plan",
            "plan_version",
            "activation_id",
            "site",
            "channel",
            "status",
            "attempts",
            "last_error",
            "delivered_at",
            "acknowledged_at",
        ]


class SetpointOutSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    baseline_kw = serializers.FloatField()
    target_kw = serializers.FloatField()
    import_cap_kw = serializers.FloatField(allow_null=True)
    battery_kw = serializers.FloatField()
    workloads = serializers.DictField()


class DeliveryDetailSerializer(DeliverySerializer):
    setpoints = serializers.SerializerMethodField()
    idempotency_key = serializers.CharField(read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "idempotency_key", "setpoints"]

    def get_setpoints(self, obj: Delivery) -> list[dict]:
        rows = obj.plan.setpoints.filter(site=obj.site).order_by("start")
        return serializers.ListSerializer(
            [
                {
                    "start": s.start,
                    "end": s.end,
                    "baseline_kw": s.baseline_kw,
                    "target_kw": s.target_kw,
                    "import_cap_kw": s.import_cap_kw,
                    "battery_kw": s.battery_kw,
                    "workloads": s.workloads,
                }
                for s in rows
            ],
            child=SetpointOutSerializer(),
        ).data


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = DispatchPlan
        fields = [
            "id",
            "activation",
            "version",
            "status",
            "reason",
            "requested_kw",
            "planned_kw",
            "valid_from",
            "objective",
            "build_seconds",
            "solve_seconds",
            "created_at",
        ]


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "site", "url", "is_active", "created_at"]


class WebhookRegisterInputSerializer(StrictSerializer):
    site = serializers.IntegerField()
    url = serializers.URLField(max_length=500)


class WebhookRegisteredSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="HMAC-SHA256 signing secret, shown once.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
