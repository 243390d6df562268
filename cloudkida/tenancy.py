"""Which tenant a request is for: the pure host classification, and the tenant context for logs and jobs.

``classify_host`` is pure: ``<slug>.<CLOUDKIDA_BASE_DOMAIN>`` is a tenant, the apex (and ``www`` and
``api``) is CloudKida's own site and API, ``<CLOUDKIDA_ADMIN_SUBDOMAIN>.<base>`` is the system-admin
site, and any other host may be a tenant's verified custom domain. The middleware that looks the tenant
up lives with the tenants (``tenants.middleware``).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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
