"""DynamoDB adapter for a tenant's users, in the tenant's data table (pooled or silo).

Items (all in the tenant's partition):
- user:          PK ``TENANT#<tid>``, SK ``USER#<user_id>``
- email marker:  PK ``TENANT#<tid>``, SK ``UNIQ#EMAIL#<email>`` (same transaction as the user)
- user counts:   PK ``TENANT#<tid>``, SK ``COUNTER#USERS``: ``active_users`` and ``active_admins``, moved in
                 the same transaction as every user write, so "the last active TenantAdmin cannot be
                 demoted, disabled or deleted" and "no more active users than the plan's seats" hold
                 under concurrent changes
A user item keeps ``search``, its name and email lower-cased, for the list's substring search (a filter on
the tenant's partition Query); a user created by a bulk import keeps the import's id (``import_id``).
Every function takes ``tenant_id`` first; keys are built from it and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.domain import Group, ImportRow, ImportStatus, Policy, Role, RowOutcome, User, UserImport, UserStatus
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Also, Page, Prefix, QueryScope, Table, Unique, tenant_data_table, tenant_pk
from cloudkida.dynamo.keys import entity_sk, join
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict

COUNTS_SK = join(Prefix.COUNTER, "USERS")
LAST_ADMIN = "last_admin"
SEAT_LIMIT = "seat_limit_reached"
# Query requests a filtered (searched) list page may make to fill itself before it returns what it has.
SEARCH_MAX_READS = 10


def search_text(name: str, email: str) -> str:
    """What the user list's search matches: name and email, lower-cased."""
    return f"{' '.join(name.split()).lower()}\n{email.strip().lower()}"


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
        "search": search_text(user.name, user.email),
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


def _counts_change(table: Table, tenant_id: str, users: int, admins: int, seats: int | None = None) -> list[Also]:
    """Move the tenant's counts; a change that would leave no active admin fails as ``last_admin``, one
    that would make more active users than ``seats`` (None: no limit) as ``seat_limit_reached``."""
    if not users and not admins:
        return []
    values: dict[str, Any] = {":u": users, ":a": admins}
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": serialize({"PK": tenant_pk(tenant_id), "SK": COUNTS_SK}),
        "UpdateExpression": "ADD active_users :u, active_admins :a",
    }
    label, message = LAST_ADMIN, "This is the organisation's last active TenantAdmin: make someone else an admin first."
    if admins < 0:
        update["ConditionExpression"] = "active_admins > :one"
        values[":one"] = -admins
    elif users > 0 and seats is not None:
        update["ConditionExpression"] = "attribute_not_exists(active_users) OR active_users <= :cap"
        values[":cap"] = seats - users
        label, message = SEAT_LIMIT, f"Every seat of the plan ({seats}) is taken."
    update["ExpressionAttributeValues"] = serialize(values)
    return [Also({"Update": update}, label, message, label)]


