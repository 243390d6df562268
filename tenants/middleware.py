"""The tenant of each request, from its host, and refusing service to tenants that are not serving.

First in the chain after the request log: sets ``request.host_kind`` and ``request.tenant`` (a Tenant,
or None off tenant hosts). Unknown tenant hosts get a branded "no such organisation" 404; the old
subdomain of a renamed tenant redirects to the new one during its grace period; tenants that are not
ACTIVE are refused with a clear message (403 deactivated, 503 still being set up).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.shortcuts import render

from cloudkida.errors import ServiceUnavailable
from cloudkida.tenancy import ADMIN, APEX, CUSTOM, EXEMPT_PREFIXES, classify_host, tenant_context
from tenants.domain import TenantStatus
from tenants.provisioning import tenant_base_url
from tenants.selectors import tenant_resolve_host


def _refuse(request: HttpRequest, status: int, code: str, message: str, tenant=None):
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": code, "message": message, "details": {}}, status=status)
    return render(
        request, "errors/tenant.html", {"status": status, "message": message, "tenant": tenant}, status=status
    )


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.tenant = None
        request.host_kind = APEX
        # path_info: on API Gateway's own host Zappa puts the stage in SCRIPT_NAME, so request.path is /<stage>/...
        if request.path_info.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        host, _port = split_domain_port(request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", ""))
        listed = bool(host) and validate_host(host, settings.CLOUDKIDA_ALLOWED_HOSTS)
        match = classify_host(
            host, base_domain=settings.CLOUDKIDA_BASE_DOMAIN, admin_subdomain=settings.CLOUDKIDA_ADMIN_SUBDOMAIN
        )
        request.host_kind = match.kind
        if not host or (not listed and match.kind != CUSTOM):
            return _refuse(request, 400, "bad_host", "This address is not served by CloudKida.")
        if match.kind in {APEX, ADMIN}:
            return self.get_response(request)
        try:
            resolved = tenant_resolve_host(match)
        except ServiceUnavailable as error:  # DynamoDB unreachable: a 503 the client may retry, never a 500
            response = _refuse(request, error.status, error.code, error.message)
            response["Retry-After"] = "5"
            return response
        if resolved.redirect_slug:
            return HttpResponsePermanentRedirect(tenant_base_url(resolved.redirect_slug) + request.get_full_path())
        tenant = resolved.tenant
        if tenant is None and match.kind == CUSTOM:
            return _refuse(request, 400, "bad_host", "This address is not served by CloudKida.")
        if tenant is None:
            return _refuse(request, 404, "no_such_organisation", "There is no CloudKida organisation at this address.")
        if tenant.status is TenantStatus.DEACTIVATED:
            return _refuse(
                request,
                403,
                "tenant_deactivated",
                f"{tenant.name}'s access to CloudKida is suspended. Contact your administrator.",
                tenant,
            )
        if tenant.status is not TenantStatus.ACTIVE:
            return _refuse(
                request,
                503,
                "tenant_not_ready",
                f"{tenant.name} is not available yet. Try again in a few minutes.",
                tenant,
            )
        request.tenant = tenant
        with tenant_context(tenant.tenant_id):
            return self.get_response(request)
