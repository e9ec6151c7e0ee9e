"""Serializers of the asset registry. Field validators come from the models; cross-field physics from
:mod:`apps.assets.validators`, so the API and the admin refuse the same things."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.accounts.principal import principal_for
from apps.assets import selectors
from apps.assets.choices import EnrolmentAction
from apps.assets.fields import BATTERY_FIELDS, PV_ARRAY_FIELDS, SITE_FIELDS, WORKLOAD_CLASS_FIELDS
from apps.assets.models import Battery, EnrolmentTransition, PVArray, Site, WorkloadClass
from apps.assets.validators import battery_errors, pv_array_errors, workload_class_errors
from apps.core.api.strict import StrictModelSerializer, StrictSerializer


class ScopedSitePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A site reference that only resolves to sites the caller can see (others read as "does not exist")."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Site.objects.none()
        return selectors.site_list(principal=principal_for(request.user))


def _merged(serializer: serializers.ModelSerializer, attrs: dict[str, Any]) -> dict[str, Any]:
    """The object's plain field values after this request: the instance's current values overlaid with ``attrs``
    (so a partial update is checked against the fields it leaves unchanged)."""
    if serializer.instance is None:
        return dict(attrs)
    skip = {"id", "site", "migratable_to", "is_deferrable"}
    current = {f: getattr(serializer.instance, f) for f in serializer.Meta.fields if f not in skip}
    return {**current, **attrs}


class SiteSerializer(StrictModelSerializer):
    owner: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "owner",
            *SITE_FIELDS,
            "enrolment_status",
            "status_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["enrolment_status", "status_reason", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        name = attrs.get("name")
        if request is not None and name is not None:
            principal = principal_for(request.user)
            clash = Site.objects.filter(owner=principal.organisation, name=name)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError({"name": f"You already have a site named '{name}'."})
        return attrs


class WorkloadClassSerializer(StrictModelSerializer):
    site = ScopedSitePrimaryKeyField()
    migratable_to = ScopedSitePrimaryKeyField(many=True, required=False)

    class Meta:
        model = WorkloadClass
        fields = [
            "id",
            "site",
            *WORKLOAD_CLASS_FIELDS,
            "is_deferrable",
        ]
        read_only_fields = ["is_deferrable"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = _merged(self, attrs)
        if self.instance is not None and "migratable_to" not in attrs:
            merged["migratable_to"] = list(self.instance.migratable_to.all())
        errors = workload_class_errors(merged)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class BatterySerializer(StrictModelSerializer):
    site = ScopedSitePrimaryKeyField()

    class Meta:
        model = Battery
        fields = ["id", "site", *BATTERY_FIELDS]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = battery_errors(_merged(self, attrs))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PVArraySerializer(StrictModelSerializer):
    site = ScopedSitePrimaryKeyField()

    class Meta:
        model = PVArray
        fields = ["id", "site", *PV_ARRAY_FIELDS]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = pv_array_errors(_merged(self, attrs))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class EnrolmentActionInputSerializer(StrictSerializer):
    """Body of an enrolment action; ``reason`` is required to reject or suspend."""

    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EnrolmentTransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = EnrolmentTransition
        fields = ["from_status", "to_status", "actor", "reason", "at"]


ENROLMENT_ACTIONS = [choice.value for choice in EnrolmentAction]
