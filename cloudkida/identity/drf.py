"""DRF authentication and permission classes built on the shared identity core."""

from __future__ import annotations

from django.conf import settings
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.permissions import BasePermission

from cloudkida.access import allows, rule_for
from cloudkida.errors import NotAuthenticated, PermissionDenied
from cloudkida.identity.principal import Principal, Role, Scope


class ApiGatewayAuthorizerAuthentication(BaseAuthentication):
    """Behind API Gateway the Lambda authorizer has already verified the caller: read its context."""

    def authenticate(self, request):
        if not settings.CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER:
            return None
        context = request._request.META.get("API_GATEWAY_AUTHORIZER") or {}
        if not context.get("role"):
            return None
        context = {**context, "principalId": context.get("principalId", "")}
        from cloudkida import aws

        principal = Principal(
            tenant_id=context.get("tenantId", ""),
            role=Role(context["role"]),
            subject=context.get("principalId", ""),
            email=context.get("email", ""),
            method="authorizer",
            scope=Scope(context["scope"]) if context.get("scope") else None,
        )
        if context.get("accessKeyId"):
            aws.use_scoped_credentials(
                principal.tenant_id,
                {
                    "AccessKeyId": context["accessKeyId"],
                    "SecretAccessKey": context["secretAccessKey"],
                    "SessionToken": context.get("sessionToken", ""),
                },
            )
        return principal, None


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <Cognito ID or access token>``, verified locally against cached JWKS."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header or header.lower().startswith("apikey "):
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>'.", code="invalid_token")
        from cloudkida.identity.tokens import verify_token

        return verify_token(token.strip()), token.strip()

    def authenticate_header(self, request):
        return 'Bearer realm="cloudkida"'


class ApiKeyAuthentication(BaseAuthentication):
    """``X-Api-Key: ck_<id>_<secret>`` for integrators."""

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_API_KEY")
        scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if not raw and scheme.lower() == "apikey":
            raw = value  # behind API Gateway the key travels in the Authorization header
        if not raw:
            return None
        from accounts.api_keys import api_key_authenticate

        return api_key_authenticate(raw.strip()), None


class TenantSessionAuthentication(BaseAuthentication):
    """A portal user signed in through the tenant's OIDC login, calling the API from the browser."""

    def authenticate(self, request):
        from accounts.portal import session_principal

        principal = session_principal(request._request)
        if principal is None:
            return None
        check = CSRFCheck(lambda req: None)
        check.process_request(request._request)
        reason = check.process_view(request._request, None, (), {})
        if reason:
            raise PermissionDenied("CSRF check failed.", code="csrf_failed")
        return principal, None


class RouteMatrixPermission(BasePermission):
    """Allow exactly what cloudkida.access says, for callers of the right, active tenant."""

    def has_permission(self, request, view):
        match = request._request.resolver_match
        rule_ = rule_for(match.url_name if match else "", request.method)
        if rule_ is None:
            raise PermissionDenied("This route is not open to anyone.", code="route_not_allowed")
        if rule_.public:
            return True
        principal = request.user if isinstance(request.user, Principal) else None
        if principal is None:
            raise NotAuthenticated()
        host_tenant = getattr(request._request, "tenant", None)
        if host_tenant is not None and principal.tenant_id != host_tenant.tenant_id:
            raise PermissionDenied("Your identity belongs to another organisation.", code="wrong_tenant")
        if principal.tenant_id:
            from tenants.selectors import tenant_get_cached

            if not tenant_get_cached(tenant_id=principal.tenant_id).is_serving:
                raise PermissionDenied("Your organisation's access is suspended.", code="tenant_deactivated")
        if not allows(principal, rule_):
            raise PermissionDenied("Your role may not do this.", code="permission_denied")
        return True
