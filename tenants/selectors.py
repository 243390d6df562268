"""Reads of tenants."""

from __future__ import annotations

from django.conf import settings

from cloudkida.cache import TTLCache
from cloudkida.dynamo import Page, check_tenant_id, tables
from cloudkida.errors import NotFound, ValidationFailed
from tenants import repository
from tenants.domain import Isolation, Tenant, TenantStatus, Tier

_tenant_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)


def _checked(tenant_id: str) -> str:
    """A malformed id names no tenant: NotFound, like an unknown one."""
    try:
        return check_tenant_id(tenant_id)
    except ValidationFailed as error:
        raise NotFound(f"There is no organisation {str(tenant_id)[:64]!r}.", code="tenant_not_found") from error


def tenant_get(*, tenant_id: str) -> Tenant:
    """The tenant, read through to DynamoDB; NotFound if there is none."""
    tenant = repository.get(_checked(tenant_id))
    if tenant is None:
        raise NotFound(f"There is no organisation {tenant_id!r}.", code="tenant_not_found")
    return tenant


def tenant_get_cached(*, tenant_id: str) -> Tenant:
    """The tenant from a short per-process cache (see CLOUDKIDA_TENANT_CACHE_SECONDS)."""
    tenant = _tenant_cache.get_or_load(tenant_id, lambda: repository.get(_checked(tenant_id)))
    if tenant is None:
        raise NotFound(f"There is no organisation {tenant_id!r}.", code="tenant_not_found")
    return tenant


def tenant_cache_clear(*, tenant_id: str | None = None) -> None:
    if tenant_id is None:
        _tenant_cache.invalidate()
        _host_cache.invalidate()
        _client_cache.invalidate()
    else:
        _tenant_cache.invalidate(tenant_id)


def tenant_list(
    *, status: TenantStatus | None = None, tier: Tier | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    """A page of tenants, oldest first; filter by status and/or tier. Never scans."""
    return repository.list_page(status=status, tier=tier, limit=limit, cursor=cursor)


def tenant_search(*, query: str, limit: int = 50) -> list[Tenant]:
    """Tenants whose slug is ``query`` or whose name contains it (case-insensitive), oldest first.

    System-admin search: reads the all-tenants index partition (a Query, never a Scan), stopping at
    ``CLOUDKIDA_ADMIN_SEARCH_MAX_READ`` tenants.
    """
    needle = query.strip().lower()
    found: list[Tenant] = []
    try:
        exact = repository.get(check_tenant_id(needle))
    except ValidationFailed:
        exact = None
    if exact:
        found.append(exact)
    read, cursor = 0, None
    while len(found) < limit and read < settings.CLOUDKIDA_ADMIN_SEARCH_MAX_READ:
        page = repository.list_page(status=None, tier=None, limit=100, cursor=cursor)
        read += len(page.items)
        found += [t for t in page.items if needle in t.name.lower() and (not exact or t.tenant_id != exact.tenant_id)]
        cursor = page.cursor
        if not cursor:
            break
    return found[:limit]


def tenant_data_table_name(*, tenant_id: str) -> str:
    """The table holding the tenant's data: its silo table if it is siloed, else the pooled one."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    if tenant.isolation is Isolation.SILO and tenant.data_table:
        return tenant.data_table
    return tables.pooled_table().name


_host_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)


def tenant_get_by_host(match) -> Tenant | None:
    """The tenant a classified host addresses (slug sub-domain or verified custom domain), or None."""
    from cloudkida.tenancy import CUSTOM, TENANT

    if match.kind == TENANT:
        if not match.slug:
            return None
        try:
            return tenant_get_cached(tenant_id=match.slug)
        except NotFound:
            return None
    if match.kind == CUSTOM:
        tenant_id = _host_cache.get_or_load(match.host, lambda: repository.host_get(match.host))
        if not tenant_id:
            return None
        try:
            return tenant_get_cached(tenant_id=tenant_id)
        except NotFound:
            return None
    return None


_client_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)


def tenant_for_client(*, client_id: str) -> str:
    """The tenant an OIDC app client belongs to, or "" (cached; one GetItem when cold)."""
    if not client_id or len(client_id) > 128:
        return ""
    return _client_cache.get_or_load(client_id, lambda: repository.client_get(client_id))


def tenant_find(*, query: str) -> Tenant | None:
    """An ACTIVE tenant by exact slug or exact organisation name (case-insensitive): at most two GetItems."""
    query = " ".join(query.split())
    tenant = None
    try:
        tenant = repository.get(check_tenant_id(query.lower()))
    except ValidationFailed:
        tenant = None
    if tenant is None:
        tenant_id = repository.tenant_id_by_name(query)
        tenant = repository.get(tenant_id) if tenant_id else None
    return tenant if tenant is not None and tenant.status is TenantStatus.ACTIVE else None
