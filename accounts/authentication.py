"""DRF authentication and permission classes built on the identity core.

Every way of proving who you are ends in a ``Principal`` whose role and status are current (read from
records through a short cache, never trusted from a token); ``RouteMatrixPermission`` then applies the
route-role matrix (``accounts.access``) for callers of the right, active tenant.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission

from accounts.access import BY_NAME, allows, rule_for
from accounts.api_keys import api_key_authenticate
from accounts.portal import session_principal
from accounts.tokens import verify_token
from cloudkida import aws
from cloudkida.errors import NotAuthenticated, NotFound, PermissionDenied
from cloudkida.identity.principal import Principal, Role, Scope
from tenants.selectors import tenant_get_cached


class ApiGatewayAuthorizerAuthentication(BaseAuthentication):
    """Behind API Gateway the Lambda authorizer has already verified the caller: read its context."""

    def authenticate(self, request):
        if not settings.CLOUDKIDA_TRUST_API_GATEWAY_AUTHORIZER:
            return None
        context = request._request.META.get("API_GATEWAY_AUTHORIZER") or {}
        if not context.get("role"):
            return None
        principal = Principal(
            tenant_id=context.get("tenantId", ""),
            role=Role(context["role"]),
            subject=context.get("principalId", ""),
            email=context.get("email", ""),
            method=context.get("method") or "authorizer",
            scope=Scope(context["scope"]) if context.get("scope") else None,
            key_name=context.get("keyName", ""),
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
        return api_key_authenticate(raw.strip()), None


class TenantSessionAuthentication(BaseAuthentication):
    """A portal user signed in through the tenant's OIDC login, calling the API from the browser."""

    def authenticate(self, request):
        principal = session_principal(request._request)
        if principal is None:
            return None
        check = CSRFCheck(lambda req: None)
        check.process_request(request._request)
        reason = check.process_view(request._request, None, (), {})
        if reason:
            raise PermissionDenied("CSRF check failed.", code="csrf_failed")
        return principal, None


class StaffSessionAuthentication(BaseAuthentication):
    """A system admin signed in to the Django admin site, calling the operator API from the browser
    (CSRF applies): superusers are SystemAdmin, other staff CustomerSupport. Never on a tenant's host."""

    def authenticate(self, request):
        django_request = request._request
        user = getattr(django_request, "user", None)
        if getattr(django_request, "tenant", None) is not None or user is None or not user.is_authenticated:
            return None
        if not getattr(user, "is_staff", False) or not user.is_active:
            return None
        check = CSRFCheck(lambda req: None)
        check.process_request(django_request)
        if check.process_view(django_request, None, (), {}):
            raise PermissionDenied("CSRF check failed.", code="csrf_failed")
        role = Role.SYSTEM_ADMIN if user.is_superuser else Role.CUSTOMER_SUPPORT
        return Principal(
            tenant_id="", role=role, subject=f"staff:{user.pk}", email=user.email, method="staff_session"
        ), None


class RouteMatrixPermission(BasePermission):
    """Allow exactly what accounts.access says, for callers of the right, active tenant."""

    def has_permission(self, request, view):
        match = request._request.resolver_match
        name = match.url_name if match else ""
        method = "GET" if request.method == "HEAD" else request.method
        rule_ = rule_for(name, method)
        if rule_ is None:
            route = BY_NAME.get(name)
            if route is not None:
                raise MethodNotAllowed(request.method)
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
            try:
                tenant = tenant_get_cached(tenant_id=principal.tenant_id)
            except NotFound as error:  # offboarded since the credential was cached
                raise NotAuthenticated(
                    "The credential's organisation no longer exists.", code="invalid_credential"
                ) from error
            if not tenant.is_serving:
                raise PermissionDenied("Your organisation's access is suspended.", code="tenant_deactivated")
        if allows(principal, rule_):
            return True
        if principal.method == "api_key" or principal.scope is not None:
            if rule_.key_scope is None:
                raise PermissionDenied("API keys may not use this route; sign in as a user.", code="key_not_allowed")
            raise PermissionDenied(
                f"This API key's scope ({principal.scope.value if principal.scope else 'none'}) is too narrow: "
                f"this route needs {rule_.key_scope.value}.",
                code="scope_too_narrow",
                details={"scope": principal.scope.value if principal.scope else None, "needs": rule_.key_scope.value},
            )
        raise PermissionDenied("Your role may not do this.", code="permission_denied")


def require_key_scope(principal: Principal, scope: Scope, what: str) -> None:
    """For actions finer than a route (granting a role): an API key needs at least ``scope``."""
    if principal.scope is not None and principal.scope.rank < scope.rank:
        raise PermissionDenied(
            f"This API key's scope ({principal.scope.value}) is too narrow: {what} needs {scope.value}.",
            code="scope_too_narrow",
            details={"scope": principal.scope.value, "needs": scope.value},
        )
