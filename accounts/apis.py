"""The tenant's own API: who am I, my organisation, its users, its integrator API keys; learners' sign-up.

The tenant always comes from the caller's verified identity, never from the URL, so no path can name
another tenant's data.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import api_keys
from accounts.authentication import require_key_scope
from accounts.domain import Role, UserStatus
from accounts.selectors import user_get, user_list
from accounts.services import learner_register, user_invite, user_update
from cloudkida.apis import page_of, validated
from cloudkida.idempotency import idempotent
from cloudkida.identity.principal import Scope
from tenants import provisioning
from tenants.selectors import tenant_get_cached
from tenants.services import tenant_rename

TENANT_ROLES = [Role.TENANT_ADMIN.value, Role.TENANT_USER.value]


def actor_of(request) -> str:
    """How the audit trail names the caller: its role (or key) and who it is."""
    principal = request.user
    if principal.is_api_key:
        return f"apikey:{principal.subject.removeprefix('apikey:')}"
    return f"{principal.role.value}:{principal.get_username()}"


class UserOutput(serializers.Serializer):
    user_id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=TENANT_ROLES)
    status = serializers.ChoiceField(choices=[s.value for s in UserStatus])
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class CallerKey(serializers.Serializer):
    """The integrator API key a request was made with."""

    key_id = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=[s.value for s in Scope])


class MeApi(APIView):
    """The caller as CloudKida sees it: a user (with the role it has now) or an integrator API key."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        method = serializers.ChoiceField(choices=["token", "api_key", "session", "authorizer"])
        role = serializers.ChoiceField(choices=TENANT_ROLES, allow_null=True, help_text="null for an API key")
        subject = serializers.CharField()
        email = serializers.CharField(allow_blank=True)
        key = CallerKey(allow_null=True, help_text="The API key, when the caller is one; else null.")

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        p = request.user
        key = None
        if p.is_api_key:
            key = {"key_id": p.subject.removeprefix("apikey:"), "name": p.key_name, "scope": p.scope.value}
        return Response(
            {
                "tenant_id": p.tenant_id,
                "method": "api_key" if p.is_api_key else p.method,
                "role": None if p.is_api_key else p.role.value,
                "subject": p.subject,
                "email": p.email,
                "key": key,
            }
        )


class MyTenantApi(APIView):
    """The caller's organisation (nothing secret); a TenantAdmin may move it to a new subdomain."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        slug = serializers.CharField()
        name = serializers.CharField()
        tier = serializers.CharField()
        status = serializers.CharField()
        branding = serializers.DictField(child=serializers.CharField())
        portal_url = serializers.CharField()
        version = serializers.IntegerField()

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        slug = serializers.CharField(max_length=40, help_text="The new subdomain; the old one redirects for a while.")

    @staticmethod
    def _data(t) -> dict:
        return {
            "tenant_id": t.tenant_id,
            "slug": t.slug,
            "name": t.name,
            "tier": t.tier.value,
            "status": t.status.value,
            "branding": t.branding,
            "portal_url": provisioning.tenant_base_url(t.slug) + "/",
            "version": t.version,
        }

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self._data(tenant_get_cached(tenant_id=request.user.tenant_id)))

    @extend_schema(request=PatchSerializer, responses=OutputSerializer)
    def patch(self, request):
        data = validated(self.PatchSerializer, request.data)
        tenant = tenant_rename(
            tenant_id=request.user.tenant_id,
            slug=data["slug"],
            actor=actor_of(request),
            expected_version=data["version"],
        )
        return Response(self._data(tenant))


class UserListApi(APIView):
    """GET lists the organisation's users; POST invites one (TenantAdmin; keys: write, admin to invite an admin)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        name = serializers.CharField(max_length=100)
        role = serializers.ChoiceField(choices=TENANT_ROLES, default=Role.TENANT_USER.value)

    @extend_schema(parameters=[FilterSerializer], responses=page_of(UserOutput, "UserPage"))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        page = user_list(tenant_id=request.user.tenant_id, limit=filters["limit"], cursor=filters.get("cursor"))
        return Response({"results": UserOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: UserOutput})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        if data["role"] == Role.TENANT_ADMIN.value:
            require_key_scope(request.user, Scope.ADMIN, "inviting a TenantAdmin")
        user = user_invite(tenant_id=request.user.tenant_id, actor=actor_of(request), **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    """GET one user; PATCH name, role or status with the version you read (409 if stale).

    The last active TenantAdmin cannot be demoted or disabled (409 ``last_admin``). With an API key,
    changing a role or a status needs the ``admin`` scope.
    """

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        name = serializers.CharField(max_length=100, required=False)
        role = serializers.ChoiceField(choices=TENANT_ROLES, required=False)
        status = serializers.ChoiceField(choices=[s.value for s in UserStatus], required=False)

    @extend_schema(responses=UserOutput)
    def get(self, request, user_id: str):
        return Response(UserOutput(user_get(tenant_id=request.user.tenant_id, user_id=user_id)).data)

    @extend_schema(request=PatchSerializer, responses=UserOutput)
    def patch(self, request, user_id: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        if "role" in data or "status" in data:
            require_key_scope(request.user, Scope.ADMIN, "changing a role or a status")
        user = user_update(
            tenant_id=request.user.tenant_id,
            user_id=user_id,
            expected_version=version,
            actor=actor_of(request),
            **data,
        )
        return Response(UserOutput(user).data)


class ApiKeyOutput(serializers.Serializer):
    key_id = serializers.CharField()
    name = serializers.CharField()
    scope = serializers.ChoiceField(choices=[s.value for s in Scope])
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyListApi(APIView):
    """GET lists the organisation's integrator keys; POST creates one and shows its secret once."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        scope = serializers.ChoiceField(choices=[s.value for s in Scope])

    class CreatedSerializer(ApiKeyOutput):
        api_key = serializers.CharField(help_text="The secret. Shown once; store it now.")

    @extend_schema(responses=page_of(ApiKeyOutput, "ApiKeyPage"))
    def get(self, request):
        page = api_keys.api_key_list(tenant_id=request.user.tenant_id, limit=100)
        return Response({"results": ApiKeyOutput(page.items, many=True).data, "next_cursor": page.cursor})

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        key, raw = api_keys.api_key_create(tenant_id=request.user.tenant_id, created_by=actor_of(request), **data)
        return Response({**ApiKeyOutput(key).data, "api_key": raw}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    """DELETE revokes a key of the caller's organisation (idempotent) and returns it, revoked."""

    @extend_schema(responses={200: ApiKeyOutput})
    def delete(self, request, key_id: str):
        key = api_keys.api_key_revoke(tenant_id=request.user.tenant_id, key_id=key_id, revoked_by=actor_of(request))
        return Response(ApiKeyOutput(key).data)


class LearnerRegistrationCreateApi(APIView):
    """An individual learner signs up into the shared default tenant."""

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        name = serializers.CharField(max_length=100)

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        user_id = serializers.CharField()
        email = serializers.EmailField()
        login_url = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        user = learner_register(**data, client_address=request.META.get("REMOTE_ADDR", ""))
        tenant = tenant_get_cached(tenant_id=user.tenant_id)
        return Response(
            {
                "tenant_id": user.tenant_id,
                "user_id": user.user_id,
                "email": user.email,
                "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
            },
            status=status.HTTP_201_CREATED,
        )
