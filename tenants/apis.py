"""Public API views for tenants: sign-up, registration status, tenant config, system-admin management."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cloudkida.apidocs import OpenApiParameter, extend_schema
from cloudkida.apis import page_of, validated
from cloudkida.errors import NotFound
from cloudkida.idempotency import idempotent
from tenants import provisioning
from tenants.domain import Tenant, TenantStatus, Tier
from tenants.selectors import tenant_get, tenant_get_by_slug, tenant_list, tenant_steps
from tenants.services import (
    tenant_activate,
    tenant_change_tier,
    tenant_deactivate,
    tenant_register,
    tenant_rename,
    tenant_retry,
    tenant_update_profile,
)
from tenants.services.onboarding import ONBOARDING
from tenants.services.registration import registration_status

TIERS = [t.value for t in Tier]
STATUSES = [s.value for s in TenantStatus]


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _actor(request) -> str:
    return f"{request.user.role.value}:{request.user.get_username()}"


class TenantOutput(serializers.Serializer):
    tenant_id = serializers.CharField(help_text="Immutable and never reused.")
    slug = serializers.CharField(help_text="The subdomain; may change.")
    name = serializers.CharField()
    tier = serializers.ChoiceField(choices=TIERS)
    isolation = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    created_at = serializers.DateTimeField()
    admin_email = serializers.CharField()
    admin_name = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    is_default = serializers.BooleanField()
    identity = serializers.DictField(child=serializers.CharField())
    branding = serializers.DictField(child=serializers.CharField())
    data_table = serializers.CharField()
    api_key_id = serializers.CharField()
    failed_step = serializers.CharField()
    failure_reason = serializers.CharField()
    version = serializers.IntegerField()


class OnboardingStepOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=["PENDING", "RUNNING", "SUCCEEDED", "FAILED"])


def _tenant_data(tenant: Tenant) -> dict:
    return TenantOutput(tenant).data


class RegistrationCreateApi(APIView):
    """Sign an organisation up. No login; rate-limited per client address."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        slug = serializers.CharField(max_length=40)
        admin_email = serializers.CharField(max_length=254)
        admin_name = serializers.CharField(max_length=100)
        tier = serializers.ChoiceField(choices=TIERS)
        country = serializers.CharField(max_length=2, min_length=2)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        address = serializers.CharField(max_length=300, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        slug = serializers.CharField()
        status = serializers.ChoiceField(choices=STATUSES)
        status_token = serializers.CharField()
        status_url = serializers.CharField()
        login_url = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer}, auth=[])
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        tenant, token = tenant_register(**data, client_address=_client_address(request))
        return Response(
            {
                "tenant_id": tenant.tenant_id,
                "slug": tenant.slug,
                "status": tenant.status.value,
                "status_token": token,
                "status_url": f"/api/v1/registrations/{tenant.tenant_id}?token={token}",
                "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
            },
            status=status.HTTP_202_ACCEPTED,
        )


class RegistrationStatusApi(APIView):
    """Provisioning progress of a sign-up, for whoever holds its status token."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        status = serializers.ChoiceField(choices=STATUSES)
        steps = OnboardingStepOutput(many=True)
        failed_step = serializers.CharField(allow_blank=True)
        message = serializers.CharField()
        login_url = serializers.CharField()

    @extend_schema(parameters=[OpenApiParameter("token", str, required=True)], responses=OutputSerializer, auth=[])
    def get(self, request, tenant_id: str):
        tenant = registration_status(tenant_id=tenant_id, token=request.query_params.get("token", ""))
        steps = {s.name: s.status for s in tenant_steps(tenant_id=tenant.tenant_id)}
        message = {
            TenantStatus.ACTIVE: "Your organisation is ready.",
            TenantStatus.FAILED: "Setting up your organisation failed. Our team has been told and will retry.",
        }.get(tenant.status, "Setting up your organisation…")
        return Response(
            {
                "tenant_id": tenant.tenant_id,
                "status": tenant.status.value,
                "steps": [
                    {"name": s.name, "description": s.description, "status": steps.get(s.name, "PENDING")}
                    for s in ONBOARDING.steps
                ],
                "failed_step": tenant.failed_step,
                "message": message,
                "login_url": f"{provisioning.tenant_base_url(tenant.slug)}/login/",
            }
        )


class TenantConfigApi(APIView):
    """What a tenant's login page needs, and nothing secret."""

    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.CharField()
        slug = serializers.CharField()
        display_name = serializers.CharField()
        branding = serializers.DictField(child=serializers.CharField())
        issuer = serializers.CharField()
        client_id = serializers.CharField()
        authorization_endpoint = serializers.CharField()

    @extend_schema(responses=OutputSerializer, auth=[])
    def get(self, request, slug: str):
        tenant = tenant_get_by_slug(slug=slug)
        if tenant.status not in {TenantStatus.ACTIVE}:
            raise NotFound(f"There is no organisation {slug[:64]!r}.", code="tenant_not_found")
        return Response(
            {
                "tenant_id": tenant.tenant_id,
                "slug": tenant.slug,
                "display_name": tenant.name,
                "branding": tenant.branding,
                "issuer": tenant.identity.get("issuer", ""),
                "client_id": tenant.identity.get("client_id", ""),
                "authorization_endpoint": tenant.identity.get("authorization_endpoint", ""),
            }
        )