def create(
    tenant_id: str, user: User, *, seats: int | None = None, import_id: str = "", events: Sequence[Also] = ()
) -> User:
    """Write a new user (and count it); Conflict if the email is already used in this tenant, or
    (``seat_limit_reached``) if the tenant's ``seats`` are all taken."""
    if user.tenant_id != tenant_id:
        raise ValueError("user.tenant_id must be the tenant it is written to")
    table = _table(tenant_id)
    users, admins = _weights(user.role, user.status)
    item = table.create(
        {**_to_item(user), **({"import_id": import_id} if import_id else {})},
        unique=[_email_unique(tenant_id, user.email)],
        also=[*_counts_change(table, tenant_id, users, admins, seats), *events],
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


def update(
    tenant_id: str, user: User, *, seats: int | None = None, events: Sequence[Also] = (), **changes: Any
) -> User:
    """Apply ``changes`` if ``user`` (as read, with its version) is still current; the counts move in
    the same transaction, so demoting or disabling the last active admin is refused (``last_admin``),
    and enabling a user when every seat is taken too (``seat_limit_reached``)."""
    values = {k: (v.value if hasattr(v, "value") else v) for k, v in changes.items()}
    if "name" in values or "email" in values:
        values["search"] = search_text(values.get("name", user.name), values.get("email", user.email))
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
        also=[*_counts_change(table, tenant_id, after[0] - before[0], after[1] - before[1], seats), *events],
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


def list_page(
    tenant_id: str,
    *,
    limit: int,
    cursor: str | None,
    role: Role | None = None,
    status: UserStatus | None = None,
    search: str = "",
) -> Page:
    """A page of the tenant's users in id order, optionally only one role and/or status and those whose
    name or email contains ``search`` (case-insensitive): one Query of the tenant's partition with a
    filter; a filtered page reads on (at most ``SEARCH_MAX_READS`` requests) to fill itself."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(Prefix.USER, ""))
    filters = {k: v.value for k, v in (("role", role), ("status", status)) if v is not None}
    contains = {"search": search.strip().lower()} if search.strip() else None
    page = table.query(
        scope=scope,
        limit=limit,
        cursor=cursor,
        filters=filters or None,
        contains=contains,
        max_reads=SEARCH_MAX_READS if (filters or contains) else 1,
    )
    page.items = [_from_item(i) for i in page.items]
    return page


def emails_taken(tenant_id: str, emails: list[str]) -> dict[str, str]:
    """Which of ``emails`` are users of the tenant: email → user id, from the email markers (one
    BatchGetItem per 100 addresses)."""
    table = _table(tenant_id)
    keys = {_email_unique(tenant_id, e).key()["SK"]: e for e in emails}
    found = table.batch_get([{"PK": tenant_pk(tenant_id), "SK": sk} for sk in keys], consistent=True)
    prefix = join(Prefix.USER, "")
    return {
        keys[i["SK"]]: i["owner_sk"].removeprefix(prefix) for i in found if i.get("owner_pk") == tenant_pk(tenant_id)
    }


def get_many(tenant_id: str, user_ids: list[str]) -> dict[str, tuple[User, str]]:
    """Users by id, with the import that created each ("" if none): one BatchGetItem per 100."""
    table = _table(tenant_id)
    found = table.batch_get([{"PK": tenant_pk(tenant_id), "SK": entity_sk(Prefix.USER, u)} for u in user_ids])
    return {i["user_id"]: (_from_item(i), i.get("import_id", "")) for i in found}


# --- groups, memberships, policies -------------------------------------------------------------------
# Items (all in the tenant's partition):
# - group:        SK ``GROUP#<group id>`` (``member_count`` moves with every membership write)
# - group name:   SK ``UNIQ#GROUPNAME#<lower name>`` (same transaction as the group)
# - membership:   SK ``MEMBER#<group id>#<user id>`` and ``INGROUP#<user id>#<group id>``, written and deleted
#                 together, so "members of a group" and "groups of a user" are each one Query
# - policy:       SK ``POLICY#TENANT`` or ``POLICY#GROUP#<group id>``

GROUP, MEMBER, IN_GROUP, POLICY = "GROUP", "MEMBER", "INGROUP", "POLICY"


def _group_name_unique(tenant_id: str, name: str) -> Unique:
    return Unique("groupname", " ".join(name.split()), tenant_id=tenant_id)


def _group_from(item: dict[str, Any]) -> Group:
    return Group(
        tenant_id=item["tenant_id"],
        group_id=item["group_id"],
        name=item["name"],
        description=item.get("description", ""),
        created_at=from_iso(item["created_at"]),
        member_count=int(item.get("member_count", 0)),
        version=int(item["version"]),
    )


def group_create(tenant_id: str, group: Group) -> Group:
    """Write a new group; Conflict (``groupname``) if the tenant has a group of that name."""
    item = {
        "PK": tenant_pk(tenant_id),
        "SK": join(GROUP, group.group_id),
        "entity": "group",
        "tenant_id": tenant_id,
        "group_id": group.group_id,
        "name": group.name,
        "description": group.description,
        "created_at": to_iso(group.created_at),
        "member_count": 0,
    }
    return _group_from(_table(tenant_id).create(item, unique=[_group_name_unique(tenant_id, group.name)]))


def group_ids_by_name(tenant_id: str, names: list[str]) -> dict[str, str]:
    """Which of ``names`` are groups of the tenant: name → group id, from the name markers (one
    BatchGetItem per 100 names; names compare case- and space-insensitively)."""
    table = _table(tenant_id)
    keys = {_group_name_unique(tenant_id, n).key()["SK"]: n for n in names}
    found = table.batch_get([{"PK": tenant_pk(tenant_id), "SK": sk} for sk in keys], consistent=True)
    return {keys[i["SK"]]: i["owner_sk"].removeprefix(join(GROUP, "")) for i in found}


def group_get(tenant_id: str, group_id: str) -> Group | None:
    item = _table(tenant_id).get(tenant_pk(tenant_id), join(GROUP, group_id))
    return _group_from(item) if item else None


def groups_get(tenant_id: str, group_ids: list[str]) -> list[Group]:
    """Groups by id (one BatchGetItem per 100)."""
    if not group_ids:
        return []
    found = _table(tenant_id).batch_get([{"PK": tenant_pk(tenant_id), "SK": join(GROUP, g)} for g in group_ids])
    return [_group_from(i) for i in found]


def group_update(tenant_id: str, group: Group, **changes: Any) -> Group:
    """Rename or re-describe a group at its version; a new name moves its marker in the same transaction."""
    swap = []
    if "name" in changes and changes["name"] != group.name:
        swap.append((_group_name_unique(tenant_id, group.name), _group_name_unique(tenant_id, changes["name"])))
    item = _table(tenant_id).update(
        tenant_pk(tenant_id),
        join(GROUP, group.group_id),
        expected_version=group.version,
        changes=changes,
        swap_unique=swap,
    )
    return _group_from(item)


def group_delete(tenant_id: str, group: Group) -> None:
    """Delete an empty group (at its version), its name marker and its policy, in one transaction; a group
    that has members (or changed) is a Conflict."""
    table = _table(tenant_id)
    policy = {
        "Delete": {
            "TableName": table.name,
            "Key": serialize({"PK": tenant_pk(tenant_id), "SK": _policy_sk(group.group_id)}),
        }
    }
    table.delete(
        tenant_pk(tenant_id),
        join(GROUP, group.group_id),
        expected_version=group.version,
        unique=[_group_name_unique(tenant_id, group.name)],
        also=[Also(policy, "policy")],
        condition="member_count = :czero",
        condition_values={":czero": 0},
    )


def group_page(tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(GROUP, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [_group_from(i) for i in page.items]
    return page


def _member_keys(tenant_id: str, group_id: str, user_id: str) -> tuple[dict, dict]:
    pk = tenant_pk(tenant_id)
    return {"PK": pk, "SK": join(MEMBER, group_id, user_id)}, {"PK": pk, "SK": join(IN_GROUP, user_id, group_id)}


def _member_count(table: Table, tenant_id: str, group_id: str, delta: int) -> Also:
    return Also(
        {
            "Update": {
                "TableName": table.name,
                "Key": serialize({"PK": tenant_pk(tenant_id), "SK": join(GROUP, group_id)}),
                "UpdateExpression": "ADD member_count :d",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": serialize({":d": delta}),
            }
        },
        "group",
        "No such group.",
        "group_not_found",
    )


def member_add(tenant_id: str, group_id: str, user_id: str, *, added_at: str) -> bool:
    """Put a user in a group (both membership items and the count, one transaction). False if already in."""
    table = _table(tenant_id)
    forward, reverse = _member_keys(tenant_id, group_id, user_id)
    base = {
        "entity": "membership",
        "tenant_id": tenant_id,
        "group_id": group_id,
        "user_id": user_id,
        "added_at": added_at,
    }
    try:
        table.create(
            {**forward, **base},
            also=[
                Also(
                    {
                        "Put": {
                            "TableName": table.name,
                            "Item": serialize({**reverse, **base, "version": 1}),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    "membership",
                ),
                _member_count(table, tenant_id, group_id, 1),
            ],
        )
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] in {"item", "membership"}:
            return False
        raise
    return True


def member_remove(tenant_id: str, group_id: str, user_id: str) -> bool:
    """Take a user out of a group. False if not in it."""
    table = _table(tenant_id)
    forward, reverse = _member_keys(tenant_id, group_id, user_id)
    exists = {"ConditionExpression": "attribute_exists(PK)"}
    try:
        table.transact(
            [
                {"Delete": {"TableName": table.name, "Key": serialize(forward), **exists}},
                {"Delete": {"TableName": table.name, "Key": serialize(reverse)}},
                _member_count(table, tenant_id, group_id, -1).operation,
            ],
            labels=["item", "membership", "group"],
            values={},
        )
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] == "item":
            return False
        raise
    return True


def member_page(tenant_id: str, group_id: str, *, limit: int, cursor: str | None) -> Page:
    """A page of a group's member user ids."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(MEMBER, group_id, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [i["user_id"] for i in page.items]
    return page


def groups_of(tenant_id: str, user_id: str) -> list[str]:
    """The ids of the groups a user is in (one Query; a user is in few groups)."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(IN_GROUP, user_id, ""))
    return [i["group_id"] for i in table.query_all(scope)]


def _policy_sk(group_id: str) -> str:
    return join(POLICY, "GROUP", group_id) if group_id else join(POLICY, "TENANT")


_POLICY_FIELDS = ("allowed_lab_ids", "max_concurrent_labs", "monthly_lab_minutes", "allowed_regions")


def _policy_from(tenant_id: str, group_id: str, item: dict[str, Any] | None) -> Policy:
    if not item:
        return Policy(tenant_id=tenant_id, group_id=group_id)
    return Policy(
        tenant_id=tenant_id,
        group_id=group_id,
        allowed_lab_ids=item.get("allowed_lab_ids"),
        max_concurrent_labs=item.get("max_concurrent_labs"),
        monthly_lab_minutes=item.get("monthly_lab_minutes"),
        allowed_regions=item.get("allowed_regions"),
        version=int(item.get("version", 0)),
    )


def policy_get(tenant_id: str, group_id: str = "") -> Policy:
    """The tenant's (or a group's) policy; an unset one is an unrestricted Policy at version 0."""
    return _policy_from(tenant_id, group_id, _table(tenant_id).get(tenant_pk(tenant_id), _policy_sk(group_id)))


def policies_of_groups(tenant_id: str, group_ids: list[str]) -> list[Policy]:
    """The policies of several groups: one BatchGetItem per 100 groups (unset ones are left out)."""
    table = _table(tenant_id)
    keys = [{"PK": tenant_pk(tenant_id), "SK": _policy_sk(g)} for g in group_ids]
    found = table.batch_get(keys)
    return [_policy_from(tenant_id, i["SK"].rsplit("#", 1)[-1], i) for i in found]


def policy_put(tenant_id: str, policy: Policy) -> Policy:
    """Write the policy at its version (0: not yet written); None fields are removed."""
    table = _table(tenant_id)
    values = {f: getattr(policy, f) for f in _POLICY_FIELDS}
    pk, sk = tenant_pk(tenant_id), _policy_sk(policy.group_id)
    if policy.version == 0:
        item = table.create(
            {"PK": pk, "SK": sk, "entity": "policy", "tenant_id": tenant_id, "group_id": policy.group_id, **values}
        )
    else:
        item = table.update(
            pk,
            sk,
            expected_version=policy.version,
            changes={k: v for k, v in values.items() if v is not None},
            remove=[k for k, v in values.items() if v is None],
        )
    return _policy_from(tenant_id, policy.group_id, item)


# --- bulk imports ----------------------------------------------------------------------------------
# Items (in the tenant's partition):
# - import:        SK ``IMPORT#<import id>``: status, counts, checkpoint (``next_chunk``), group ids
# - import report: SK ``IMPORTROW#<import id>#<chunk, 6 digits>``: the outcome of each row of one chunk,
#                  written in the same transaction that moves the checkpoint past that chunk

IMPORT, IMPORT_ROWS = "IMPORT", "IMPORTROW"


def _import_sk(import_id: str) -> str:
    return join(IMPORT, import_id)


def _import_from(item: dict[str, Any]) -> UserImport:
    return UserImport(
        tenant_id=item["tenant_id"],
        import_id=item["import_id"],
        status=ImportStatus(item["status"]),
        created_at=from_iso(item["created_at"]),
        created_by=item.get("created_by", ""),
        filename=item.get("filename", ""),
        total_rows=int(item.get("total_rows", 0)),
        file_key=item.get("file_key", ""),
        processed_rows=int(item.get("processed_rows", 0)),
        created=int(item.get("created", 0)),
        already_members=int(item.get("already_members", 0)),
        invalid=int(item.get("invalid", 0)),
        next_chunk=int(item.get("next_chunk", 0)),
        group_ids=item.get("group_ids") or {},
        groups_resolved=bool(item.get("groups_resolved")),
        groups_created=int(item.get("groups_created", 0)),
        error=item.get("error", ""),
        updated_at=from_iso(item["updated_at"]) if item.get("updated_at") else None,
        finished_at=from_iso(item["finished_at"]) if item.get("finished_at") else None,
        version=int(item["version"]),
    )


def import_create(tenant_id: str, job: UserImport) -> UserImport:
    item = {
        "PK": tenant_pk(tenant_id),
        "SK": _import_sk(job.import_id),
        "entity": "user-import",
        "tenant_id": tenant_id,
        "import_id": job.import_id,
        "status": job.status.value,
        "created_at": to_iso(job.created_at),
        "updated_at": to_iso(job.created_at),
        "created_by": job.created_by,
        "filename": job.filename,
        "total_rows": job.total_rows,
        "file_key": job.file_key,
        "processed_rows": 0,
        "created": 0,
        "already_members": 0,
        "invalid": 0,
        "next_chunk": 0,
        "groups_created": 0,
    }
    return _import_from(_table(tenant_id).create(item))


def import_page(tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    """The tenant's imports, newest first."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(IMPORT, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor, forward=False)
    page.items = [_import_from(i) for i in page.items]
    return page


