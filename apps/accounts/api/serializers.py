"""Serializers for the accounts API."""

from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import Organisation


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "slug", "kind"]


class MeSerializer(serializers.Serializer):
    """The caller: a user or an API client, its organisation and role."""

    type = serializers.ChoiceField(choices=["user", "api_client"])
    username = serializers.CharField(allow_null=True)
    client_id = serializers.CharField(allow_null=True)
    organisation = OrganisationSerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)
    can_write = serializers.BooleanField()


class TokenRequestSerializer(serializers.Serializer):
    """OAuth2 client-credentials request (RFC 6749 §4.4); id and secret may come as HTTP Basic instead."""

    grant_type = serializers.ChoiceField(choices=["client_credentials"])
    client_id = serializers.CharField(required=False)
    client_secret = serializers.CharField(required=False, write_only=True)
    scope = serializers.CharField(required=False, allow_blank=True, default="")


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    scope = serializers.CharField(help_text="Space-separated granted scopes.")


class AuditEntrySerializer(serializers.ModelSerializer):
    """One entry of the staff audit log (read-only)."""

    class Meta:
        from apps.accounts.models import AuditEntry

        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "organisation",
            "action",
            "object_type",
            "object_id",
            "reason",
            "details",
        ]
        read_only_fields = fields
