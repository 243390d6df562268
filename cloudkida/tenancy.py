"""Which tenant a request is for, from its hostname, and refusing service to tenants that are not.

``classify_host`` is pure: ``<slug>.<CLOUDKIDA_BASE_DOMAIN>`` is a tenant, the apex (and ``www`` and
``api``) is CloudKida's own site and API, ``<CLOUDKIDA_ADMIN_SUBDOMAIN>.<base>`` is the system-admin
site, and any other host may be a tenant's verified custom domain (looked up in DynamoDB, cached).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.shortcuts import render

from cloudkida.logging import tenant_id_var

APEX, ADMIN, TENANT, CUSTOM = "apex", "admin", "tenant", "custom"
_IP = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$|^\[[0-9a-f:]+\]$")
EXEMPT_PREFIXES = ("/healthz", "/static/")

current_tenant_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_tenant_id", default="")


@dataclass(frozen=True)
class HostMatch:
    kind: str
    slug: str = ""
    host: str = ""


def classify_host(host: str, *, base_domain: str, admin_subdomain: str) -> HostMatch:
    """Pure: what a (port-less, lower-cased) host name addresses."""
    host = host.strip().lower().rstrip(".")
    base = base_domain.lower()
    if not host or host in {base, f"www.{base}", f"api.{base}", "testserver"} or _IP.match(host):
        return HostMatch(APEX, host=host)
    if host == f"{admin_subdomain}.{base}":
        return HostMatch(ADMIN, host=host)
    suffix = f".{base}"
    if host.endswith(suffix):
        label = host[: -len(suffix)]
        if "." in label:  # a.b.<base>: no such tenant host
            return HostMatch(TENANT, slug="", host=host)
        return HostMatch(TENANT, slug=label, host=host)
    return HostMatch(CUSTOM, host=host)


@contextmanager
def tenant_context(tenant_id: str) -> Iterator[None]:
    """The tenant for logging and for jobs outside a request; restores the previous value on exit."""
    token = current_tenant_id.set(tenant_id)
    log_token = tenant_id_var.set(tenant_id)
    try:
        yield
    finally:
        tenant_id_var.reset(log_token)
        current_tenant_id.reset(token)


def _refuse(request: HttpRequest, status: int, code: str, message: str, tenant=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message, "details": {}}, status=status)
    return render(
        request, "errors/tenant.html", {"status": status, "message": message, "tenant": tenant}, status=status
    )


class TenantMiddleware:
    """Sets ``request.host_kind`` and ``request.tenant`` (a Tenant, or None off tenant hosts).

    Unknown tenant hosts get a branded "no such organisation" 404; tenants that are not ACTIVE are
    refused with a clear message (403 deactivated, 503 still being set up).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        from tenants.domain import TenantStatus
        from tenants.selectors import tenant_get_by_host

        request.tenant = None
        request.host_kind = APEX
        if request.path.startswith(EXEMPT_PREFIXES):
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
        tenant = tenant_get_by_host(match)
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
