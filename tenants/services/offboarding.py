"""Offboarding: export everything a tenant owns, then remove all of it, leaving a platform audit record.

What a tenant owns is found from its id alone, by Query: its partition in the control table and in its
data table, plus the control-table items elsewhere that carry its ownership index (slug and name
markers, custom domains, app clients, integrator API keys). Every item kind is registered
(``cloudkida.dynamo.registry``); the removal report counts items per kind.
"""

from __future__ import annotations

import json
from collections import Counter

from django.conf import settings

from cloudkida import assets, aws, clock
from cloudkida.dynamo import Table, registry, tables
from cloudkida.errors import Conflict, ServiceUnavailable, ValidationFailed
from tenants import ports, provisioning, repository
from tenants.domain import Isolation, Tenant, TenantStatus
from tenants.selectors import tenant_cache_clear, tenant_get
from tenants.services.records import tenant_update

_SECRET_ATTRIBUTES = {"digest", "status_token_hash"}


def tenant_offboard(*, tenant_id: str, confirm_slug: str, actor: str) -> str:
    """Export the tenant's data to the assets bucket as JSON, then remove everything of the tenant.

    Irreversible: ``confirm_slug`` must equal the tenant's slug. Returns the S3 key of the export. Safe to
    run again if it stops half-way (every removal tolerates an already-removed resource, and the tenant
    record goes last). The offboarding is recorded in the platform audit trail, which outlives the tenant.
    """
    tenant = tenant_get(tenant_id=tenant_id)
    if confirm_slug != tenant.slug:
        raise ValidationFailed(
            "Type the tenant's subdomain exactly to confirm offboarding.", code="confirmation_mismatch"
        )
    if tenant.is_default:
        raise Conflict("The shared learners tenant cannot be offboarded.", code="default_tenant")
    if tenant.status is not TenantStatus.OFFBOARDING:
        tenant = tenant_update(tenant=tenant, status=TenantStatus.OFFBOARDING)
    # Listeners first (they end lab sessions, which writes to the tenant's partition), so what is then
    # exported and removed includes everything they wrote.
    removed: dict = {}
    for listener in ports.listeners():
        removed.update(listener.tenant_removing(tenant))
    control = Table(tables.control_table().name)
    data = Table(
        tenant.data_table if tenant.isolation is Isolation.SILO and tenant.data_table else tables.pooled_table().name
    )
    control_items = repository.owned_items(control, tenant_id)
    data_items = _data_items(data, tenant)
    key = _export(tenant, control_items, data_items)

    removed.update(_remove_identity(tenant))
    if tenant.api_key_id:
        provisioning.remove_api_key(tenant.api_key_id, tenant.tier.value)
        removed["usage_key"] = 1
    removed["assets"] = assets.delete_prefix(assets.tenant_prefix(tenant_id))
    kinds = Counter(_kind(control.name, i) for i in control_items) + Counter(_kind(data.name, i) for i in data_items)
    if tenant.isolation is Isolation.POOLED:
        data.batch_delete([{"PK": i["PK"], "SK": i["SK"]} for i in data_items])
    record = {"PK": f"TENANT#{tenant_id}", "SK": "META"}
    control.batch_delete([{"PK": i["PK"], "SK": i["SK"]} for i in control_items if _key(i) != _key(record)])
    repository.delete(tenant_get(tenant_id=tenant_id))  # last, and uncounted with it
    removed["items"] = dict(sorted(kinds.items()))
    repository.platform_event_add(
        action="tenant.offboarded",
        actor=actor,
        details={"tenant_id": tenant_id, "slug": tenant.slug, "name": tenant.name, "export": key, "removed": removed},
    )
    tenant_cache_clear(tenant_id=tenant_id)
    return key


def _data_items(data: Table, tenant: Tenant) -> list[dict]:
    """The tenant's data items; none if its silo table is already gone (a re-run)."""
    if tenant.isolation is Isolation.SILO and not tenant.data_table:
        return []
    try:
        return repository.owned_items(data, tenant.tenant_id)
    except ServiceUnavailable as error:  # the silo table was dropped by an earlier run that stopped later
        if tenant.isolation is Isolation.SILO and error.details.get("error") == "ResourceNotFoundException":
            return []
        raise


def _remove_identity(tenant: Tenant) -> dict:
    pool_id = tenant.identity.get("user_pool_id", "")
    if tenant.isolation is Isolation.SILO:
        if pool_id:
            provisioning.remove_pool(pool_id)
        tables.drop_table(tables.silo_table(tenant.tenant_id))
        return {"user_pool": 1 if pool_id else 0, "silo_table": 1}
    if not pool_id:
        return {}
    provisioning.remove_group(pool_id, tenant.tenant_id)
    if tenant.identity.get("client_id"):
        if provisioning.remove_app_client(pool_id, tenant.identity["client_id"]):
            provisioning.release_pooled_client(int(tenant.identity.get("shard", 0)))
    return {"group": 1, "app_client": 1 if tenant.identity.get("client_id") else 0}


def _key(item: dict) -> tuple[str, str]:
    return item["PK"], item["SK"]


def _kind(table_name: str, item: dict) -> str:
    kind = registry.kind_of(tables.table_kind(table_name), item["PK"], item["SK"])
    return kind.name if kind else "unregistered"


def _export(tenant: Tenant, control_items: list[dict], data_items: list[dict]) -> str:
    """Write every item the tenant owns (secrets left out) to ``exports/<tenant id>/<time>.json``."""
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    key = f"exports/{tenant.tenant_id}/{stamp}.json"

    def clean(item: dict) -> dict:
        return {k: v for k, v in item.items() if k not in _SECRET_ATTRIBUTES}

    document = {
        "tenant_id": tenant.tenant_id,
        "slug": tenant.slug,
        "exported_at": clock.to_iso(clock.now()),
        "tenant": {k: v for k, v in vars(tenant).items() if k not in _SECRET_ATTRIBUTES},
        "control_items": [clean(i) for i in control_items],
        "items": [clean(i) for i in data_items],
    }
    aws.client("s3").put_object(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET,
        Key=key,
        Body=json.dumps(document, default=str, indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return key
