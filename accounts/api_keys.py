"""Integrator API keys: created and revoked by tenant admins, shown once, stored only as a hash.

A key reads ``ck_<key id>_<secret>``. The key id (12 hex characters) is visible in listings and leads
to the key's record with one GetItem; the secret is never stored, only SHA-256 of the whole key.

Items (control table, so a key can be found before its tenant is known):
- key:  PK ``APIKEY#<key id>``, SK ``APIKEY``; GSI1 ``TENANT#<tid>#APIKEYS`` / ``<created_at>#<key id>``;
        GSI2 the tenant's ownership index (offboarding finds and removes it)
A key's record is read through a cache of ``CLOUDKIDA_AUTHZ_CACHE_SECONDS``: a revoked key stops working
within that time (at once in the process that revoked it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings

from accounts.domain import ApiKey
from cloudkida import clock
from cloudkida.cache import TTLCache
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Page, Prefix, QueryScope, Table, owner_index, tables, tenant_index_pk
from cloudkida.dynamo.keys import join
from cloudkida.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from cloudkida.identity.principal import Principal, Role, Scope
from tenants.services import audit

KEY_PREFIX = "ck"
MAX_ACTIVE_KEYS = 20
LAST_USED_RESOLUTION = timedelta(minutes=5)  # record last use at most this often per key


def _table() -> Table:
    return Table(tables.control_table().name)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_records = TTLCache(ttl_seconds=settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS)


def _to_item(key: ApiKey, digest: str) -> dict[str, Any]:
    pk = join(Prefix.API_KEY, key.key_id)
    return {
        "PK": pk,
        "SK": Prefix.API_KEY.value,
        **owner_index(key.tenant_id, pk),
        "GSI1PK": tenant_index_pk(key.tenant_id, "APIKEYS"),
        "GSI1SK": f"{to_iso(key.created_at)}#{key.key_id}",
        "entity": "api_key",
        "tenant_id": key.tenant_id,
        "key_id": key.key_id,
        "name": key.name,
        "scope": key.scope.value,
        "created_at": to_iso(key.created_at),
        "created_by": key.created_by,
        "digest": digest,
    }


def _from_item(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        tenant_id=item["tenant_id"],
        key_id=item["key_id"],
        name=item["name"],
        scope=Scope(item["scope"]),
        created_at=from_iso(item["created_at"]),
        created_by=item.get("created_by", ""),
        last_used_at=from_iso(item["last_used_at"]) if item.get("last_used_at") else None,
        revoked_at=from_iso(item["revoked_at"]) if item.get("revoked_at") else None,
        version=int(item["version"]),
    )


def api_key_list(*, tenant_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    """The tenant's keys, oldest first (revoked ones included, marked)."""
    table = _table()
    scope = QueryScope(tenant_id, table.name, "GSI1", tenant_index_pk(tenant_id, "APIKEYS"), "")
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [_from_item(i) for i in page.items]
    return page


def api_key_create(*, tenant_id: str, name: str, scope: str, created_by: str) -> tuple[ApiKey, str]:
    """A new key; returns it and the secret value, which is never shown again."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 80:
        raise ValidationFailed("Name the key (1 to 80 characters).", code="invalid_name")
    try:
        scope_value = Scope(scope)
    except ValueError as error:
        raise ValidationFailed("Scope must be read, write or admin.", code="invalid_scope") from error
    active = [k for k in api_key_list(tenant_id=tenant_id, limit=100).items if k.active]
    if len(active) >= MAX_ACTIVE_KEYS:
        raise ValidationFailed(
            f"A tenant may hold at most {MAX_ACTIVE_KEYS} active keys; revoke one first.", code="too_many_keys"
        )
    key = ApiKey(
        tenant_id=tenant_id,
        key_id=secrets.token_hex(6),
        name=name,
        scope=scope_value,
        created_at=clock.now(),
        created_by=created_by,
    )
    raw = f"{KEY_PREFIX}_{key.key_id}_{secrets.token_urlsafe(32)}"
    item = _table().create(_to_item(key, _digest(raw)))
    audit(tenant_id, "api_key.created", created_by, key_id=key.key_id, name=name, scope=scope_value.value)
    return _from_item(item), raw


def api_key_revoke(*, tenant_id: str, key_id: str, revoked_by: str) -> ApiKey:
    """Revoke a key of this tenant (NotFound for another tenant's key). Idempotent."""
    table = _table()
    item = table.get(join(Prefix.API_KEY, key_id), Prefix.API_KEY.value) if _well_formed_id(key_id) else None
    if not item or item["tenant_id"] != tenant_id:
        raise NotFound("No such API key.", code="api_key_not_found")
    if item.get("revoked_at"):
        return _from_item(item)
    updated = table.update(
        item["PK"],
        item["SK"],
        expected_version=item["version"],
        changes={"revoked_at": to_iso(clock.now()), "revoked_by": revoked_by},
    )
    _records.invalidate(key_id)
    audit(tenant_id, "api_key.revoked", revoked_by, key_id=key_id, name=item["name"])
    return _from_item(updated)


def _well_formed_id(key_id: str) -> bool:
    return isinstance(key_id, str) and len(key_id) == 12 and all(c in "0123456789abcdef" for c in key_id)


def api_key_authenticate(raw: str) -> Principal:
    """The Principal of a presented key, or NotAuthenticated. One GetItem (plus, at most every few
    minutes, an UpdateItem recording last use)."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not _well_formed_id(parts[1]):
        raise NotAuthenticated("The API key is not valid.", code="invalid_api_key")
    table = _table()
    _records.ttl = settings.CLOUDKIDA_AUTHZ_CACHE_SECONDS
    item = _records.get_or_load(parts[1], lambda: table.get(join(Prefix.API_KEY, parts[1]), Prefix.API_KEY.value))
    if not item or not hmac.compare_digest(item.get("digest", ""), _digest(raw)):
        raise NotAuthenticated("The API key is not valid.", code="invalid_api_key")
    if item.get("revoked_at"):
        raise NotAuthenticated("The API key has been revoked.", code="revoked_api_key")
    now = clock.now()
    last = from_iso(item["last_used_at"]) if item.get("last_used_at") else None
    if last is None or now - last >= LAST_USED_RESOLUTION:
        try:  # never recreate a key removed meanwhile as a stub: UpdateItem would
            table.upsert(
                item["PK"], item["SK"], set_values={"last_used_at": to_iso(now)}, condition="attribute_exists(PK)"
            )
        except Conflict as error:
            _records.invalidate(parts[1])
            raise NotAuthenticated("The API key is not valid.", code="invalid_api_key") from error
        item["last_used_at"] = to_iso(now)  # the cached copy too, so this process writes once per interval
    return Principal(
        tenant_id=item["tenant_id"],
        role=Role.TENANT_USER,
        subject=f"apikey:{item['key_id']}",
        method="api_key",
        scope=Scope(item["scope"]),
        key_name=item.get("name", ""),
    )


def api_key_cache_clear() -> None:
    _records.invalidate()
