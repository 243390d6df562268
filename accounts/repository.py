"""DynamoDB adapter for a tenant's users, in the tenant's data table (pooled or silo).

Items (all in the tenant's partition):
- user:          PK ``TENANT#<tid>``, SK ``USER#<user_id>``
- email marker:  PK ``TENANT#<tid>``, SK ``UNIQ#EMAIL#<email>`` (same transaction as the user)
- user counts:   PK ``TENANT#<tid>``, SK ``COUNTER#USERS``: ``active_users`` and ``active_admins``, moved in
                 the same transaction as every user write, so "the last active TenantAdmin cannot be
                 demoted, disabled or deleted" holds under concurrent changes
Every function takes ``tenant_id`` first; keys are built from it and nothing else.
"""

from __future__ import annotations

from typing import Any

from accounts.domain import Role, User, UserStatus
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Also, Page, Prefix, QueryScope, Table, Unique, tenant_data_table, tenant_pk
from cloudkida.dynamo.keys import entity_sk, join
from cloudkida.dynamo.store import serialize

COUNTS_SK = join(Prefix.COUNTER, "USERS")
LAST_ADMIN = "last_admin"


def _table(tenant_id: str) -> Table:
    """The tenant's data table, reached with the request's tenant-scoped credentials when it has them."""
    return tenant_data_table(tenant_id)


def _email_unique(tenant_id: str, email: str) -> Unique:
    return Unique("email", email, tenant_id=tenant_id)


def _to_item(user: User) -> dict[str, Any]:
    return {
        "PK": tenant_pk(user.tenant_id),
        "SK": entity_sk(Prefix.USER, user.user_id),
        "entity": "user",
        "tenant_id": user.tenant_id,
        "user_id": user.user_id,
        "email": user.email.lower(),
        "name": user.name,
        "role": user.role.value,
        "status": user.status.value,
        "created_at": to_iso(user.created_at),
    }


def _from_item(item: dict[str, Any]) -> User:
    return User(
        tenant_id=item["tenant_id"],
        user_id=item["user_id"],
        email=item["email"],
        name=item["name"],
        role=Role(item["role"]),
        status=UserStatus(item["status"]),
        created_at=from_iso(item["created_at"]),
        version=int(item["version"]),
    )


def _weights(role: Role, status: UserStatus) -> tuple[int, int]:
    """(active user, active admin) a user counts for."""
    active = status is UserStatus.ACTIVE
    return int(active), int(active and role is Role.TENANT_ADMIN)


def _counts_change(table: Table, tenant_id: str, users: int, admins: int) -> list[Also]:
    """Move the tenant's counts; a change that would leave no active admin fails as ``last_admin``."""
    if not users and not admins:
        return []
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": serialize({"PK": tenant_pk(tenant_id), "SK": COUNTS_SK}),
        "UpdateExpression": "ADD active_users :u, active_admins :a",
        "ExpressionAttributeValues": serialize({":u": users, ":a": admins}),
    }
    if admins < 0:
        update["ConditionExpression"] = "active_admins > :one"
        update["ExpressionAttributeValues"] = serialize({":u": users, ":a": admins, ":one": -admins})
    return [
        Also(
            {"Update": update},
            LAST_ADMIN,
            "This is the organisation's last active TenantAdmin: make someone else an admin first.",
            LAST_ADMIN,
        )
    ]


def create(tenant_id: str, user: User) -> User:
    """Write a new user (and count it); Conflict if the email is already used in this tenant."""
    if user.tenant_id != tenant_id:
        raise ValueError("user.tenant_id must be the tenant it is written to")
    table = _table(tenant_id)
    users, admins = _weights(user.role, user.status)
    item = table.create(
        _to_item(user),
        unique=[_email_unique(tenant_id, user.email)],
        also=_counts_change(table, tenant_id, users, admins),
    )
    return _from_item(item)


def get(tenant_id: str, user_id: str) -> User | None:
    item = _table(tenant_id).get(tenant_pk(tenant_id), entity_sk(Prefix.USER, user_id))
    return _from_item(item) if item else None


def get_by_email(tenant_id: str, email: str) -> User | None:
    """Two reads: the tenant's email marker, then the user it points to."""
    table = _table(tenant_id)
    marker_key = _email_unique(tenant_id, email).key()
    marker = table.get(marker_key["PK"], marker_key["SK"])
    if not marker or marker["owner_pk"] != tenant_pk(tenant_id):
        return None
    item = table.get(marker["owner_pk"], marker["owner_sk"])
    return _from_item(item) if item else None


def update(tenant_id: str, user: User, **changes: Any) -> User:
    """Apply ``changes`` if ``user`` (as read, with its version) is still current; the counts move in
    the same transaction, so demoting or disabling the last active admin is refused (``last_admin``)."""
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}
    table = _table(tenant_id)
    swap = []
    if "email" in values:
        values["email"] = values["email"].lower()
        if values["email"] != user.email:
            swap.append((_email_unique(tenant_id, user.email), _email_unique(tenant_id, values["email"])))
    before = _weights(user.role, user.status)
    after = _weights(Role(values.get("role", user.role)), UserStatus(values.get("status", user.status)))
    item = table.update(
        tenant_pk(tenant_id),
        entity_sk(Prefix.USER, user.user_id),
        expected_version=user.version,
        changes=values,
        swap_unique=swap,
        also=_counts_change(table, tenant_id, after[0] - before[0], after[1] - before[1]),
    )
    return _from_item(item)


def delete(tenant_id: str, user: User) -> None:
    table = _table(tenant_id)
    users, admins = _weights(user.role, user.status)
    table.delete(
        tenant_pk(tenant_id),
        entity_sk(Prefix.USER, user.user_id),
        expected_version=user.version,
        unique=[_email_unique(tenant_id, user.email)],
        also=_counts_change(table, tenant_id, -users, -admins),
    )


def counts(tenant_id: str) -> tuple[int, int]:
    """(active users, active admins) of the tenant: one GetItem."""
    item = _table(tenant_id).get(tenant_pk(tenant_id), COUNTS_SK) or {}
    return int(item.get("active_users", 0)), int(item.get("active_admins", 0))


def list_page(tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    """A page of the tenant's users in id order."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(Prefix.USER, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [_from_item(i) for i in page.items]
    return page
