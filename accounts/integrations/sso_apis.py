"""The single sign-on API: a tenant admin's identity providers. The tenant comes from the caller's identity;
the client secret is accepted, never returned."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import TENANT_ROLES, actor_of
from cloudkida.apidocs import extend_schema
from cloudkida.apis import page_of, validated
from cloudkida.idempotency import idempotent

from . import sso
from .domain import ProviderType

ROLES = TENANT_ROLES


class MappingSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=128, required=False, help_text="the claim holding the email")
    name = serializers.CharField(max_length=128, required=False, help_text="the claim holding the name")


class IdentityProviderOutput(serializers.Serializer):
    provider_name = serializers.CharField(help_text="Cognito's provider name (pass as identity_provider=)")
    provider_type = serializers.ChoiceField(choices=[t.value for t in ProviderType])
    display_name = serializers.CharField()
    issuer = serializers.CharField(allow_blank=True, help_text="OIDC")
    client_id = serializers.CharField(allow_blank=True, help_text="OIDC")
    metadata_url = serializers.CharField(allow_blank=True, help_text="SAML")
    email_domains = serializers.ListField(child=serializers.CharField(), help_text="home-realm discovery")
    default_role = serializers.ChoiceField(choices=ROLES, help_text="what a person signing in first becomes")
    attribute_mapping = serializers.DictField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    version = serializers.IntegerField()


def _out(provider) -> dict:
    return IdentityProviderOutput(provider).data


class IdentityProviderListApi(APIView):
    """GET lists the organisation's identity providers; POST connects one (OIDC: issuer, client id and
    secret; SAML: metadata URL or document) and registers it with Cognito."""

    class InputSerializer(serializers.Serializer):
        provider_type = serializers.ChoiceField(choices=[t.value for t in ProviderType], default="OIDC")
        display_name = serializers.CharField(max_length=60)
        issuer = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        client_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
        client_secret = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, default="", write_only=True
        )
        metadata_url = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
        metadata_xml = serializers.CharField(max_length=100_000, required=False, allow_blank=True, default="")
        email_domains = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, default=list, max_length=sso.MAX_DOMAINS
        )
        default_role = serializers.ChoiceField(choices=ROLES, default="TenantUser")
        attribute_mapping = serializers.DictField(
            child=serializers.CharField(max_length=128), required=False, help_text="keys: email, name"
        )

    @extend_schema(responses=page_of(IdentityProviderOutput, "IdentityProviderPage"))
    def get(self, request):
        found = sso.provider_list(tenant_id=request.user.tenant_id)
        return Response({"results": [_out(p) for p in found], "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={201: IdentityProviderOutput})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        provider = sso.provider_create(
            tenant_id=request.user.tenant_id,
            provider_type=data["provider_type"],
            display_name=data["display_name"],
            issuer=data["issuer"],
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            metadata_url=data["metadata_url"],
            metadata_xml=data["metadata_xml"],
            email_domains=data["email_domains"],
            default_role=data["default_role"],
            attribute_mapping=data.get("attribute_mapping"),
            created_by=actor_of(request),
        )
        return Response(_out(provider), status=status.HTTP_201_CREATED)


class IdentityProviderDetailApi(APIView):
    """GET one identity provider; PATCH changes it (``version`` required; a new ``client_secret`` replaces
    the one Cognito holds); DELETE disconnects it (the app client stops offering it)."""

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        display_name = serializers.CharField(max_length=60, required=False)
        issuer = serializers.CharField(max_length=500, required=False)
        client_id = serializers.CharField(max_length=255, required=False)
        client_secret = serializers.CharField(max_length=1000, required=False, write_only=True)
        metadata_url = serializers.CharField(max_length=1000, required=False)
        metadata_xml = serializers.CharField(max_length=100_000, required=False)
        email_domains = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, max_length=sso.MAX_DOMAINS
        )
        default_role = serializers.ChoiceField(choices=ROLES, required=False)
        attribute_mapping = serializers.DictField(child=serializers.CharField(max_length=128), required=False)

    @extend_schema(responses=IdentityProviderOutput)
    def get(self, request, provider_name: str):
        provider = sso.provider_get(tenant_id=request.user.tenant_id, provider_name=provider_name)
        return Response(_out(provider))

    @extend_schema(request=PatchSerializer, responses=IdentityProviderOutput)
    def patch(self, request, provider_name: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        provider = sso.provider_update(
            tenant_id=request.user.tenant_id,
            provider_name=provider_name,
            expected_version=version,
            actor=actor_of(request),
            **data,
        )
        return Response(_out(provider))

    @extend_schema(responses={204: None})
    def delete(self, request, provider_name: str):
        sso.provider_delete(tenant_id=request.user.tenant_id, provider_name=provider_name, actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
