"""OpenAPI security schemes of accounts' authentication classes (imported before the first schema is
generated: ``cloudkida.apidocs.extension_module``)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "cognitoJwt"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Cognito ID or access token of your organisation's user pool.",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "An integrator key (scopes read, write, admin) created by a tenant admin.",
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.TenantSessionAuthentication"
    name = "portalSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The portal's session after signing in on your organisation's host (CSRF applies).",
        }


class ApiGatewayScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiGatewayAuthorizerAuthentication"
    name = "apiGatewayAuthorizer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Behind API Gateway: the same bearer token, checked by the Lambda authorizer.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.StaffSessionAuthentication"
    name = "adminSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A system admin's Django admin session (CSRF applies), for the operator API.",
        }
