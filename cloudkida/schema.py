"""OpenAPI schema generation tuned to our conventions."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names nested serializers after their view (``RegistrationCreateApi.InputSerializer`` becomes
    ``RegistrationCreateInput``), so every view can keep the convention of nested Input/Output
    serializers without colliding component names."""

    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        owner, _, own = cls.__qualname__.rpartition(".")
        if owner:
            return owner.split(".")[-1].removeprefix("_").removesuffix("Api") + own.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cloudkida.identity.drf.BearerTokenAuthentication"
    name = "cognitoJwt"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Cognito ID or access token of your organisation's user pool.",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "cloudkida.identity.drf.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "An integrator key (scopes read, write, admin) created by a tenant admin.",
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "cloudkida.identity.drf.TenantSessionAuthentication"
    name = "portalSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The portal's session after signing in on your organisation's host (CSRF applies).",
        }


class ApiGatewayScheme(OpenApiAuthenticationExtension):
    target_class = "cloudkida.identity.drf.ApiGatewayAuthorizerAuthentication"
    name = "apiGatewayAuthorizer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Behind API Gateway: the same bearer token, checked by the Lambda authorizer.",
        }
