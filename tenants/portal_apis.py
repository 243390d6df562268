"""The tenant admin's API for their organisation (the portal's pages call the same services): its audit
log, branding, custom domains; and the public list of plans.

The tenant always comes from the caller's verified identity, never from the URL.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cloudkida.apidocs import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from cloudkida.apis import DownloadNegotiation, csv_response, validated
from cloudkida.errors import NotFound, ValidationFailed
from cloudkida.idempotency import idempotent
from tenants.audit import event_details, event_summary
from tenants.branding import ASSETS, MAX_LOGIN_MESSAGE
from tenants.plans import plan_list
from tenants.selectors import branding_for, domain_list, tenant_event_iter, tenant_events, tenant_get
from tenants.services import (
    domain_add,
    domain_remove,
    domain_verify,
    tenant_branding_asset_remove,
    tenant_branding_asset_upload,
    tenant_branding_update,
)


def _actor(request) -> str:
    """How the audit trail names the caller (as ``accounts.apis.actor_of`` does)."""
    principal = request.user
    if principal.scope is not None:
        return f"apikey:{principal.subject.removeprefix('apikey:')}"
    return f"{principal.role.value}:{principal.get_username()}"


class PlanListApi(APIView):
    """Every plan (tier) with what it includes and its price in force today, in US dollars."""

    class OutputSerializer(serializers.Serializer):
        tier = serializers.CharField()
        display_name = serializers.CharField()
        summary = serializers.CharField()
        seats = serializers.IntegerField()
        included_lab_minutes = serializers.IntegerField(help_text="Per calendar month, for the organisation.")
        isolation = serializers.ChoiceField(choices=["pooled", "silo"])
        support = serializers.CharField()
        monthly_fee_usd = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
        extra_lab_minute_usd = serializers.DecimalField(max_digits=10, decimal_places=3, coerce_to_string=True)
        custom_domains = serializers.IntegerField()
        rate_limits = serializers.DictField(child=serializers.FloatField(), help_text="rate, burst, quota_per_day")

    class PageSerializer(serializers.Serializer):
        results = serializers.ListField(child=serializers.DictField())
        next_cursor = serializers.CharField(allow_null=True)

    @extend_schema(responses=PageSerializer, auth=[])
    def get(self, request):
        return Response(
            {"results": self.OutputSerializer([p.as_dict() for p in plan_list()], many=True).data, "next_cursor": None}
        )


# --- audit log ---------------------------------------------------------------------------------------


class AuditFilter(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=200, help_text="As the log names it.")
    action = serializers.CharField(required=False, max_length=100, help_text="e.g. user.invited")
    since = serializers.DateField(required=False, help_text="From this day (UTC), inclusive.")
    until = serializers.DateField(required=False, help_text="To this day (UTC), inclusive.")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "must not be before since"})
        return attrs


class AuditEventOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = serializers.CharField()
    summary = serializers.CharField(help_text="The event as a sentence.")
    details = serializers.JSONField()


def _event(event) -> dict:
    return {
        "at": event.at,
        "action": event.action,
        "actor": event.actor,
        "summary": event_summary(event),
        "details": event.details,
    }


class AuditEventListApi(APIView):
    """The organisation's audit log, newest first, filterable by actor, action and days."""

    class FilterSerializer(AuditFilter):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    class PageSerializer(serializers.Serializer):
        results = AuditEventOutput(many=True)
        next_cursor = serializers.CharField(allow_null=True)

    @extend_schema(parameters=[FilterSerializer], responses=PageSerializer)
    def get(self, request):
        filters = dict(validated(self.FilterSerializer, request.query_params))
        page = tenant_events(tenant_id=request.user.tenant_id, **filters)
        results = AuditEventOutput([_event(e) for e in page.items], many=True).data
        return Response({"results": results, "next_cursor": page.cursor})


class AuditEventExportApi(APIView):
    """The audit log as a CSV file (the same filters; at most 10,000 events, newest first)."""

    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        parameters=[AuditFilter],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="A CSV file.")},
    )
    def get(self, request):
        filters = dict(validated(AuditFilter, request.query_params))
        events = tenant_event_iter(tenant_id=request.user.tenant_id, **filters)
        return csv_response(
            ["at", "action", "actor", "summary", "details"],
            (
                (
                    e.at.isoformat(),
                    e.action,
                    e.actor,
                    event_summary(e),
                    "; ".join(f"{k}: {v}" for k, v in event_details(e)),
                )
                for e in events
            ),
            filename="audit-log.csv",
        )


# --- branding ----------------------------------------------------------------------------------------


class BrandingOutput(serializers.Serializer):
    display_name = serializers.CharField()
    primary_color = serializers.CharField()
    accent_color = serializers.CharField()
    support_email = serializers.CharField()
    support_url = serializers.CharField()
    login_message = serializers.CharField(allow_blank=True)
    logo_url = serializers.CharField()
    favicon_url = serializers.CharField()
    has_logo = serializers.BooleanField()
    has_favicon = serializers.BooleanField()
    is_default = serializers.BooleanField()
    version = serializers.IntegerField(help_text="The organisation's version: send it back to PATCH.")


