"""DynamoDB adapter for tenants, in the control table.

Items (every tenant-owned one registered in ``tenants.apps``):
- tenant:       PK ``TENANT#<id>``, SK ``META``; GSI1 ``TENANTS#STATUS#<status>`` / ``<created_at>#<id>``;
                GSI2 ``TENANTS`` / ``<created_at>#<id>`` (every tenant, oldest first)
- slug marker:  PK ``UNIQ#SLUG#<slug>``, SK ``UNIQ`` → the tenant; after a rename it redirects to the new
                slug until ``reclaim_after`` and may then be taken by anyone
- name marker:  PK ``UNIQ#NAME#<name>``, SK ``UNIQ`` (written with the tenant, one transaction)
- step record:  PK ``TENANT#<id>``, SK ``STEP#<step name>`` (latest outcome and attempt count)
- audit event:  PK ``TENANT#<id>``, SK ``EVENT#<at>#<random>`` (append-only)
- custom domain: PK ``HOST#<hostname>``, SK ``HOST`` (written when the domain is verified: one tenant
                per domain)
- domain claim: PK ``TENANT#<id>``, SK ``DOMAIN#<hostname>``: a domain the tenant added, its DNS token and
                whether it is verified (pending claims of several tenants may coexist; only the one
                that proves the DNS record gets the ``HOST#`` item)
- app client:   PK ``CLIENT#<client id>``, SK ``CLIENT`` (which tenant a token's client belongs to)
- platform audit: PK ``PLATFORM#AUDIT``, SK ``<at>#<random>`` (outlives the tenants it mentions)
Markers, domains and clients live outside the tenant's partition and carry its ownership index
(``GSI2PK = TENANT#<id>#OWNED``).
"""

from __future__ import annotations

import secrets
from typing import Any

from cloudkida import clock
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Also, Page, Prefix, QueryScope, Table, Unique, owner_index, tables
from cloudkida.dynamo.keys import OWNED, OWNER_INDEX, join, tenant_index_pk, tenant_of_owner_pk, tenant_pk
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict
from tenants.domain import AuditEvent, CustomDomain, DomainStatus, SlugTarget, StepRecord, Tenant, TenantStatus, Tier

ALL_TENANTS = "TENANTS"
PLATFORM_AUDIT = join(Prefix.PLATFORM, "AUDIT")


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
        "slug": tenant.slug,
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
        slug=item["slug"],
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


def slug_unique(slug: str) -> Unique:
    return Unique("slug", slug)


def _marker_owner(unique: Unique) -> dict[str, Any] | None:
    key = unique.key()
    return _table().get(key["PK"], key["SK"])


def slug_target(slug: str) -> SlugTarget | None:
    """Who holds ``slug`` now: the tenant, or the tenant it redirects to during a rename's grace period.
    None when nobody does (a released slug past its grace period is free)."""
    marker = _marker_owner(slug_unique(slug))
    if not marker:
        return None
    reclaim_after = marker.get("reclaim_after")
    if reclaim_after is not None and int(reclaim_after) < int(clock.now().timestamp()):
        return None
    tenant_id = tenant_of_owner_pk(marker.get("owner_pk", ""))
    return SlugTarget(tenant_id, marker.get("redirect_to", "")) if tenant_id else None


def tenant_id_by_name(name: str) -> str:
    """The tenant that holds organisation name ``name`` (its uniqueness marker points to it), or ""."""
    marker = _marker_owner(name_unique(name))
    return tenant_of_owner_pk(marker["owner_pk"]) if marker else ""


COUNTS_SK = "TENANT_COUNTS"