class TenantListApi(APIView):
    """Every tenant, oldest first, filterable by status and tier (system admins)."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=STATUSES, required=False)
        tier = serializers.ChoiceField(choices=TIERS, required=False)
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=page_of(TenantOutput, "TenantPage"))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        page = tenant_list(
            status=TenantStatus(filters["status"]) if filters.get("status") else None,
            tier=Tier(filters["tier"]) if filters.get("tier") else None,
            limit=filters["limit"],
            cursor=filters.get("cursor"),
        )
        return Response({"results": [_tenant_data(t) for t in page.items], "next_cursor": page.cursor})


class TenantDetailApi(APIView):
    """Read or edit one tenant (system admins). PATCH needs the ``version`` you read (409 if stale)."""

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        slug = serializers.CharField(max_length=40, required=False)
        name = serializers.CharField(max_length=100, required=False)
        country = serializers.CharField(max_length=2, min_length=2, required=False)
        phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
        address = serializers.CharField(max_length=300, required=False, allow_blank=True)
        branding = serializers.DictField(child=serializers.CharField(max_length=200), required=False)
        tier = serializers.ChoiceField(choices=TIERS, required=False)

    @extend_schema(responses=TenantOutput)
    def get(self, request, tenant_id: str):
        return Response(_tenant_data(tenant_get(tenant_id=tenant_id)))

    @extend_schema(request=PatchSerializer, responses=TenantOutput)
    def patch(self, request, tenant_id: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        tier = data.pop("tier", None)
        slug = data.pop("slug", None)
        tenant = tenant_get(tenant_id=tenant_id)
        if slug and slug != tenant.slug:
            tenant = tenant_rename(tenant_id=tenant_id, slug=slug, actor=_actor(request), expected_version=version)
            version = tenant.version
        if tier and tier != tenant.tier.value:
            tenant = tenant_change_tier(tenant_id=tenant_id, tier=tier, actor=_actor(request), expected_version=version)
            version = tenant.version
        if data:
            tenant = tenant_update_profile(tenant_id=tenant_id, actor=_actor(request), expected_version=version, **data)
        return Response(_tenant_data(tenant))


class _TenantActionApi(APIView):
    """POST a state change; subclasses name the service that makes it."""

    service = staticmethod(tenant_activate)

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(request=InputSerializer, responses=TenantOutput)
    def post(self, request, tenant_id: str):
        data = validated(self.InputSerializer, request.data)
        tenant = self.service(tenant_id=tenant_id, actor=_actor(request), expected_version=data.get("version"))
        return Response(_tenant_data(tenant))


class TenantActivateApi(_TenantActionApi):
    """Serve a deactivated tenant again."""

    service = staticmethod(tenant_activate)


class TenantDeactivateApi(_TenantActionApi):
    """Refuse service: disable the tenant's users and API key."""

    service = staticmethod(tenant_deactivate)


class TenantRetryApi(_TenantActionApi):
    """Resume a failed onboarding from the failed step."""

    service = staticmethod(tenant_retry)
