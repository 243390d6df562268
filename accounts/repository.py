"""DynamoDB adapter for a tenant's users, in the tenant's data table (pooled or silo).

Items:
- user:          PK ``TENANT#<tid>``, SK ``USER#<user_id>``
- email marker:  PK ``TENANT#<tid>``, SK ``UNIQ#EMAIL#<email>`` (same transaction as the user)
Every function takes ``tenant_id`` first; keys are built from it and nothing else.
"""

from __future__ import annotations

from typing import Any

from accounts.domain import Role, User, UserStatus
from cloudkida import aws
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Page, Prefix, QueryScope, Table, Unique, tenant_pk
from cloudkida.dynamo.keys import entity_sk, join
from tenants.selectors import tenant_data_table_name


def _table(tenant_id: str) -> Table:
    """The tenant's data table, reached with the request's tenant-scoped credentials when it has them."""
    return Table(tenant_data_table_name(tenant_id=tenant_id), credentials=aws.scoped_credentials(tenant_id))


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


def create(tenant_id: str, user: User) -> User:
    """Write a new user; Conflict if the email is already used in this tenant."""
    if user.tenant_id != tenant_id:
        raise ValueError("user.tenant_id must be the tenant it is written to")
    return _from_item(_table(tenant_id).create(_to_item(user), unique=[_email_unique(tenant_id, user.email)]))


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
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}
    swap = []
    if "email" in values:
        values["email"] = values["email"].lower()
        if values["email"] != user.email:
            swap.append((_email_unique(tenant_id, user.email), _email_unique(tenant_id, values["email"])))
    item = _table(tenant_id).update(
        tenant_pk(tenant_id),
        entity_sk(Prefix.USER, user.user_id),
        expected_version=user.version,
        changes=values,
        swap_unique=swap,
    )
    return _from_item(item)


def delete(tenant_id: str, user: User) -> None:
    _table(tenant_id).delete(
        tenant_pk(tenant_id),
        entity_sk(Prefix.USER, user.user_id),
        expected_version=user.version,
        unique=[_email_unique(tenant_id, user.email)],
    )


def list_page(tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    """A page of the tenant's users in id order."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(Prefix.USER, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [_from_item(i) for i in page.items]
    return page