def import_get(tenant_id: str, import_id: str) -> UserImport | None:
    item = _table(tenant_id).get(tenant_pk(tenant_id), _import_sk(import_id), consistent=True)
    return _import_from(item) if item else None


def import_update(tenant_id: str, job: UserImport, *, events: Sequence[Also] = (), **changes: Any) -> UserImport:
    """Change the job at its version (status, group ids, error...)."""
    values = {
        k: (v.value if hasattr(v, "value") else to_iso(v) if hasattr(v, "isoformat") else v) for k, v in changes.items()
    }
    item = _table(tenant_id).update(
        tenant_pk(tenant_id), _import_sk(job.import_id), expected_version=job.version, changes=values, also=events
    )
    return _import_from(item)


def _row_item(row: ImportRow) -> dict[str, Any]:
    return {
        "row": row.row,
        "email": row.email,
        "name": row.name,
        "role": row.role,
        "groups": row.groups,
        "outcome": row.outcome.value,
        "reason": row.reason,
        "user_id": row.user_id,
    }


def _row_from(item: dict[str, Any]) -> ImportRow:
    return ImportRow(
        row=int(item["row"]),
        email=item.get("email", ""),
        name=item.get("name", ""),
        role=item.get("role", ""),
        groups=list(item.get("groups") or []),
        outcome=RowOutcome(item["outcome"]),
        reason=item.get("reason", ""),
        user_id=item.get("user_id", ""),
    )