def _branding(tenant) -> dict:
    resolved = branding_for(tenant)
    return {**{k: resolved[k] for k in BrandingOutput().fields if k in resolved}, "version": tenant.version}


class TenantBrandingApi(APIView):
    """The organisation's branding, every field resolved (CloudKida's where none is set). PATCH the text
    fields with the ``version`` you read; "" clears a field."""

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        primary_color = serializers.CharField(max_length=7, required=False, allow_blank=True, help_text="#rrggbb")
        accent_color = serializers.CharField(max_length=7, required=False, allow_blank=True, help_text="#rrggbb")
        support_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        support_url = serializers.CharField(max_length=200, required=False, allow_blank=True)
        login_message = serializers.CharField(
            max_length=MAX_LOGIN_MESSAGE, required=False, allow_blank=True, trim_whitespace=False
        )

    @extend_schema(responses=BrandingOutput)
    def get(self, request):
        return Response(_branding(tenant_get(tenant_id=request.user.tenant_id)))

    @extend_schema(request=PatchSerializer, responses=BrandingOutput)
    def patch(self, request):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        tenant = tenant_branding_update(
            tenant_id=request.user.tenant_id, actor=_actor(request), expected_version=version, **data
        )
        return Response(_branding(tenant))


ASSET_PARAMETER = OpenApiParameter("asset", str, OpenApiParameter.PATH, enum=list(ASSETS))


class TenantBrandingAssetApi(APIView):
    """PUT a logo or favicon (multipart ``file``: PNG, JPEG or WebP, at most 1 MB, checked by content;
    SVG is refused); DELETE goes back to CloudKida's."""

    parser_classes = [MultiPartParser]

    class UploadSerializer(serializers.Serializer):
        file = serializers.FileField()

    @staticmethod
    def _asset(asset: str) -> str:
        if asset not in ASSETS:
            raise NotFound("Branding has a logo and a favicon.", code="not_found")
        return asset

    @extend_schema(
        parameters=[ASSET_PARAMETER], request={"multipart/form-data": UploadSerializer}, responses=BrandingOutput
    )
    def put(self, request, asset: str):
        asset = self._asset(asset)
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None or not hasattr(upload, "read"):
            raise ValidationFailed("Send the image as the file field.", code="invalid_image", details={"field": asset})
        tenant = tenant_branding_asset_upload(
            tenant_id=request.user.tenant_id, asset=asset, data=upload.read(), actor=_actor(request)
        )
        return Response(_branding(tenant))

    @extend_schema(parameters=[ASSET_PARAMETER], responses=BrandingOutput)
    def delete(self, request, asset: str):
        tenant = tenant_branding_asset_remove(
            tenant_id=request.user.tenant_id, asset=self._asset(asset), actor=_actor(request)
        )
        return Response(_branding(tenant))


# --- custom domains ----------------------------------------------------------------------------------


class DomainOutput(serializers.Serializer):
    domain = serializers.CharField(source="hostname")
    status = serializers.ChoiceField(choices=["PENDING", "VERIFIED"])
    record_name = serializers.CharField(help_text="Publish a TXT record with this name…")
    record_value = serializers.CharField(help_text="…and this value, then verify.")
    created_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)


class DomainListApi(APIView):
    """GET the organisation's custom domains; POST adds one and answers the DNS TXT record to publish."""

    class InputSerializer(serializers.Serializer):
        domain = serializers.CharField(max_length=253)

    class PageSerializer(serializers.Serializer):
        results = DomainOutput(many=True)
        next_cursor = serializers.CharField(allow_null=True)

    @extend_schema(responses=PageSerializer)
    def get(self, request):
        domains = domain_list(tenant_id=request.user.tenant_id)
        return Response({"results": DomainOutput(domains, many=True).data, "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={201: DomainOutput})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        claim = domain_add(tenant_id=request.user.tenant_id, domain=data["domain"], actor=_actor(request))
        return Response(DomainOutput(claim).data, status=status.HTTP_201_CREATED)


class DomainVerifyApi(APIView):
    """Check DNS for the domain's TXT record; on success the domain serves the organisation's portal."""

    @extend_schema(request=None, responses=DomainOutput)
    def post(self, request, domain: str):
        claim = domain_verify(tenant_id=request.user.tenant_id, domain=domain, actor=_actor(request))
        return Response(DomainOutput(claim).data)


class DomainDetailApi(APIView):
    """DELETE stops serving the organisation on the domain and frees it."""

    @extend_schema(responses={204: None})
    def delete(self, request, domain: str):
        domain_remove(tenant_id=request.user.tenant_id, domain=domain, actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
