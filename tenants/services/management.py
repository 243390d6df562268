"""What system admins (and, for their own organisation, tenant admins) do to tenants: activate,
deactivate, change tier, retry onboarding, edit the profile, rename the subdomain."""

from __future__ import annotations

from django.conf import settings

from cloudkida import clock
from cloudkida.errors import Conflict, ValidationFailed
from tenants import ports, provisioning, repository
from tenants.branding import validate_fields
from tenants.domain import AuditEvent, Tenant, TenantStatus, Tier
from tenants.selectors import tenant_get
from tenants.services.onboarding import onboarding_start
from tenants.services.records import tenant_update, validate_name, validate_slug


def audit(tenant_id: str, action: str, actor: str, **details) -> None:
    """Append an event to the tenant's audit trail."""
    repository.event_add(AuditEvent(tenant_id, clock.now(), action, actor, details))


def _require(tenant: Tenant, allowed: set[TenantStatus], action: str) -> None:
    if tenant.status not in allowed:
        raise Conflict(
            f"A tenant that is {tenant.status.value} cannot be {action}.",
            code="invalid_state",
            details={"status": tenant.status.value, "allowed": sorted(s.value for s in allowed)},
        )


def tenant_deactivate(*, tenant_id: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Refuse service: every credential of the tenant gets 403 ``tenant_deactivated``; its people are
    disabled and signed out (accounts), its usage key disabled."""
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.ACTIVE}, "deactivated")
    if expected_version is not None:
        tenant.version = expected_version
    tenant = tenant_update(tenant=tenant, status=TenantStatus.DEACTIVATED)
    summary = {}
    for listener in ports.listeners():
        summary.update(listener.tenant_suspended(tenant))
    if tenant.api_key_id:
        provisioning.set_api_key_enabled(tenant.api_key_id, enabled=False)
    audit(tenant_id, "tenant.deactivated", actor, **summary)
    return tenant_get(tenant_id=tenant_id)


def tenant_activate(*, tenant_id: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Serve a deactivated tenant again: re-enable its people and its usage key."""
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.DEACTIVATED}, "activated")
    if expected_version is not None:
        tenant.version = expected_version
    summary = {}
    for listener in ports.listeners():
        summary.update(listener.tenant_resumed(tenant))
    if tenant.api_key_id:
        provisioning.set_api_key_enabled(tenant.api_key_id, enabled=True)
    tenant = tenant_update(tenant=tenant, status=TenantStatus.ACTIVE)
    audit(tenant_id, "tenant.activated", actor, **summary)
    return tenant


def tenant_retry(*, tenant_id: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Resume a FAILED onboarding from the step that failed."""
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.FAILED}, "retried")
    if expected_version is not None:
        tenant.version = expected_version
    audit(tenant_id, "onboarding.retried", actor, step=tenant.failed_step)
    tenant_update(tenant=tenant, status=TenantStatus.PROVISIONING, failed_step="", failure_reason="")
    onboarding_start(tenant_id=tenant_id)
    return tenant_get(tenant_id=tenant_id)


def tenant_change_tier(*, tenant_id: str, tier: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Move a pooled tenant between pooled tiers: switches its API key to the new usage plan.

    Moving into or out of Platinum changes the isolation model (a data migration between the pooled
    and a silo table); it is refused with a reason rather than done half-way. See docs/architecture.md.
    """
    tenant = tenant_get(tenant_id=tenant_id)
    try:
        new_tier = Tier(str(tier).lower())
    except ValueError as error:
        raise ValidationFailed("Unknown tier.", code="invalid_tier", details={"tier": str(tier)[:32]}) from error
    if new_tier is tenant.tier:
        return tenant
    if new_tier.isolation is not tenant.isolation:
        raise ValidationFailed(
            "Moving between pooled tiers and Platinum changes where the tenant's data lives; CloudKida does "
            "not migrate it automatically. Offboard with an export and sign up again on the new tier, or ask "
            "support for an assisted migration.",
            code="isolation_change_refused",
            details={"from": tenant.tier.value, "to": new_tier.value},
        )
    _require(tenant, {TenantStatus.ACTIVE, TenantStatus.DEACTIVATED}, "moved to another tier")
    if expected_version is not None:
        tenant.version = expected_version
    previous = tenant.tier
    tenant = tenant_update(tenant=tenant, tier=new_tier)
    if tenant.api_key_id:
        provisioning.bind_api_key(tenant.api_key_id, new_tier.value, previous_tier=previous.value)
    audit(tenant_id, "tenant.tier_changed", actor, **{"from": previous.value, "to": new_tier.value})
    return tenant


def tenant_update_profile(*, tenant_id: str, actor: str, expected_version: int, **changes) -> Tenant:
    """Edit the organisation's name, country, phone, address or branding (optimistic locking)."""
    allowed = {"name", "country", "phone", "address", "branding"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            "These fields cannot be changed here.", code="read_only_field", details={"fields": sorted(unknown)}
        )
    if "name" in changes:
        changes["name"] = validate_name(changes["name"])
    tenant = tenant_get(tenant_id=tenant_id)
    if "branding" in changes:  # the same checks as the tenant admin's own edits; images are uploaded
        cleaned = validate_fields(dict(changes["branding"] or {}))
        changes["branding"] = {k: v for k, v in {**tenant.branding, **cleaned}.items() if v != ""}
    tenant.version = expected_version
    tenant = tenant_update(tenant=tenant, **changes)
    audit(tenant_id, "tenant.updated", actor, fields=sorted(changes))
    return tenant


def tenant_rename(*, tenant_id: str, slug: str, actor: str, expected_version: int) -> Tenant:
    """Move the tenant to a new subdomain. Its id — and so every record, key and sign-in — stays.

    The old subdomain redirects to the new one for ``CLOUDKIDA_SLUG_GRACE_SECONDS``, then is free for
    anyone to take; a taken slug is Conflict (409). The app client's callback URLs follow the new host.
    """
    slug = validate_slug(slug)
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.ACTIVE, TenantStatus.DEACTIVATED}, "renamed")
    if slug == tenant.slug:
        return tenant
    previous = tenant.slug
    tenant.version = expected_version
    tenant = tenant_update(tenant=tenant, slug=slug, slug_grace_seconds=settings.CLOUDKIDA_SLUG_GRACE_SECONDS)
    identity = tenant.identity
    if identity.get("client_id") and identity.get("user_pool_id"):
        provisioning.set_app_client_hosts(
            identity["user_pool_id"],
            identity["client_id"],
            tenant_id,
            base_urls=provisioning.tenant_base_urls(slug, repository.hosts_of(tenant_id)),
        )
    audit(tenant_id, "tenant.renamed", actor, **{"from": previous, "to": slug})
    return tenant