def import_checkpoint(tenant_id: str, job: UserImport, chunk: int, rows: list[ImportRow], *, now: str) -> bool:
    """Record a processed chunk: its report and the job's counts and checkpoint, one transaction that
    holds only while the checkpoint is still at ``chunk``. False if another run recorded it first."""
    table = _table(tenant_id)
    counts = {o: sum(1 for r in rows if r.outcome is o) for o in RowOutcome}
    report = {
        "PK": tenant_pk(tenant_id),
        "SK": join(IMPORT_ROWS, job.import_id, f"{chunk:06d}"),
        "tenant_id": tenant_id,
        "import_id": job.import_id,
        "chunk": chunk,
        "rows": [_row_item(r) for r in rows],
        "version": 1,
    }
    progress = {
        "Update": {
            "TableName": table.name,
            "Key": serialize({"PK": tenant_pk(tenant_id), "SK": _import_sk(job.import_id)}),
            "UpdateExpression": "SET next_chunk = :next, updated_at = :now, #version = #version + :one "
            "ADD processed_rows :rows, created :created, already_members :existing, invalid :invalid",
            "ConditionExpression": "next_chunk = :chunk",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": serialize(
                {
                    ":next": chunk + 1,
                    ":chunk": chunk,
                    ":now": now,
                    ":one": 1,
                    ":rows": len(rows),
                    ":created": counts[RowOutcome.CREATED],
                    ":existing": counts[RowOutcome.ALREADY_MEMBER],
                    ":invalid": counts[RowOutcome.INVALID],
                }
            ),
        }
    }
    put = {
        "Put": {"TableName": table.name, "Item": serialize(report), "ConditionExpression": "attribute_not_exists(PK)"}
    }
    try:
        table.transact([put, progress], labels=["item", "checkpoint"], values={})
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] in {"item", "checkpoint"}:
            return False
        raise
    return True


def import_report_page(
    tenant_id: str, import_id: str, *, chunks: int, cursor: str | None
) -> tuple[list[ImportRow], str | None]:
    """The rows of up to ``chunks`` recorded chunks of an import, in file order, and a cursor."""
    table = _table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(IMPORT_ROWS, import_id, ""))
    page = table.query(scope=scope, limit=chunks, cursor=cursor)
    return [_row_from(r) for item in page.items for r in item.get("rows", [])], page.cursor
