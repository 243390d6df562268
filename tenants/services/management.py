"""What system admins do to tenants: activate, deactivate, change tier, retry, edit, offboard."""

from __future__ import annotations

import json

from django.conf import settings

from accounts import repository as users_repo
from accounts.domain import UserStatus
from cloudkida import aws, clock
from cloudkida.dynamo import QueryScope, Table, tables, tenant_pk
from cloudkida.errors import Conflict, ValidationFailed
from tenants import provisioning, repository
from tenants.domain import AuditEvent, Isolation, Tenant, TenantStatus, Tier
from tenants.selectors import tenant_cache_clear, tenant_data_table_name, tenant_get
from tenants.services.onboarding import onboarding_start
from tenants.services.records import tenant_update


def _audit(tenant_id: str, action: str, actor: str, **details) -> None:
    repository.event_add(AuditEvent(tenant_id, clock.now(), action, actor, details))


def _require(tenant: Tenant, allowed: set[TenantStatus], action: str) -> None:
    if tenant.status not in allowed:
        raise Conflict(
            f"A tenant that is {tenant.status.value} cannot be {action}.",
            code="invalid_state",
            details={"status": tenant.status.value, "allowed": sorted(s.value for s in allowed)},
        )


def _usernames(tenant: Tenant) -> list[str]:
    pool_id = tenant.identity.get("user_pool_id")
    if not pool_id:
        return []
    if tenant.isolation is Isolation.SILO:
        cognito = aws.client("cognito-idp")
        names = []
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id):
            names += [u["Username"] for u in page["Users"]]
        return names
    return provisioning.tenant_usernames(pool_id, tenant.tenant_id)


def _set_users_status(tenant: Tenant, status: UserStatus) -> int:
    """Set every user record of the tenant to ``status``; returns how many changed."""
    changed, cursor = 0, None
    while True:
        page = users_repo.list_page(tenant.tenant_id, limit=100, cursor=cursor)
        for user in page.items:
            if user.status is not status:
                users_repo.update(tenant.tenant_id, user, status=status)
                changed += 1
        cursor = page.cursor
        if not cursor:
            return changed


def tenant_deactivate(*, tenant_id: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Refuse service: disable every user (Cognito and records), sign them out, disable the API key."""
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.ACTIVE}, "deactivated")
    if expected_version is not None:
        tenant.version = expected_version
    tenant = tenant_update(tenant=tenant, status=TenantStatus.DEACTIVATED)
    provisioning.set_users_enabled(tenant.identity["user_pool_id"], _usernames(tenant), enabled=False)
    users = _set_users_status(tenant, UserStatus.DISABLED)
    if tenant.api_key_id:
        provisioning.set_api_key_enabled(tenant.api_key_id, enabled=False)
    _audit(tenant_id, "tenant.deactivated", actor, users_disabled=users)
    return tenant_get(tenant_id=tenant_id)


def tenant_activate(*, tenant_id: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Serve a deactivated tenant again: re-enable its users and API key."""
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.DEACTIVATED}, "activated")
    if expected_version is not None:
        tenant.version = expected_version
    provisioning.set_users_enabled(tenant.identity["user_pool_id"], _usernames(tenant), enabled=True)
    users = _set_users_status(tenant, UserStatus.ACTIVE)
    if tenant.api_key_id:
        provisioning.set_api_key_enabled(tenant.api_key_id, enabled=True)
    tenant = tenant_update(tenant=tenant, status=TenantStatus.ACTIVE)
    _audit(tenant_id, "tenant.activated", actor, users_enabled=users)
    return tenant


def tenant_retry(*, tenant_id: str, actor: str, expected_version: int | None = None) -> Tenant:
    """Resume a FAILED onboarding from the step that failed."""
    tenant = tenant_get(tenant_id=tenant_id)
    _require(tenant, {TenantStatus.FAILED}, "retried")
    if expected_version is not None:
        tenant.version = expected_version
    _audit(tenant_id, "onboarding.retried", actor, step=tenant.failed_step)
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
    _audit(tenant_id, "tenant.tier_changed", actor, **{"from": previous.value, "to": new_tier.value})
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
        changes["name"] = " ".join(str(changes["name"]).split())
        if not 2 <= len(changes["name"]) <= 100:
            raise ValidationFailed("The organisation name must be 2 to 100 characters.", code="invalid_name")
    tenant = tenant_get(tenant_id=tenant_id)
    tenant.version = expected_version
    tenant = tenant_update(tenant=tenant, **changes)
    _audit(tenant_id, "tenant.updated", actor, fields=sorted(changes))
    return tenant


def tenant_offboard(*, tenant_id: str, confirm_slug: str, actor: str) -> str:
    """Export the tenant's data to the assets bucket as JSON, then remove everything of the tenant.

    Irreversible: ``confirm_slug`` must equal the slug. Returns the S3 key of the export. Safe to run
    again if it stops half-way (every removal tolerates an already-removed resource).
    """
    if confirm_slug != tenant_id:
        raise ValidationFailed("Type the tenant's slug exactly to confirm offboarding.", code="confirmation_mismatch")
    tenant = tenant_get(tenant_id=tenant_id)
    if tenant.is_default:
        raise Conflict("The shared learners tenant cannot be offboarded.", code="default_tenant")
    if tenant.status is not TenantStatus.OFFBOARDING:
        tenant = tenant_update(tenant=tenant, status=TenantStatus.OFFBOARDING)
    data_table = Table(tenant_data_table_name(tenant_id=tenant_id))
    data_items = list(data_table.query_all(QueryScope(tenant_id, data_table.name, "", tenant_pk(tenant_id), "")))
    key = _export(tenant, data_items)

    pool_id = tenant.identity.get("user_pool_id", "")
    if tenant.isolation is Isolation.SILO:
        if pool_id:
            provisioning.remove_pool(pool_id)
        tables.drop_table(tables.silo_table(tenant_id))
    elif pool_id:
        provisioning.remove_users(pool_id, provisioning.tenant_usernames(pool_id, tenant_id))
        provisioning.remove_group(pool_id, tenant_id)
        if tenant.identity.get("client_id"):
            provisioning.remove_app_client(pool_id, tenant.identity["client_id"])
    if tenant.api_key_id:
        provisioning.remove_api_key(tenant.api_key_id, tenant.tier.value)
    if tenant.isolation is Isolation.POOLED:
        data_table.batch_delete([{"PK": i["PK"], "SK": i["SK"]} for i in data_items])
    if tenant.identity.get("client_id"):
        repository.client_delete(tenant.identity["client_id"])
    repository.delete_everything(tenant_id)
    tenant_cache_clear(tenant_id=tenant_id)
    return key


def _export(tenant: Tenant, data_items: list[dict]) -> str:
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    key = f"exports/{tenant.tenant_id}/{stamp}.json"
    document = {
        "tenant_id": tenant.tenant_id,
        "exported_at": clock.to_iso(clock.now()),
        "tenant": {k: v for k, v in vars(tenant).items() if k != "status_token_hash"},
        "onboarding_steps": [vars(s) for s in repository.steps(tenant.tenant_id)],
        "audit_events": [vars(e) for e in _all_events(tenant.tenant_id)],
        "items": [i for i in data_items if not str(i.get("SK", "")).startswith("UNIQ#")],
    }
    aws.client("s3").put_object(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET,
        Key=key,
        Body=json.dumps(document, default=str, indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return key


def _all_events(tenant_id: str) -> list:
    events, cursor = [], None
    while True:
        page = repository.events(tenant_id, limit=100, cursor=cursor)
        events += page.items
        cursor = page.cursor
        if not cursor:
            return events
