"""Reads of tenants: by id, by slug, by host, by app client."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from cloudkida.cache import TTLCache
from cloudkida.dynamo import Page, check_tenant_id, tables
from cloudkida.errors import NotFound, ValidationFailed
from cloudkida.tenancy import CUSTOM, TENANT, HostMatch
from tenants import repository
from tenants.domain import Isolation, SlugTarget, Tenant, TenantStatus, Tier

_tenant_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)
_slug_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)
_host_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)
_client_cache = TTLCache(ttl_seconds=settings.CLOUDKIDA_TENANT_CACHE_SECONDS)


def _not_found(tenant_id: str) -> NotFound:
    return NotFound(f"There is no organisation {str(tenant_id)[:64]!r}.", code="tenant_not_found")


def _checked(tenant_id: str) -> str:
    """A malformed id names no tenant: NotFound, like an unknown one."""
    try:
        return check_tenant_id(tenant_id)
    except ValidationFailed as error:
        raise _not_found(tenant_id) from error


def tenant_get(*, tenant_id: str) -> Tenant:
    """The tenant, read through to DynamoDB; NotFound if there is none."""
    tenant = repository.get(_checked(tenant_id))
    if tenant is None:
        raise _not_found(tenant_id)
    return tenant


def tenant_get_cached(*, tenant_id: str) -> Tenant:
    """The tenant from a short per-process cache (see CLOUDKIDA_TENANT_CACHE_SECONDS)."""
    tenant = _tenant_cache.get_or_load(tenant_id, lambda: repository.get(_checked(tenant_id)))
    if tenant is None:
        raise _not_found(tenant_id)
    return tenant


def slug_target(*, slug: str) -> SlugTarget | None:
    """Who holds a slug (cached): the tenant, or the tenant it now redirects to; None if free."""
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 63:
        return None
    return _slug_cache.get_or_load(slug, lambda: repository.slug_target(slug))


def tenant_get_by_slug(*, slug: str) -> Tenant:
    """The tenant that holds ``slug`` now (not one it merely redirects for); NotFound otherwise."""
    target = slug_target(slug=slug)
    if target is None or target.redirect_to:
        raise _not_found(slug)
    return tenant_get_cached(tenant_id=target.tenant_id)


def tenant_id_for_slug(slug: str) -> str:
    """The id of the tenant holding ``slug``, or "" (for commands and tests that start from a slug)."""
    try:
        return tenant_get_by_slug(slug=slug).tenant_id
    except NotFound:
        return ""


def tenant_cache_clear(*, tenant_id: str | None = None) -> None:
    """Forget cached tenants (all, or one). Slugs and hosts are dropped too: a rename or an offboarding
    changes what they point to."""
    if tenant_id is None:
        _tenant_cache.invalidate()
        _client_cache.invalidate()
    else:
        _tenant_cache.invalidate(tenant_id)
    _slug_cache.invalidate()
    _host_cache.invalidate()


def tenant_list(
    *, status: TenantStatus | None = None, tier: Tier | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    """A page of tenants, oldest first; filter by status and/or tier. Never scans."""
    return repository.list_page(status=status, tier=tier, limit=limit, cursor=cursor)


def tenant_search(*, query: str, limit: int = 50) -> list[Tenant]:
    """Tenants whose slug or id is ``query`` or whose name contains it (case-insensitive), oldest first.

    System-admin search: reads the all-tenants index partition (a Query, never a Scan), stopping at
    ``CLOUDKIDA_ADMIN_SEARCH_MAX_READ`` tenants.
    """
    needle = query.strip().lower()
    found: list[Tenant] = []
    exact = _exact(needle)
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


def _exact(needle: str) -> Tenant | None:
    try:
        return repository.get(check_tenant_id(needle))
    except ValidationFailed:
        pass
    target = repository.slug_target(needle) if needle else None
    return repository.get(target.tenant_id) if target else None


def tenant_data_table_name(*, tenant_id: str) -> str:
    """The table holding the tenant's data: its silo table if it is siloed, else the pooled one."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    if tenant.isolation is Isolation.SILO and tenant.data_table:
        return tenant.data_table
    return tables.pooled_table().name


@dataclass(frozen=True)
class HostResolution:
    """The tenant a host serves, or the host the request should be sent to instead (an old slug)."""

    tenant: Tenant | None = None
    redirect_slug: str = ""


def tenant_resolve_host(match: HostMatch) -> HostResolution:
    """The tenant a classified host addresses (slug sub-domain or verified custom domain)."""
    if match.kind == TENANT:
        target = slug_target(slug=match.slug) if match.slug else None
        if target is None:
            return HostResolution()
        if target.redirect_to:
            return HostResolution(redirect_slug=target.redirect_to)
        return HostResolution(tenant=_cached_or_none(target.tenant_id))
    if match.kind == CUSTOM:
        tenant_id = _host_cache.get_or_load(match.host, lambda: repository.host_get(match.host))
        return HostResolution(tenant=_cached_or_none(tenant_id) if tenant_id else None)
    return HostResolution()


def _cached_or_none(tenant_id: str) -> Tenant | None:
    try:
        return tenant_get_cached(tenant_id=tenant_id)
    except NotFound:
        return None


def tenant_for_client(*, client_id: str) -> str:
    """The tenant an OIDC app client belongs to, or "" (cached; one GetItem when cold)."""
    if not client_id or len(client_id) > 128:
        return ""
    return _client_cache.get_or_load(client_id, lambda: repository.client_get(client_id))


def tenant_find(*, query: str) -> Tenant | None:
    """An ACTIVE tenant by exact slug or exact organisation name (case-insensitive): at most two GetItems
    and the tenant read."""
    query = " ".join(query.split())
    target = repository.slug_target(query.lower()) if query else None
    tenant_id = (target.tenant_id if target else "") or repository.tenant_id_by_name(query)
    tenant = repository.get(tenant_id) if tenant_id else None
    return tenant if tenant is not None and tenant.status is TenantStatus.ACTIVE else None


def tenant_counts() -> dict[str, dict[str, int]]:
    """How many tenants are in each status and each tier (kept transactionally; one read)."""
    return repository.counts()


def tenant_events(*, tenant_id: str, limit: int = 100, cursor: str | None = None) -> Page:
    """The tenant's audit trail, newest first."""
    return repository.events(tenant_id, limit=limit, cursor=cursor)


def tenant_steps(*, tenant_id: str):
    """The tenant's onboarding step records."""
    return repository.steps(tenant_id)
