"""DynamoDB adapter for tenants, in the control table.

Items:
- tenant:       PK ``TENANT#<id>``, SK ``META``; GSI1 ``TENANTS#STATUS#<status>`` / ``<created_at>#<id>``;
                GSI2 ``TENANTS`` / ``<created_at>#<id>`` (every tenant, newest last)
- name marker:  PK ``UNIQ#NAME#<name>``, SK ``UNIQ`` (written with the tenant, one transaction)
The slug is the tenant id, so the tenant item itself is the slug's uniqueness marker.
"""

from __future__ import annotations

from typing import Any

from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Page, Prefix, QueryScope, Table, Unique, tables
from cloudkida.dynamo.keys import join, tenant_pk
from tenants.domain import Tenant, TenantStatus, Tier

ALL_TENANTS = "TENANTS"


def _table() -> Table:
    return Table(tables.control_table().name)


def _key(tenant_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id), Prefix.META.value


def _status_partition(status: TenantStatus) -> str:
    return join(ALL_TENANTS, Prefix.STATUS, status.value)


def _to_item(tenant: Tenant) -> dict[str, Any]:
    pk, sk = _key(tenant.tenant_id)
    order = f"{to_iso(tenant.created_at)}#{tenant.tenant_id}"
    return {
        "PK": pk,
        "SK": sk,
        "GSI1PK": _status_partition(tenant.status),
        "GSI1SK": order,
        "GSI2PK": ALL_TENANTS,
        "GSI2SK": order,
        "entity": "tenant",
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "tier": tenant.tier.value,
        "status": tenant.status.value,
        "created_at": to_iso(tenant.created_at),
        "admin_email": tenant.admin_email,
        "country": tenant.country,
        "is_default": tenant.is_default,
        "identity": tenant.identity,
        "branding": tenant.branding,
        "data_table": tenant.data_table,
    }


def _from_item(item: dict[str, Any]) -> Tenant:
    return Tenant(
        tenant_id=item["tenant_id"],
        name=item["name"],
        tier=Tier(item["tier"]),
        status=TenantStatus(item["status"]),
        created_at=from_iso(item["created_at"]),
        admin_email=item.get("admin_email", ""),
        country=item.get("country", ""),
        is_default=bool(item.get("is_default")),
        identity=item.get("identity") or {},
        branding=item.get("branding") or {},
        data_table=item.get("data_table", ""),
        version=int(item["version"]),
    )


def name_unique(name: str) -> Unique:
    return Unique("name", " ".join(name.split()))


def create(tenant: Tenant) -> Tenant:
    """Write a new tenant; Conflict if the slug or the organisation name is taken."""
    item = _table().create(_to_item(tenant), unique=[name_unique(tenant.name)])
    return _from_item(item)


def get(tenant_id: str) -> Tenant | None:
    item = _table().get(*_key(tenant_id))
    return _from_item(item) if item else None


def update(tenant: Tenant, **changes: Any) -> Tenant:
    """Apply ``changes`` (entity field names) if ``tenant.version`` is still current."""
    attributes = {}
    for name, value in changes.items():
        if name == "status":
            attributes["status"] = TenantStatus(value).value
            attributes["GSI1PK"] = _status_partition(TenantStatus(value))
        elif name == "tier":
            attributes["tier"] = Tier(value).value
        else:
            attributes[name] = value
    swap = []
    if "name" in changes and changes["name"] != tenant.name:
        swap.append((name_unique(tenant.name), name_unique(changes["name"])))
    item = _table().update(
        *_key(tenant.tenant_id), expected_version=tenant.version, changes=attributes, swap_unique=swap
    )
    return _from_item(item)


def list_page(*, status: TenantStatus | None, tier: Tier | None, limit: int, cursor: str | None) -> Page:
    """One page of tenants, oldest first, optionally by status (an index partition) and tier (a filter)."""
    table = _table()
    if status:
        scope = QueryScope("", table.name, "GSI1", _status_partition(status), "")
    else:
        scope = QueryScope("", table.name, "GSI2", ALL_TENANTS, "")
    page = table.query(scope=scope, limit=limit, cursor=cursor, filters={"tier": tier.value} if tier else None)
    page.items = [_from_item(i) for i in page.items]
    return page


def delete(tenant: Tenant) -> None:
    _table().delete(*_key(tenant.tenant_id), expected_version=tenant.version, unique=[name_unique(tenant.name)])
