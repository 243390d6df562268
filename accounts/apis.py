"""The tenant's own API: who am I, my organisation, its users, its integrator API keys.

The tenant always comes from the caller's verified identity, never from the URL, so no path can name
another tenant's data.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import api_keys
from accounts.domain import Role, UserStatus
from accounts.selectors import user_get, user_list
from accounts.services import user_invite, user_update
from cloudkida.apis import validated
from tenants.selectors import tenant_get_cached


class UserOutput(serializers.Serializer):
    user_id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class MeApi(APIView):
    """The caller as CloudKida sees it."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        role = serializers.CharField()
        subject = serializers.CharField()
        email = serializers.CharField()
        method = serializers.CharField()
        scope = serializers.CharField(allow_null=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        p = request.user
        return Response(
            {
                "tenant_id": p.tenant_id,
                "role": p.role.value,
                "subject": p.subject,
                "email": p.email,
                "method": p.method,
                "scope": p.scope.value if p.scope else None,
            }
        )


class MyTenantApi(APIView):
    """The caller's organisation: name, tier, branding (nothing secret)."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        name = serializers.CharField()
        tier = serializers.CharField()
        status = serializers.CharField()
        branding = serializers.DictField(child=serializers.CharField())

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        t = tenant_get_cached(tenant_id=request.user.tenant_id)
        return Response(
            {
                "tenant_id": t.tenant_id,
                "name": t.name,
                "tier": t.tier.value,
                "status": t.status.value,
                "branding": t.branding,
            }
        )


class UserListApi(APIView):
    """GET lists the organisation's users; POST invites one (TenantAdmin)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        name = serializers.CharField(max_length=100)
        role = serializers.ChoiceField(
            choices=[Role.TENANT_ADMIN.value, Role.TENANT_USER.value], default=Role.TENANT_USER.value
        )

    @extend_schema(parameters=[FilterSerializer], responses=UserOutput(many=True))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        page = user_list(tenant_id=request.user.tenant_id, limit=filters["limit"], cursor=filters.get("cursor"))
        return Response({"results": UserOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: UserOutput})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        user = user_invite(tenant_id=request.user.tenant_id, **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    """GET one user; PATCH name, role or status with the version you read (409 if stale)."""

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        name = serializers.CharField(max_length=100, required=False)
        role = serializers.ChoiceField(choices=[Role.TENANT_ADMIN.value, Role.TENANT_USER.value], required=False)
        status = serializers.ChoiceField(choices=[s.value for s in UserStatus], required=False)

    @extend_schema(responses=UserOutput)
    def get(self, request, user_id: str):
        return Response(UserOutput(user_get(tenant_id=request.user.tenant_id, user_id=user_id)).data)

    @extend_schema(request=PatchSerializer, responses=UserOutput)
    def patch(self, request, user_id: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        user = user_update(tenant_id=request.user.tenant_id, user_id=user_id, expected_version=version, **data)
        return Response(UserOutput(user).data)


class ApiKeyOutput(serializers.Serializer):
    key_id = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyListApi(APIView):
    """GET lists the organisation's integrator keys; POST creates one and shows its secret once."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        scope = serializers.ChoiceField(choices=["read", "write", "admin"])

    class CreatedSerializer(ApiKeyOutput):
        api_key = serializers.CharField(help_text="The secret. Shown once; store it now.")

    @extend_schema(responses=ApiKeyOutput(many=True))
    def get(self, request):
        page = api_keys.api_key_list(tenant_id=request.user.tenant_id, limit=100)
        return Response({"results": ApiKeyOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        key, raw = api_keys.api_key_create(
            tenant_id=request.user.tenant_id, created_by=request.user.get_username(), **data
        )
        return Response({**ApiKeyOutput(key).data, "api_key": raw}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    """DELETE revokes a key of the caller's organisation."""

    @extend_schema(responses=ApiKeyOutput)
    def delete(self, request, key_id: str):
        key = api_keys.api_key_revoke(
            tenant_id=request.user.tenant_id, key_id=key_id, revoked_by=request.user.get_username()
        )
        return Response(ApiKeyOutput(key).data)