def _count_change(table: Table, deltas: dict[str, int]) -> list[Also]:
    """Move the platform's tenant counts (by status and by tier) in the same transaction as the change."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return []
    names = {f"#c{n}": key for n, key in enumerate(deltas)}
    values = {f":c{n}": value for n, value in enumerate(deltas.values())}
    return [
        Also(
            {
                "Update": {
                    "TableName": table.name,
                    "Key": serialize({"PK": Prefix.PLATFORM.value, "SK": COUNTS_SK}),
                    "UpdateExpression": "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(deltas))),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": serialize(values),
                }
            },
            "tenant-counts",
        )
    ]


def counts() -> dict[str, dict[str, int]]:
    """Tenants by status and by tier, platform-wide: one GetItem."""
    item = _table().get(Prefix.PLATFORM.value, COUNTS_SK) or {}
    by_status = {s.value: int(item.get(f"status_{s.value}", 0)) for s in TenantStatus}
    by_tier = {t.value: int(item.get(f"tier_{t.value}", 0)) for t in Tier}
    return {"status": by_status, "tier": by_tier}


def create(tenant: Tenant) -> Tenant:
    """Write a new tenant (and count it); Conflict if the slug or the organisation name is taken."""
    table = _table()
    try:
        item = table.create(
            _to_item(tenant),
            unique=[slug_unique(tenant.slug), name_unique(tenant.name)],
            also=_count_change(table, {f"status_{tenant.status.value}": 1, f"tier_{tenant.tier.value}": 1}),
        )
    except Conflict as conflict:
        if getattr(conflict, "failed", ["item"])[0] == "slug":
            raise Conflict(
                f"The subdomain {tenant.slug!r} is already taken.",
                code="already_exists",
                details={"constraint": "slug", "slug": tenant.slug},
            ) from conflict
        raise
    return _from_item(item)


def get(tenant_id: str) -> Tenant | None:
    item = _table().get(*_key(tenant_id))
    return _from_item(item) if item else None


def update(tenant: Tenant, *, slug_grace_seconds: int = 0, **changes: Any) -> Tenant:
    """Apply ``changes`` (entity field names) if ``tenant.version`` is still current.

    A new name or slug moves its uniqueness marker in the same transaction; the old slug's marker is
    kept as a redirect to the new one for ``slug_grace_seconds``, then becomes free to take.
    """
    attributes = {}
    for name, value in changes.items():
        if name == "status":
            attributes["status"] = TenantStatus(value).value
            attributes["GSI1PK"] = _status_partition(TenantStatus(value))
        elif name == "tier":
            attributes["tier"] = Tier(value).value
        else:
            attributes[name] = value
    swap, release = [], []
    if "name" in changes and changes["name"] != tenant.name:
        swap.append((name_unique(tenant.name), name_unique(changes["name"])))
    if "slug" in changes and changes["slug"] != tenant.slug:
        old = slug_unique(tenant.slug)
        swap.append((old, slug_unique(changes["slug"])))
        until = int(clock.now().timestamp()) + slug_grace_seconds
        release.append((old, {"redirect_to": changes["slug"], "reclaim_after": until, "expires_at": until + 86400}))
    table = _table()
    deltas: dict[str, int] = {}
    if "status" in changes and TenantStatus(changes["status"]) is not tenant.status:
        deltas.update({f"status_{tenant.status.value}": -1, f"status_{TenantStatus(changes['status']).value}": 1})
    if "tier" in changes and Tier(changes["tier"]) is not tenant.tier:
        deltas.update({f"tier_{tenant.tier.value}": -1, f"tier_{Tier(changes['tier']).value}": 1})
    try:
        item = table.update(
            *_key(tenant.tenant_id),
            expected_version=tenant.version,
            changes=attributes,
            swap_unique=swap,
            release_unique=release,
            also=_count_change(table, deltas),
        )
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] == "slug":
            raise Conflict(
                f"The subdomain {changes['slug']!r} is already taken.",
                code="already_exists",
                details={"constraint": "slug", "slug": changes["slug"]},
            ) from conflict
        raise
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
    """Delete the tenant record (offboarding's last removal) and uncount it, in one transaction."""
    table = _table()
    deltas = {f"status_{tenant.status.value}": -1, f"tier_{tenant.tier.value}": -1}
    table.delete(*_key(tenant.tenant_id), expected_version=tenant.version, also=_count_change(table, deltas))


# --- custom domains --------------------------------------------------------------------------------


def _host_pk(hostname: str) -> str:
    return join(Prefix.HOST, hostname.lower())


def host_get(hostname: str) -> str:
    """The tenant id a verified custom domain belongs to, or ""."""
    item = _table().get(_host_pk(hostname), Prefix.HOST.value)
    return item["tenant_id"] if item and item.get("verified") else ""


def host_put(tenant_id: str, hostname: str, *, verified: bool) -> None:
    """Claim ``hostname`` for the tenant (Conflict if another tenant holds it)."""
    pk = _host_pk(hostname)
    _table().create(
        {
            "PK": pk,
            "SK": Prefix.HOST.value,
            **owner_index(tenant_id, pk),
            "tenant_id": tenant_id,
            "hostname": hostname.lower(),
            "verified": verified,
        }
    )


DOMAIN = "DOMAIN"


def _domain_from(item: dict[str, Any]) -> CustomDomain:
    return CustomDomain(
        tenant_id=item["tenant_id"],
        hostname=item["hostname"],
        token=item["token"],
        status=DomainStatus(item["status"]),
        created_at=from_iso(item["created_at"]),
        verified_at=from_iso(item["verified_at"]) if item.get("verified_at") else None,
        checked_at=from_iso(item["checked_at"]) if item.get("checked_at") else None,
        version=int(item["version"]),
    )


def domain_add(domain: CustomDomain) -> CustomDomain:
    """The tenant's claim on a domain (pending); Conflict if it has claimed it already."""
    item = {
        "PK": tenant_pk(domain.tenant_id),
        "SK": join(DOMAIN, domain.hostname),
        "entity": "domain-claim",
        "tenant_id": domain.tenant_id,
        "hostname": domain.hostname,
        "token": domain.token,
        "status": domain.status.value,
        "created_at": to_iso(domain.created_at),
    }
    return _domain_from(_table().create(item))


def domain_get(tenant_id: str, hostname: str) -> CustomDomain | None:
    item = _table().get(tenant_pk(tenant_id), join(DOMAIN, hostname), consistent=True)
    return _domain_from(item) if item else None


def domains_of(tenant_id: str) -> list[CustomDomain]:
    """The tenant's domains, pending and verified (one Query of its partition)."""
    table = _table()
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(DOMAIN, ""))
    return [_domain_from(i) for i in table.query_all(scope)]


