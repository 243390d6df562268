"""The integrations' API: webhook endpoints, their deliveries and secrets, the event catalogue; a person's
data export and erasure. The tenant always comes from the caller's identity, never from the path."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import actor_of
from cloudkida import events
from cloudkida.apidocs import extend_schema
from cloudkida.apis import page_of, validated
from cloudkida.idempotency import idempotent

from . import data_rights, webhooks
from .domain import DeliveryStatus, EndpointStatus


def _contact_of(request) -> str:
    principal = request.user
    return "" if principal.is_api_key else (getattr(principal, "email", "") or "")


class SecretOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: current; else signs until then")


class EndpointOutput(serializers.Serializer):
    endpoint_id = serializers.CharField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=[s.value for s in EndpointStatus])
    contact_email = serializers.CharField()
    failing_since = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField(allow_blank=True)
    secrets = SecretOutput(many=True, help_text="The signing secrets' dates (their values: the secret route)")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    version = serializers.IntegerField()


class AttemptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="null: no HTTP response")
    latency_ms = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)


class DeliveryOutput(serializers.Serializer):
    delivery_id = serializers.CharField(help_text="The webhook-id header: the same on every attempt")
    endpoint_id = serializers.CharField()
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=[s.value for s in DeliveryStatus])
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    attempts = AttemptOutput(many=True)
    body = serializers.CharField(help_text="The JSON body sent, exactly as signed")


class WebhookEndpointListApi(APIView):
    """GET lists the organisation's webhook endpoints; POST registers one and returns its signing secret."""

    class InputSerializer(serializers.Serializer):
        url = serializers.CharField(max_length=2000)
        event_types = serializers.ListField(child=serializers.CharField(max_length=80), min_length=1, max_length=50)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        contact_email = serializers.CharField(
            max_length=254, required=False, help_text="Told when the endpoint is disabled; default: the caller"
        )

    class CreatedSerializer(EndpointOutput):
        secret = serializers.CharField(help_text="whsec_...: verify signatures with it")

    @extend_schema(responses=page_of(EndpointOutput, "WebhookEndpointPage"))
    def get(self, request):
        found = webhooks.endpoint_list(tenant_id=request.user.tenant_id)
        return Response({"results": EndpointOutput(found, many=True).data, "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    @idempotent
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        endpoint, secret = webhooks.endpoint_create(
            tenant_id=request.user.tenant_id,
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            contact_email=data.get("contact_email") or _contact_of(request),
            created_by=actor_of(request),
        )
        return Response({**EndpointOutput(endpoint).data, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(APIView):
    """GET one endpoint; PATCH changes it (``version`` required; ``status: active`` enables a disabled one);
    DELETE removes it."""

    class PatchSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        url = serializers.CharField(max_length=2000, required=False)
        event_types = serializers.ListField(
            child=serializers.CharField(max_length=80), min_length=1, max_length=50, required=False
        )
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        contact_email = serializers.CharField(max_length=254, required=False)
        status = serializers.ChoiceField(choices=[s.value for s in EndpointStatus], required=False)

    @extend_schema(responses=EndpointOutput)
    def get(self, request, endpoint_id: str):
        endpoint = webhooks.endpoint_get(tenant_id=request.user.tenant_id, endpoint_id=endpoint_id)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(request=PatchSerializer, responses=EndpointOutput)
    def patch(self, request, endpoint_id: str):
        data = dict(validated(self.PatchSerializer, request.data))
        version = data.pop("version")
        endpoint = webhooks.endpoint_update(
            tenant_id=request.user.tenant_id,
            endpoint_id=endpoint_id,
            expected_version=version,
            actor=actor_of(request),
            **data,
        )
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, endpoint_id: str):
        webhooks.endpoint_delete(tenant_id=request.user.tenant_id, endpoint_id=endpoint_id, actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecretValueOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="The newest signing secret (whsec_...)")


class WebhookEndpointSecretApi(APIView):
    """GET the endpoint's newest signing secret."""

    @extend_schema(responses=SecretValueOutput)
    def get(self, request, endpoint_id: str):
        secret = webhooks.endpoint_secret(tenant_id=request.user.tenant_id, endpoint_id=endpoint_id)
        return Response({"secret": secret})


class WebhookEndpointRotateApi(APIView):
    """POST makes a new signing secret; the old ones keep signing too for ``overlap_seconds`` (default a day)."""

    class InputSerializer(serializers.Serializer):
        overlap_seconds = serializers.IntegerField(min_value=0, max_value=webhooks.MAX_OVERLAP_SECONDS, default=86400)

    class RotatedSerializer(EndpointOutput):
        secret = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=RotatedSerializer)
    def post(self, request, endpoint_id: str):
        data = validated(self.InputSerializer, request.data)
        endpoint, secret = webhooks.endpoint_rotate_secret(
            tenant_id=request.user.tenant_id,
            endpoint_id=endpoint_id,
            overlap_seconds=data["overlap_seconds"],
            actor=actor_of(request),
        )
        return Response({**EndpointOutput(endpoint).data, "secret": secret})


class WebhookDeliveryListApi(APIView):
    """GET an endpoint's deliveries, newest first, each with its attempts (status code, latency)."""

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=50)
        cursor = serializers.CharField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=page_of(DeliveryOutput, "WebhookDeliveryPage"))
    def get(self, request, endpoint_id: str):
        filters = validated(self.FilterSerializer, request.query_params)
        page = webhooks.delivery_list(
            tenant_id=request.user.tenant_id,
            endpoint_id=endpoint_id,
            limit=filters["limit"],
            cursor=filters.get("cursor"),
        )
        return Response({"results": DeliveryOutput(page.items, many=True).data, "next_cursor": page.cursor})


