"""Tenant admins register their learning platforms; the answer tells what to enter on the platform's side."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import actor_of
from cloudkida.apidocs import extend_schema
from cloudkida.apis import page_of, validated
from labs.lti import platforms
from tenants import provisioning
from tenants.selectors import tenant_get_cached


class LtiPlatformOutput(serializers.Serializer):
    platform_id = serializers.CharField()
    name = serializers.CharField()
    issuer = serializers.CharField()
    client_id = serializers.CharField()
    auth_login_url = serializers.CharField()
    auth_token_url = serializers.CharField()
    key_set_url = serializers.CharField()
    deployment_ids = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    tool = serializers.DictField(child=serializers.CharField(), help_text="What to enter on the platform's side")


def _out(platform: platforms.LtiPlatform) -> dict:
    base = provisioning.tenant_base_url(tenant_get_cached(tenant_id=platform.tenant_id).slug)
    tool = {"login_url": f"{base}/lti/login", "launch_url": f"{base}/lti/launch", "jwks_url": f"{base}/lti/jwks"}
    return LtiPlatformOutput({**vars(platform), "tool": tool}).data


class LtiPlatformListApi(APIView):
    """GET the organisation's learning platforms; POST registers one (LTI 1.3: CloudKida is the tool)."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False, default="")
        issuer = serializers.CharField(max_length=500)
        client_id = serializers.CharField(max_length=200)
        auth_login_url = serializers.CharField(max_length=2000)
        auth_token_url = serializers.CharField(max_length=2000)
        key_set_url = serializers.CharField(max_length=2000)
        deployment_ids = serializers.ListField(child=serializers.CharField(max_length=200), min_length=1, max_length=50)

    @extend_schema(responses=page_of(LtiPlatformOutput, "LtiPlatformPage"))
    def get(self, request):
        found = platforms.lti_platform_list(tenant_id=request.user.tenant_id)
        return Response({"results": [_out(p) for p in found], "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={201: LtiPlatformOutput})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        platform = platforms.lti_platform_register(tenant_id=request.user.tenant_id, actor=actor_of(request), **data)
        return Response(_out(platform), status=status.HTTP_201_CREATED)


class LtiPlatformDetailApi(APIView):
    """DELETE removes a learning platform: its launches stop working."""

    @extend_schema(responses={204: None})
    def delete(self, request, platform_id: str):
        platforms.lti_platform_delete(
            tenant_id=request.user.tenant_id, platform_id=platform_id, actor=actor_of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