def domain_checked(domain: CustomDomain, *, at: str) -> CustomDomain:
    item = _table().update(
        tenant_pk(domain.tenant_id),
        join(DOMAIN, domain.hostname),
        expected_version=domain.version,
        changes={"checked_at": at},
    )
    return _domain_from(item)


def domain_verified(domain: CustomDomain, *, at: str) -> CustomDomain:
    """Mark the claim verified and write the ``HOST#`` item that maps the domain to the tenant, in one
    transaction; Conflict (``host``) if another tenant's verified domain holds the name."""
    table = _table()
    pk = _host_pk(domain.hostname)
    host = {
        "PK": pk,
        "SK": Prefix.HOST.value,
        **owner_index(domain.tenant_id, pk),
        "tenant_id": domain.tenant_id,
        "hostname": domain.hostname,
        "verified": True,
        "version": 1,
    }
    claim = {
        "TableName": table.name,
        "Key": serialize({"PK": tenant_pk(domain.tenant_id), "SK": join(DOMAIN, domain.hostname)}),
        "UpdateExpression": "SET #status = :verified, verified_at = :at, checked_at = :at, #version = :next",
        "ConditionExpression": "#version = :expected",
        "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
        "ExpressionAttributeValues": serialize(
            {
                ":verified": DomainStatus.VERIFIED.value,
                ":at": at,
                ":next": domain.version + 1,
                ":expected": domain.version,
            }
        ),
    }
    table.transact(
        [
            {"Update": claim},
            {
                "Put": {
                    "TableName": table.name,
                    "Item": serialize(host),
                    "ConditionExpression": "attribute_not_exists(PK) OR tenant_id = :tenant",
                    "ExpressionAttributeValues": serialize({":tenant": domain.tenant_id}),
                }
            },
        ],
        labels=["claim", "host"],
        values={"host": domain.hostname},
    )
    return domain_get(domain.tenant_id, domain.hostname) or domain