class WebhookDeliveryRedeliverApi(APIView):
    """POST sends a delivery again now, its retry schedule started afresh (409 while the endpoint is disabled)."""

    @extend_schema(request=None, responses={202: DeliveryOutput})
    def post(self, request, endpoint_id: str, delivery_id: str):
        found = webhooks.delivery_redeliver(
            tenant_id=request.user.tenant_id, endpoint_id=endpoint_id, delivery_id=delivery_id, actor=actor_of(request)
        )
        return Response(DeliveryOutput(found).data, status=status.HTTP_202_ACCEPTED)


class EventTypeOutput(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    schema = serializers.JSONField(help_text="JSON schema of the event's data")


class WebhookEventTypeListApi(APIView):
    """GET the catalogue of webhook event types, each with the JSON schema of its ``data``."""

    @extend_schema(responses=page_of(EventTypeOutput, "WebhookEventTypePage"))
    def get(self, request):
        found = [vars(t) for t in events.catalogue()]
        return Response({"results": EventTypeOutput(found, many=True).data, "next_cursor": None})


class PersonalDataOutput(serializers.Serializer):
    user_id = serializers.CharField()
    exported_at = serializers.DateTimeField()
    items = serializers.ListField(child=serializers.JSONField(), help_text="Every record that names the person")
    sources = serializers.DictField(child=serializers.JSONField(), help_text="What other stores hold (Cognito...)")


class UserPersonalDataApi(APIView):
    """GET everything CloudKida holds about one person of the organisation, as JSON."""

    @extend_schema(responses=PersonalDataOutput)
    def get(self, request, user_id: str):
        return Response(data_rights.personal_data_export(tenant_id=request.user.tenant_id, user_id=user_id))


class MyPersonalDataApi(APIView):
    """GET everything CloudKida holds about the caller, as JSON."""

    @extend_schema(responses=PersonalDataOutput)
    def get(self, request):
        principal = request.user
        return Response(data_rights.personal_data_export(tenant_id=principal.tenant_id, user_id=principal.subject))


class ErasureOutput(serializers.Serializer):
    user_id = serializers.CharField()
    pseudonym = serializers.CharField()
    erased_at = serializers.DateTimeField()
    removed = serializers.IntegerField(help_text="records deleted")
    pseudonymised = serializers.IntegerField(help_text="records kept with the person's details replaced")
    sources = serializers.DictField(child=serializers.JSONField())


class UserErasureApi(APIView):
    """POST erases one person: their sign-in and record are deleted, every other record that names them is
    pseudonymised; the erasure is in the audit trail (without their details)."""

    @extend_schema(request=None, responses=ErasureOutput)
    def post(self, request, user_id: str):
        return Response(
            data_rights.personal_data_erase(tenant_id=request.user.tenant_id, user_id=user_id, actor=actor_of(request))
        )
