"""SCIM 2.0 endpoints (``/api/v1/scim/v2/...``): an admin-scope API key of the tenant as the bearer token, SCIM
media type and error bodies. Not in the OpenAPI document: SCIM describes itself (ServiceProviderConfig)."""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_keys import api_key_authenticate
from cloudkida.apidocs import extend_schema
from cloudkida.errors import ApplicationError
from cloudkida.limits import SafeJSONParser

from . import scim


class ScimJSONParser(SafeJSONParser):
    media_type = "application/scim+json"


class ScimRenderer(JSONRenderer):
    media_type = "application/scim+json"
    format = "scim"


class ScimBearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer ck_<id>_<secret>``: an API key of the tenant (admin scope, see the matrix)."""

    def authenticate(self, request):
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return api_key_authenticate(token.strip()), None

    def authenticate_header(self, request):
        return 'Bearer realm="cloudkida-scim"'


@extend_schema(exclude=True)
class ScimView(APIView):
    authentication_classes = [ScimBearerAuthentication]
    parser_classes = [ScimJSONParser, SafeJSONParser]
    renderer_classes = [ScimRenderer]

    def handle_exception(self, exc):
        if isinstance(exc, scim.ScimError):
            return Response(scim.error_body(exc.status, exc.message, exc.scim_type), status=exc.status)
        if isinstance(exc, ApplicationError):
            return Response(scim.error_body(exc.status, exc.message), status=exc.status)
        if isinstance(exc, exceptions.APIException):
            response = super().handle_exception(exc)
            detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
            scim_type = "invalidSyntax" if isinstance(exc, exceptions.ParseError) else ""
            response.data = scim.error_body(response.status_code, detail, scim_type)
            return response
        raise exc

    def base_url(self, request) -> str:
        return request.build_absolute_uri("/api/v1/scim/v2").rstrip("/")

    @property
    def tenant_id(self) -> str:
        return self.request.user.tenant_id

    def body(self, request) -> dict:
        if not isinstance(request.data, dict):
            raise scim.ScimError(400, "The body must be a JSON object.", "invalidSyntax")
        return request.data

    def paging(self, request) -> tuple[int, int]:
        try:
            return int(request.query_params.get("startIndex", 1)), int(request.query_params.get("count", 100))
        except ValueError as error:
            raise scim.ScimError(400, "startIndex and count are integers.", "invalidValue") from error

    def list_response(self, total: int, start: int, resources: list[dict]) -> Response:
        return Response(
            {
                "schemas": [scim.LIST_SCHEMA],
                "totalResults": total,
                "startIndex": max(1, start),
                "itemsPerPage": len(resources),
                "Resources": resources,
            }
        )


class ScimUsersApi(ScimView):
    def get(self, request):
        start, count = self.paging(request)
        total, users = scim.scim_user_list(
            tenant_id=self.tenant_id, filter_text=request.query_params.get("filter"), start=start, count=count
        )
        return self.list_response(total, start, [scim.user_resource(u, self.base_url(request)) for u in users])

    def post(self, request):
        user = scim.scim_user_create(tenant_id=self.tenant_id, body=self.body(request))
        resource = scim.user_resource(user, self.base_url(request))
        return Response(resource, status=status.HTTP_201_CREATED, headers={"Location": resource["meta"]["location"]})


class ScimUserApi(ScimView):
    def get(self, request, user_id: str):
        return Response(
            scim.user_resource(scim.scim_user_get(tenant_id=self.tenant_id, user_id=user_id), self.base_url(request))
        )

    def put(self, request, user_id: str):
        user = scim.scim_user_replace(tenant_id=self.tenant_id, user_id=user_id, body=self.body(request))
        return Response(scim.user_resource(user, self.base_url(request)))

    def patch(self, request, user_id: str):
        user = scim.scim_user_patch(tenant_id=self.tenant_id, user_id=user_id, body=self.body(request))
        return Response(scim.user_resource(user, self.base_url(request)))

    def delete(self, request, user_id: str):
        scim.scim_user_delete(tenant_id=self.tenant_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScimGroupsApi(ScimView):
    def get(self, request):
        start, count = self.paging(request)
        total, groups = scim.scim_group_list(
            tenant_id=self.tenant_id, filter_text=request.query_params.get("filter"), start=start, count=count
        )
        with_members = "members" not in (request.query_params.get("excludedAttributes") or "")
        resources = []
        for group in groups:
            members = (
                scim.scim_group_get(tenant_id=self.tenant_id, group_id=group.group_id)[1] if with_members else None
            )
            resources.append(scim.group_resource(group, self.base_url(request), members=members))
        return self.list_response(total, start, resources)

    def post(self, request):
        group = scim.scim_group_create(tenant_id=self.tenant_id, body=self.body(request))
        _group, members = scim.scim_group_get(tenant_id=self.tenant_id, group_id=group.group_id)
        resource = scim.group_resource(group, self.base_url(request), members=members)
        return Response(resource, status=status.HTTP_201_CREATED, headers={"Location": resource["meta"]["location"]})


class ScimGroupApi(ScimView):
    def _resource(self, request, group_id: str) -> dict:
        group, members = scim.scim_group_get(tenant_id=self.tenant_id, group_id=group_id)
        excluded = "members" in (request.query_params.get("excludedAttributes") or "")
        return scim.group_resource(group, self.base_url(request), members=None if excluded else members)

    def get(self, request, group_id: str):
        return Response(self._resource(request, group_id))

    def put(self, request, group_id: str):
        scim.scim_group_replace(tenant_id=self.tenant_id, group_id=group_id, body=self.body(request))
        return Response(self._resource(request, group_id))

    def patch(self, request, group_id: str):
        scim.scim_group_patch(tenant_id=self.tenant_id, group_id=group_id, body=self.body(request))
        return Response(self._resource(request, group_id))

    def delete(self, request, group_id: str):
        scim.scim_group_delete(tenant_id=self.tenant_id, group_id=group_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScimServiceProviderConfigApi(ScimView):
    def get(self, request):
        return Response(
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "patch": {"supported": True},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": scim.MAX_COUNT},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": False},
                "authenticationSchemes": [
                    {
                        "type": "oauthbearertoken",
                        "name": "API key",
                        "description": "An admin-scope CloudKida API key as the bearer token",
                        "primary": True,
                    }
                ],
            }
        )