def domain_remove(domain: CustomDomain) -> None:
    """Delete the claim and, if the domain maps to this tenant, its ``HOST#`` item (one transaction)."""
    table = _table()
    operations = [
        {
            "Delete": {
                "TableName": table.name,
                "Key": serialize({"PK": tenant_pk(domain.tenant_id), "SK": join(DOMAIN, domain.hostname)}),
            }
        }
    ]
    if host_get(domain.hostname) == domain.tenant_id:
        operations.append(
            {
                "Delete": {
                    "TableName": table.name,
                    "Key": serialize({"PK": _host_pk(domain.hostname), "SK": Prefix.HOST.value}),
                    "ConditionExpression": "tenant_id = :tenant",
                    "ExpressionAttributeValues": serialize({":tenant": domain.tenant_id}),
                }
            }
        )
    table.transact(operations, labels=["claim", "host"], values={})


def hosts_of(tenant_id: str) -> list[str]:
    """The tenant's verified custom domains (one Query of its ownership index)."""
    table = _table()
    scope = QueryScope(tenant_id, table.name, OWNER_INDEX, tenant_index_pk(tenant_id, OWNED), join(Prefix.HOST, ""))
    return sorted(i["hostname"] for i in table.query_all(scope) if i.get("verified"))


# --- app clients (which tenant an OIDC client id belongs to) -------------------------------------------


def _client_pk(client_id: str) -> str:
    return join(Prefix.CLIENT, client_id)


def client_put(client_id: str, tenant_id: str) -> None:
    """Record the tenant of an app client (a retry that finds the same record is fine)."""
    pk = _client_pk(client_id)
    try:
        _table().create({"PK": pk, "SK": Prefix.CLIENT.value, **owner_index(tenant_id, pk), "tenant_id": tenant_id})
    except Conflict:
        if client_get(client_id) != tenant_id:
            raise


def client_get(client_id: str) -> str:
    item = _table().get(_client_pk(client_id), Prefix.CLIENT.value) if client_id else None
    return item["tenant_id"] if item else ""


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


EVENTS_MAX_READS = 10  # Query requests a filtered audit page may make to fill itself


def events(
    tenant_id: str,
    *,
    limit: int = 100,
    cursor: str | None = None,
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
) -> Page:
    """The tenant's audit trail, newest first; optionally one actor's, one action's, and between two
    times (ISO 8601, inclusive): a Query on ``EVENT#`` sort keys between the times, filtered."""
    table = _table()
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(Prefix.EVENT, ""))
    filters = {k: v for k, v in (("actor", actor), ("action", action)) if v}
    between = None
    if since or until:
        between = (join(Prefix.EVENT, since), join(Prefix.EVENT, until) + "#~" if until else join(Prefix.EVENT, "~"))
    page = table.query(
        scope=scope,
        limit=limit,
        cursor=cursor,
        forward=False,
        filters=filters or None,
        sk_between=between,
        max_reads=EVENTS_MAX_READS if filters else 1,
    )
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


def platform_event_add(*, action: str, actor: str, details: dict) -> None:
    """Append to the platform audit trail, which outlives the tenants it mentions."""
    now = clock.now()
    _table().create(
        {
            "PK": PLATFORM_AUDIT,
            "SK": f"{to_iso(now)}#{secrets.token_hex(4)}",
            "at": to_iso(now),
            "action": action,
            "actor": actor,
            "details": details,
        }
    )


def platform_events(*, limit: int = 100, cursor: str | None = None) -> Page:
    """The platform audit trail, newest first."""
    table = _table()
    page = table.query(
        scope=QueryScope("", table.name, "", PLATFORM_AUDIT, ""), limit=limit, cursor=cursor, forward=False
    )
    page.items = [
        AuditEvent(
            tenant_id=i["details"].get("tenant_id", ""),
            at=from_iso(i["at"]),
            action=i["action"],
            actor=i["actor"],
            details=i.get("details") or {},
        )
        for i in page.items
    ]
    return page


# --- everything a tenant owns (offboarding and export) -----------------------------------------------


def owned_items(table: Table, tenant_id: str) -> list[dict[str, Any]]:
    """Every item of the tenant in ``table``: its partition, plus (control table) the items elsewhere that
    carry its ownership index. One Query per partition, page by page."""
    items = list(table.query_all(QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), "")))
    if table.name == tables.control_table().name:
        scope = QueryScope(tenant_id, table.name, OWNER_INDEX, tenant_index_pk(tenant_id, OWNED), "")
        items += list(table.query_all(scope))
    return items
