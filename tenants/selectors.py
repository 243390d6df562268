"""Reads of tenants: by id, by slug, by host, by app client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.conf import settings

from cloudkida import assets
from cloudkida.cache import TTLCache
from cloudkida.clock import to_iso
from cloudkida.dynamo import Page, check_tenant_id, tables
from cloudkida.errors import NotFound, ValidationFailed
from cloudkida.tenancy import CUSTOM, TENANT, HostMatch
from tenants import repository
from tenants.branding import ASSETS, DEFAULTS
from tenants.domain import AuditEvent, CustomDomain, Isolation, SlugTarget, Tenant, TenantStatus, Tier
from tenants.provisioning import host_base_url, tenant_base_url

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


def tenant_events(
    *,
    tenant_id: str,
    limit: int = 100,
    cursor: str | None = None,
    actor: str = "",
    action: str = "",
    since: datetime | date | None = None,
    until: datetime | date | None = None,
) -> Page:
    """The tenant's audit trail (``Page.items``: ``AuditEvent``), newest first; optionally only one
    ``actor``'s (as the trail names it, e.g. ``TenantAdmin:ada@acme.example``), one ``action``'s
    (``user.invited``), and from ``since`` to ``until`` (inclusive; a date means that whole day, UTC).
    The cursor is bound to every filter."""
    return repository.events(
        tenant_id,
        limit=limit,
        cursor=cursor,
        actor=(actor or "").strip()[:200],
        action=(action or "").strip()[:100],
        since=_bound(since, end=False),
        until=_bound(until, end=True),
    )


def tenant_event_iter(*, tenant_id: str, max_events: int = 10_000, **filters) -> Iterator[AuditEvent]:
    """Every event matching the filters, newest first, at most ``max_events`` (the CSV export)."""
    cursor, count = None, 0
    while count < max_events:
        page = tenant_events(tenant_id=tenant_id, limit=100, cursor=cursor, **filters)
        yield from page.items[: max_events - count]
        count += len(page.items)
        cursor = page.cursor
        if not cursor:
            return


def _bound(value: datetime | date | None, *, end: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time.min, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return to_iso(value)


def branding_for(tenant: Tenant | None) -> dict[str, str | bool]:
    """Everything pages and emails show of a tenant's brand, each field resolved (CloudKida's default
    where the tenant set none; ``tenant`` None gives CloudKida's own):

    ``display_name``, ``primary_color``, ``accent_color`` (``#rrggbb``), ``support_email``,
    ``support_url``, ``login_message`` (plain text: escape it), ``logo_url``, ``favicon_url`` (paths on the
    tenant's own host, or CloudKida's static favicon; ``logo_url`` is "" without a logo: show the name),
    ``logo_absolute_url`` and ``favicon_absolute_url`` (for emails), ``has_logo``, ``has_favicon`` and
    ``is_default`` (nothing set).
    """
    branding = dict(tenant.branding) if tenant else {}
    resolved: dict[str, str | bool] = {
        "display_name": branding.get("display_name") or (tenant.name if tenant else "CloudKida"),
        **{k: branding.get(k) or v for k, v in DEFAULTS.items() if not k.endswith("_url") or k == "support_url"},
    }
    base = tenant_base_url(tenant.slug) if tenant else host_base_url(settings.CLOUDKIDA_BASE_DOMAIN)
    for asset in ASSETS:
        key = branding.get(f"{asset}_key", "")
        own = bool(tenant and key and key.startswith(assets.tenant_prefix(tenant.tenant_id)))
        path = f"/branding/{asset}?v={key.rsplit('-', 1)[-1].split('.')[0]}" if own else DEFAULTS[f"{asset}_url"]
        resolved[f"has_{asset}"] = own
        resolved[f"{asset}_url"] = path
        resolved[f"{asset}_absolute_url"] = f"{base}{path}" if path else ""
    resolved["is_default"] = not branding
    return resolved


def branding_asset(*, tenant: Tenant, asset: str) -> tuple[str, str] | None:
    """(S3 key, content type) of the tenant's own logo or favicon, or None: only a key under the
    tenant's own prefix is ever answered, so no host can be made to serve another tenant's file."""
    key = tenant.branding.get(f"{asset}_key", "") if asset in ASSETS else ""
    if not key or not key.startswith(assets.tenant_prefix(tenant.tenant_id)):
        return None
    return key, tenant.branding.get(f"{asset}_type", "application/octet-stream")


def domain_list(*, tenant_id: str) -> list[CustomDomain]:
    """The tenant's custom domains, pending and verified, by name."""
    return sorted(repository.domains_of(tenant_id), key=lambda d: d.hostname)


def tenant_steps(*, tenant_id: str):
    """The tenant's onboarding step records."""
    return repository.steps(tenant_id)
