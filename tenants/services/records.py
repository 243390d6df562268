"""Writing tenant records: create (with slug and name reserved), update, and the slug rules."""

from __future__ import annotations

from cloudkida import clock
from cloudkida.errors import ValidationFailed
from cloudkida.ids import new_ulid
from tenants import repository
from tenants.domain import RESERVED_SLUGS, SLUG_RE, Tenant, TenantStatus, Tier
from tenants.selectors import tenant_cache_clear


def validate_slug(slug: str) -> str:
    """The slug, if it is a DNS label of 3–40 characters that CloudKida has not reserved."""
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or "--" in slug:
        raise ValidationFailed(
            "The subdomain must be 3 to 40 lower-case letters, digits or single hyphens, "
            "starting and ending with a letter or digit.",
            code="invalid_slug",
            details={"slug": slug[:64]},
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(f"The subdomain {slug!r} is reserved.", code="reserved_slug", details={"slug": slug})
    return slug


def validate_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 100:
        raise ValidationFailed("The organisation name must be 2 to 100 characters.", code="invalid_name")
    return name


def tenant_create(
    *,
    slug: str,
    name: str,
    tier: Tier,
    status: TenantStatus = TenantStatus.PENDING,
    admin_email: str = "",
    country: str = "",
    is_default: bool = False,
    admin_name: str = "",
    phone: str = "",
    address: str = "",
    status_token_hash: str = "",
) -> Tenant:
    """Give the organisation a new, never-reused id and write its record, reserving the slug and the
    organisation name in the same transaction.

    Conflict (409) if either is taken; exactly one of several concurrent calls with one slug wins.
    """
    tenant = Tenant(
        tenant_id=new_ulid(),
        slug=validate_slug(slug),
        name=validate_name(name),
        tier=Tier(tier),
        status=status,
        created_at=clock.now(),
        admin_email=admin_email.lower(),
        country=country,
        is_default=is_default,
        admin_name=admin_name,
        phone=phone,
        address=address,
        status_token_hash=status_token_hash,
    )
    return repository.create(tenant)


def tenant_update(*, tenant: Tenant, slug_grace_seconds: int = 0, **changes) -> Tenant:
    """Apply changes if nobody changed the tenant since it was read (else Conflict)."""
    updated = repository.update(tenant, slug_grace_seconds=slug_grace_seconds, **changes)
    tenant_cache_clear(tenant_id=tenant.tenant_id)
    return updated
