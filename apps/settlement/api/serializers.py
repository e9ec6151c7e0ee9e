"""Serializers of the settlement API. Money is a decimal string with two places (cents, ``ROUND_HALF_UP``)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.strict import StrictSerializer
from apps.settlement.models import RunInterval, SettlementRun, SiteInterval, SiteSettlement


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)


class RunIntervalSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunInterval
        fields = [
            "start",
            "end",
            "baseline_kw",
            "metered_kw",
            "delivered_kw",
            "awarded_kw",
            "called_kw",
            "price_per_mwh",
            "performance_factor",
            "capacity_payment",
            "energy_payment",
            "penalty",
        ]


class RegulationHourSerializer(serializers.Serializer):
    """One clock hour's PJM Manual 12 §4.5.6 performance score (components 0…1)."""

    start = serializers.DateTimeField(read_only=True)
    correlation = serializers.FloatField(read_only=True)
    delay = serializers.FloatField(read_only=True)
    precision = serializers.FloatField(read_only=True)
    composite = serializers.FloatField(read_only=True)
    delay_s = serializers.FloatField(read_only=True, help_text="delay of best correlation (s)")


class _RunFields(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="current | superseded")
    program = serializers.CharField(source="event.program.code", read_only=True)
    event_start = serializers.DateTimeField(source="event.start", read_only=True)
    event_end = serializers.DateTimeField(source="event.end", read_only=True)
    intervals = RunIntervalSerializer(many=True, read_only=True)
    regulation_hourly = RegulationHourSerializer(
        many=True,
        read_only=True,
        help_text="regulation events: the PJM Manual 12 score of each clock hour (empty otherwise)",
    )

    class Meta:
        model = SettlementRun
        fields = [
            "id",
            "event",
            "program",
            "event_start",
            "event_end",
            "version",
            "status",
            "settled_at",
            "currency",
            "baseline_method",
            "interval_minutes",
            "awarded_kwh",
            "called_kwh",
            "delivered_kwh",
            "performance_factor",
            "capacity_payment",
            "energy_payment",
            "penalty",
            "net_revenue",
            "regulation_correlation",
            "regulation_delay",
            "regulation_precision",
            "regulation_score",
            "regulation_hourly",
            "metering_complete",
            "intervals",
        ]


class PerformanceReportSerializer(_RunFields):
    """What the market operator reads: the aggregator's portfolio performance per settlement interval."""


class SettlementRunSerializer(_RunFields):
    """A settlement version with its provenance and fees (aggregator staff)."""

    class Meta(_RunFields.Meta):
        fields = [
            *_RunFields.Meta.fields,
            "fingerprint",
            "reason",
            "superseded_at",
            "aggregator_fees",
            "inputs",
        ]


class SettleInputSerializer(StrictSerializer):
    event = serializers.IntegerField(min_value=1, help_text="id of the event to (re-)settle")


class SettleResultSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="false when the inputs were unchanged (no new version)")
    run = SettlementRunSerializer()


class SiteIntervalSerializer(serializers.ModelSerializer):
    class Meta:
        model = SiteInterval
        fields = [
            "start",
            "end",
            "baseline_kw",
            "metered_kw",
            "delivered_kw",
            "awarded_kw",
            "called_kw",
            "performance_factor",
            "capacity_payment",
            "energy_payment",
            "penalty",
        ]


class SiteSettlementSerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="run.event_id", read_only=True)
    program = serializers.CharField(source="run.event.program.code", read_only=True)
    run_version = serializers.IntegerField(source="run.version", read_only=True)
    currency = serializers.CharField(source="run.currency", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    emissions_saving_kg = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = SiteSettlement
        fields = [
            "id",
            "event",
            "program",
            "run_version",
            "site",
            "site_name",
            "owner",
            "month",
            "currency",
            "awarded_kwh",
            "delivered_kwh",
            "performance_factor",
            "capacity_payment",
            "energy_payment",
            "penalty",
            "revenue_share",
            "fee_pct",
            "fee",
            "owner_payout",
            "metered_kwh",
            "baseline_kwh",
            "metered_cost",
            "baseline_cost",
            "cost_saving",
            "metered_emissions_kg",
            "baseline_emissions_kg",
            "emissions_saving_kg",
            "pv_kwh",
            "consumption_kwh",
            "low_carbon_kwh",
            "pv_share_pct",
            "low_carbon_share_pct",
        ]


class SiteSettlementDetailSerializer(SiteSettlementSerializer):
    intervals = SiteIntervalSerializer(many=True, read_only=True)

    class Meta(SiteSettlementSerializer.Meta):
        fields = [*SiteSettlementSerializer.Meta.fields, "baseline_detail", "intervals"]


class SummaryRowSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    key = serializers.CharField(help_text="event id, site id, program code, month (YYYY-MM-DD) or owner id")
    currency = serializers.CharField()
    sites = serializers.IntegerField(help_text="number of site settlements summed")
    delivered_kwh = serializers.FloatField()
    revenue_share = _money()
    fee = _money()
    owner_payout = _money()
    cost_saving = _money()
    emissions_saving_kg = serializers.FloatField(
        help_text="baseline − metered emissions over the event windows"
    )
    consumption_kwh = serializers.FloatField(help_text="grid import + PV over the event windows")
    pv_share_pct = serializers.FloatField(allow_null=True)
    low_carbon_share_pct = serializers.FloatField(allow_null=True)


class StatementLineSerializer(serializers.Serializer):
    event_id = serializers.IntegerField()
    run_version = serializers.IntegerField()
    program = serializers.CharField()
    event_start = serializers.CharField()
    site_id = serializers.IntegerField()
    site = serializers.CharField()
    currency = serializers.CharField()
    delivered_kwh = serializers.FloatField()
    performance_factor = serializers.FloatField(allow_null=True)
    revenue_share = _money()
    fee_pct = serializers.DecimalField(max_digits=5, decimal_places=2)
    fee = _money()
    owner_payout = _money()
    cost_saving = _money()
    emissions_saving_kg = serializers.FloatField(allow_null=True)


class StatementTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    delivered_kwh = serializers.FloatField()
    revenue_share = _money()
    fee = _money()
    owner_payout = _money()
    cost_saving = _money()
    emissions_saving_kg = serializers.FloatField()


class StatementSerializer(serializers.Serializer):
    owner = serializers.IntegerField(source="owner.pk")
    owner_name = serializers.CharField(source="owner.name")
    month = serializers.CharField(source="month_label")
    lines = StatementLineSerializer(many=True)
    totals = StatementTotalSerializer(many=True)


class StatementMonthSerializer(serializers.Serializer):
    owner = serializers.IntegerField()
    month = serializers.CharField(help_text="YYYY-MM")
