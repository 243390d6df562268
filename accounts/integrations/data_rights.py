"""Per-person data rights: export everything CloudKida holds about one person of a tenant, and erase it.

What is searched: every item of the tenant's partition in its data table and in the control table (people,
groups, imports and their reports, lab sessions and progress, webhook events and deliveries, the audit
trail, queued emails), the items the tenant owns outside its partition (its ownership index), the person's
Cognito sign-in, and the uploaded import files that name them. An item names the person when one of its
values is their user id or contains their email address. That is found by Query (never Scan), so a kind
added later is covered without being listed here.

Erasure: the person is deleted the way ``user_delete`` does it (record, email marker, counts, group
memberships, Cognito sign-in); every other item that names them keeps its place with their email replaced by
a pseudonym (``erased-<hash>@erased.invalid``) and their name by "Erased person"; emails still queued for
them are deleted; import files are rewritten the same way. Items that carry only their user id (lab
sessions, progress, counters) stay as they are: the id is random and, once the sign-in is gone, names no
one, so usage figures remain for invoices. The erasure itself is audited, under the pseudonym.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from accounts import cognito
from accounts.selectors import user_find
from accounts.services import user_delete
from cloudkida import aws, clock
from cloudkida.dynamo import QueryScope, Table, registry, tables, tenant_data_table, tenant_index_pk, tenant_pk
from cloudkida.dynamo.store import serialize
from cloudkida.errors import NotFound
from tenants.selectors import tenant_get_cached
from tenants.services import audit

ERASED_NAME = "Erased person"
COGNITO_ATTRIBUTES = {"email", "name", "sub", "email_verified", "custom:userRole", "custom:tenantId"}
# Deleted rather than pseudonymised: mail still queued for the person, and the way back to their learning
# platform (LTI links carry the platform's own id for them).
DELETE_KINDS = {"email-outbox", "lti-link"}
_KEYS = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"}


def _pseudonym(tenant_id: str, user_id: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{tenant_id}:{user_id}".encode()).hexdigest()[:12]
    return f"erased-{digest}@erased.invalid"


def _tables(tenant_id: str) -> list[tuple[str, Table]]:
    return [("tenant-data", tenant_data_table(tenant_id)), ("control", Table(tables.control_table().name))]


def _items(tenant_id: str) -> Iterator[tuple[str, Table, dict[str, Any]]]:
    """Every item of the tenant: its partition in both tables, then what its ownership index lists."""
    for kind, table in _tables(tenant_id):
        yield from (
            (kind, table, i) for i in table.query_all(QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), ""))
        )
        owned = QueryScope(tenant_id, table.name, "GSI2", tenant_index_pk(tenant_id, "OWNED"), "")
        yield from ((kind, table, i) for i in table.query_all(owned))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from _strings(v)


def _names(item: dict[str, Any], user_id: str, email: str) -> bool:
    return any(s == user_id or user_id in s.split("#") or email in s.lower() for s in _strings(item))


def _replace(value: Any, email: str, pseudonym: str, name: str, key: str = "") -> Any:
    if isinstance(value, str):
        if name and key in {"name", "user_name", "display_name", "admin_name"} and value == name:
            return ERASED_NAME
        lowered = value.lower()
        if email in lowered:
            start, out = 0, []
            while (at := lowered.find(email, start)) >= 0:
                out += [value[start:at], pseudonym]
                start = at + len(email)
            return "".join(out) + value[start:]
        return value
    if isinstance(value, dict):
        return {k: _replace(v, email, pseudonym, name, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, email, pseudonym, name, key) for v in value]
    if isinstance(value, set):
        return {_replace(v, email, pseudonym, name, key) for v in value}
    return value


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _KEYS}


def _subject(tenant_id: str, user_id: str):
    user = (
        user_find(tenant_id=tenant_id, user_id=user_id) if isinstance(user_id, str) and 0 < len(user_id) <= 64 else None
    )
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def personal_data_export(*, tenant_id: str, user_id: str) -> dict[str, Any]:
    """Everything held about the person ``user_id`` of ``tenant_id`` (NotFound for anyone else's)."""
    user = _subject(tenant_id, user_id)
    email = user.email.lower()
    found = []
    for table_kind, _table, item in _items(tenant_id):
        if _names(item, user.user_id, email):
            kind = registry.kind_of(table_kind, item.get("PK", ""), item.get("SK", ""))
            found.append({"kind": kind.name if kind else "unknown", "record": _public(item)})
    pool_id = tenant_get_cached(tenant_id=tenant_id).identity.get("user_pool_id", "")
    sign_in = cognito.user_attributes(pool_id, user.email) if pool_id else {}
    return {
        "user_id": user.user_id,
        "exported_at": clock.to_iso(clock.now()),
        "items": found,
        "sources": {
            "cognito": {k: v for k, v in sign_in.items() if k in COGNITO_ATTRIBUTES},
            "uploaded_files": _files_naming(tenant_id, email),
        },
    }


def _file_text(key: str) -> str | None:
    try:
        body = aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key)["Body"].read()
        return body.decode("utf-8")
    except (ClientError, UnicodeDecodeError):
        return None


