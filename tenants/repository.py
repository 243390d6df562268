"""DynamoDB adapter for tenants, in the control table.

Items:
- tenant:       PK ``TENANT#<id>``, SK ``META``; GSI1 ``TENANTS#STATUS#<status>`` / ``<created_at>#<id>``;
                GSI2 ``TENANTS`` / ``<created_at>#<id>`` (every tenant, newest last)
- name marker:  PK ``UNIQ#NAME#<name>``, SK ``UNIQ`` (written with the tenant, one transaction)
- step record:  PK ``TENANT#<id>``, SK ``STEP#<step name>`` (latest outcome and attempt count)
- audit event:  PK ``TENANT#<id>``, SK ``EVENT#<at>#<random>`` (append-only)
The slug is the tenant id, so the tenant item itself is the slug's uniqueness marker.
"""

from __future__ import annotations

import secrets
from typing import Any

from cloudkida import clock
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Page, Prefix, QueryScope, Table, Unique, tables
from cloudkida.dynamo.keys import join, tenant_pk
from cloudkida.errors import Conflict
from tenants.domain import AuditEvent, StepRecord, Tenant, TenantStatus, Tier

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
        "admin_name": tenant.admin_name,
        "phone": tenant.phone,
        "address": tenant.address,
        "api_key_id": tenant.api_key_id,
        "failed_step": tenant.failed_step,
        "failure_reason": tenant.failure_reason,
        "status_token_hash": tenant.status_token_hash,
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
        admin_name=item.get("admin_name", ""),
        phone=item.get("phone", ""),
        address=item.get("address", ""),
        api_key_id=item.get("api_key_id", ""),
        failed_step=item.get("failed_step", ""),
        failure_reason=item.get("failure_reason", ""),
        status_token_hash=item.get("status_token_hash", ""),
        version=int(item["version"]),
    )


def name_unique(name: str) -> Unique:
    return Unique("name", " ".join(name.split()))


def tenant_id_by_name(name: str) -> str:
    """The tenant that holds organisation name ``name`` (its uniqueness marker points to it), or ""."""
    key = name_unique(name).key()
    marker = _table().get(key["PK"], key["SK"])
    return marker["owner_pk"].split("#", 1)[1] if marker else ""


def create(tenant: Tenant) -> Tenant:
    """Write a new tenant; Conflict if the slug or the organisation name is taken."""
    try:
        item = _table().create(_to_item(tenant), unique=[name_unique(tenant.name)])
    except Conflict as conflict:
        if getattr(conflict, "failed", ["item"])[0] != "item":
            raise
        raise Conflict(
            f"The subdomain {tenant.tenant_id!r} is already taken.",
            code="already_exists",
            details={"constraint": "slug", "slug": tenant.tenant_id},
        ) from conflict
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


# --- custom domains --------------------------------------------------------------------------------


def host_get(hostname: str) -> str:
    """The tenant id a verified custom domain belongs to, or ""."""
    item = _table().get(join(Prefix.HOST, hostname.lower()), Prefix.HOST.value)
    return item["tenant_id"] if item and item.get("verified") else ""


def host_put(tenant_id: str, hostname: str, *, verified: bool) -> None:
    """Claim ``hostname`` for the tenant (Conflict if another tenant holds it)."""
    _table().create(
        {
            "PK": join(Prefix.HOST, hostname.lower()),
            "SK": Prefix.HOST.value,
            "tenant_id": tenant_id,
            "verified": verified,
        }
    )


# --- app clients (which tenant an OIDC client id belongs to) -------------------------------------------


def client_put(client_id: str, tenant_id: str) -> None:
    _table().upsert(join("CLIENT", client_id), "CLIENT", set_values={"tenant_id": tenant_id})


def client_get(client_id: str) -> str:
    item = _table().get(join("CLIENT", client_id), "CLIENT") if client_id else None
    return item["tenant_id"] if item else ""


def client_delete(client_id: str) -> None:
    _table().batch_delete([{"PK": join("CLIENT", client_id), "SK": "CLIENT"}])


# --- step log and audit trail (same partition as the tenant, so one Query reads each) ---------------


def _step_sk(step: str) -> str:
    return join(Prefix.STEP, step)


def step_started(tenant_id: str, step: str) -> int:
    """Mark ``step`` RUNNING and count the attempt; returns the attempt number (1 for the first)."""
    item = _table().upsert(
        tenant_pk(tenant_id),
        _step_sk(step),
        set_values={"status": "RUNNING", "started_at": to_iso(clock.now()), "step": step},
        add={"attempts": 1},
        remove=("finished_at", "error"),
    )
    return int(item["attempts"])


def step_finished(tenant_id: str, step: str, *, ok: bool, output: dict | None, error: str) -> None:
    _table().upsert(
        tenant_pk(tenant_id),
        _step_sk(step),
        set_values={
            "status": "SUCCEEDED" if ok else "FAILED",
            "finished_at": to_iso(clock.now()),
            "error": error,
            "output": output or {},
        },
    )


def steps(tenant_id: str) -> list[StepRecord]:
    table = _table()
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(Prefix.STEP, ""))
    return [
        StepRecord(
            name=i["step"],
            status=i["status"],
            attempts=int(i.get("attempts", 0)),
            started_at=from_iso(i["started_at"]),
            finished_at=from_iso(i["finished_at"]) if i.get("finished_at") else None,
            error=i.get("error", ""),
            output=i.get("output") or {},
        )
        for i in table.query_all(scope)
    ]


def event_add(event: AuditEvent) -> None:
    """Append an audit event (never overwritten: the sort key is time plus a random suffix)."""
    _table().create(
        {
            "PK": tenant_pk(event.tenant_id),
            "SK": join(Prefix.EVENT, to_iso(event.at), secrets.token_hex(4)),
            "at": to_iso(event.at),
            "action": event.action,
            "actor": event.actor,
            "details": event.details,
        }
    )


def events(tenant_id: str, *, limit: int = 100, cursor: str | None = None) -> Page:
    """The tenant's audit trail, newest first."""
    table = _table()
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(Prefix.EVENT, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor, forward=False)
    page.items = [
        AuditEvent(
            tenant_id=tenant_id,
            at=from_iso(i["at"]),
            action=i["action"],
            actor=i["actor"],
            details=i.get("details") or {},
        )
        for i in page.items
    ]
    return page


def delete_everything(tenant_id: str) -> int:
    """Delete every control-table item in the tenant's partition (record, steps, events) and its
    name marker. Offboarding only. Returns the number of items deleted."""
    table = _table()
    tenant = get(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), "")
    keys = [{"PK": i["PK"], "SK": i["SK"]} for i in table.query_all(scope)]
    if tenant is not None:
        keys.append(name_unique(tenant.name).key())
    return table.batch_delete(keys)
