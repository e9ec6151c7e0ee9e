"""Serializers of the green-power API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.strict import StrictModelSerializer, StrictSerializer
from apps.forecasts.models import ComputePowerModel
from apps.greenpower.choices import ContractKind
from apps.greenpower.models import GreenContract, WorkUnitDefinition


class GreenContractSerializer(serializers.ModelSerializer):
    """A contract as its reader may see it: ``sites`` lists only the sites visible to the caller (context
    ``visible_site_ids``; a site-bound credential does not learn its organisation's other sites)."""

    sites = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_sites(self, obj: GreenContract) -> list[int]:
        ids = [s.pk for s in obj.sites.all()]
        visible = self.context.get("visible_site_ids")
        return ids if visible is None else [i for i in ids if i in visible]

    class Meta:
        model = GreenContract
        fields = [
            "id",
            "owner",
            "name",
            "kind",
            "zone",
            "price_per_mwh",
            "currency",
            "term_start",
            "term_end",
            "take_or_pay",
            "hourly_profile_kwh",
            "sites",
        ]
        read_only_fields = fields


class GreenContractInputSerializer(StrictSerializer):
    """A new contract. ``owner`` is required for aggregator staff and must be the caller's own for a site owner."""

    owner = serializers.IntegerField(required=False)
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=ContractKind.choices)
    zone = serializers.CharField(max_length=32)
    price_per_mwh = serializers.FloatField()
    term_start = serializers.DateField()
    term_end = serializers.DateField()
    take_or_pay = serializers.BooleanField(default=True)
    hourly_profile_kwh = serializers.ListField(
        child=serializers.FloatField(min_value=0), min_length=24, max_length=24
    )
    sites = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class WorkUnitSerializer(StrictModelSerializer):
    class Meta:
        model = WorkUnitDefinition
        fields = ["id", "site", "name", "full_rate_per_hour"]
        read_only_fields = ["id"]


class WorkDoneRowSerializer(StrictSerializer):
    start = serializers.CharField(help_text="hour start, ISO 8601 with offset")
    work_units = serializers.FloatField()


class WorkDoneResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()


class ComputeModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComputePowerModel
        fields = [
            "id",
            "site",
            "knots_utilization",
            "power_at_knots",
            "rated_it_kw",
            "mae",
            "rmse",
            "mape_pct",
            "r2",
            "n_train",
            "n_test",
            "source",
            "fitted_at",
            "updated_at",
        ]
        read_only_fields = fields


class ComputeModelFitInputSerializer(StrictSerializer):
    site = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    segments = serializers.IntegerField(default=4)


class ComputeCapSerializer(serializers.Serializer):
    setpoint_kw = serializers.FloatField()
    utilization_cap = serializers.FloatField(
        help_text="largest utilisation (0-1) whose IT power fits the setpoint"
    )
    it_kw_at_cap = serializers.FloatField()
    work_units_per_hour_cap = serializers.FloatField(allow_null=True)


class LedgerHourSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    import_kwh = serializers.FloatField()
    export_kwh = serializers.FloatField()
    pv_kwh = serializers.FloatField()
    facility_kwh = serializers.FloatField()
    it_kwh = serializers.FloatField(allow_null=True)
    contract_kwh = serializers.FloatField()
    matched_kwh = serializers.FloatField()
    grid_low_carbon_share = serializers.FloatField(allow_null=True)
    grid_low_carbon_kwh = serializers.FloatField()
    clean_kwh = serializers.FloatField()
    green_share = serializers.FloatField(allow_null=True)
    carbon_g_per_kwh = serializers.FloatField(allow_null=True)
    emissions_kg = serializers.FloatField(allow_null=True)
    work_units = serializers.FloatField()


class LedgerSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    work_unit = serializers.CharField(allow_null=True)
    summary = serializers.DictField()
    hours = LedgerHourSerializer(many=True)