def _files_naming(tenant_id: str, email: str) -> list[str]:
    """The uploaded files (import sources) of the tenant that contain the person's email."""
    keys = {item["file_key"] for _k, _t, item in _items(tenant_id) if isinstance(item.get("file_key"), str)}
    return sorted(k for k in keys if email in (_file_text(k) or "").lower())


def _rewrite_file(key: str, email: str, pseudonym: str, name: str) -> bool:
    """Replace the person's email, and their name on the lines that hold it, in an uploaded file."""
    text = _file_text(key)
    if text is None:
        return False
    lines = []
    for line in text.splitlines(keepends=True):
        if email in line.lower():
            line = _replace(line, email, pseudonym, "")
            if name:
                line = line.replace(name, ERASED_NAME)
        lines.append(line)
    rewritten = "".join(lines)
    if rewritten == text:
        return False
    aws.client("s3").put_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key, Body=rewritten.encode("utf-8"))
    return True


def personal_data_erase(*, tenant_id: str, user_id: str, actor: str) -> dict[str, Any]:
    """Erase the person (see the module docstring); 409 ``last_admin`` for the last active admin."""
    user = _subject(tenant_id, user_id)
    email, name, pseudonym = user.email.lower(), user.name, _pseudonym(tenant_id, user.user_id)
    files_naming = _files_naming(tenant_id, email)
    user_delete(tenant_id=tenant_id, user_id=user.user_id, actor=actor)
    removed, pseudonymised = 1, 0
    files = sum(_rewrite_file(key, email, pseudonym, name) for key in files_naming)
    for table_kind, table, item in list(_items(tenant_id)):
        if not _names(item, user.user_id, email):
            continue
        kind = registry.kind_of(table_kind, item.get("PK", ""), item.get("SK", ""))
        if (kind is None or kind.name not in DELETE_KINDS) and not any(email in s.lower() for s in _strings(item)):
            continue  # only the random user id: kept (sessions, progress, usage)
        if (
            (kind is not None and kind.name in DELETE_KINDS)
            or email in item.get("PK", "").lower()
            or email in item.get("SK", "").lower()
        ):
            table.batch_delete([{"PK": item["PK"], "SK": item["SK"]}])
            removed += 1
            continue
        rewritten = _replace(item, email, pseudonym, name)
        rewritten.update({k: item[k] for k in ("PK", "SK") if k in item})
        put: dict[str, Any] = {"TableName": table.name, "Item": serialize(rewritten)}
        if "version" in item:  # never overwrite a change made meanwhile
            put["ConditionExpression"] = "#v = :v"
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = serialize({":v": item["version"]})
        table.transact([{"Put": put}], labels=["item"], values={})
        pseudonymised += 1
    audit(tenant_id, "user.erased", actor, user_id=user.user_id, pseudonym=pseudonym, pseudonymised=pseudonymised)
    return {
        "user_id": user.user_id,
        "pseudonym": pseudonym,
        "erased_at": clock.to_iso(clock.now()),
        "removed": removed,
        "pseudonymised": pseudonymised,
        "sources": {"cognito": "sign-in deleted", "import_files_rewritten": files},
    }
