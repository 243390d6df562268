"""DynamoDB adapter for the catalog: lab definitions, enabled global labs, assignments, learner progress.

Items:
- global lab:     control, PK ``LABS#GLOBAL``, SK ``LAB#<lab id>`` (few hundred at most: one partition)
- its slug:       control, PK ``UNIQ#LABSLUG#<slug>``, SK ``UNIQ`` (same transaction as the lab)
- tenant lab:     tenant data, PK ``TENANT#<tid>``, SK ``LAB#<lab id>``; slug marker ``UNIQ#LABSLUG#<slug>``
- enabled global: tenant data, SK ``LABON#<lab id>`` (the tenant offers that global lab to its people)
- assignment:     tenant data, SK ``ASSIGN#<lab id>#<user|group>#<id>`` and its mirror
                  ``ASSIGNEE#<user|group>#<id>#<lab id>``, written and deleted together, so "who has this
                  lab" and "which labs has this user or group" are each one Query
- progress:       tenant data, SK ``PROGRESS#<lab id>#<user id>`` (passed task ids, last results)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cloudkida.dynamo import Also, QueryScope, Table, Unique, tenant_pk
from cloudkida.dynamo.keys import join
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict
from labs.domain import Assignment, Lab, LabStatus, Level, Progress, Task
from labs.repository.common import control, dt, iso, tenant_table

GLOBAL_LABS = "LABS#GLOBAL"
LAB, LAB_ON, ASSIGN, ASSIGNEE, PROGRESS = "LAB", "LABON", "ASSIGN", "ASSIGNEE", "PROGRESS"


def _where(owner: str) -> tuple[Table, str]:
    """The table and partition of a lab of ``owner`` ("" for global)."""
    return (control(), GLOBAL_LABS) if not owner else (tenant_table(owner), tenant_pk(owner))


def _slug_unique(owner: str, slug: str) -> Unique:
    return Unique("labslug", slug, tenant_id=owner or None)


def _to_item(lab: Lab) -> dict[str, Any]:
    _table, pk = _where(lab.owner)
    return {
        "PK": pk,
        "SK": join(LAB, lab.lab_id),
        "entity": "lab",
        "lab_id": lab.lab_id,
        "owner": lab.owner,
        "slug": lab.slug,
        "title": lab.title,
        "summary": lab.summary,
        "instructions": lab.instructions,
        "level": lab.level.value,
        "duration_minutes": lab.duration_minutes,
        "max_duration_minutes": lab.max_duration_minutes,
        "allowed_regions": lab.allowed_regions,
        "allowed_services": lab.allowed_services,
        "budget_usd": lab.budget_usd,
        "status": lab.status.value,
        "revision": lab.revision,
        "template_key": lab.template_key,
        "template_validated": lab.template_validated,
        "tasks": [_task_item(t) for t in lab.tasks],
        "public": lab.public,
        "hot_pool_size": lab.hot_pool_size,
        "created_at": iso(lab.created_at),
        "updated_at": iso(lab.updated_at),
    }


def _task_item(task: Task) -> dict[str, Any]:
    return {"task_id": task.task_id, "title": task.title, "instructions": task.instructions, "check": task.check}


def _from_item(item: dict[str, Any]) -> Lab:
    return Lab(
        lab_id=item["lab_id"],
        owner=item.get("owner", ""),
        slug=item["slug"],
        title=item["title"],
        summary=item.get("summary", ""),
        instructions=item.get("instructions", ""),
        level=Level(item.get("level", "beginner")),
        duration_minutes=int(item["duration_minutes"]),
        max_duration_minutes=int(item["max_duration_minutes"]),
        allowed_regions=list(item.get("allowed_regions") or []),
        allowed_services=list(item.get("allowed_services") or []),
        budget_usd=float(item.get("budget_usd", 0)),
        status=LabStatus(item["status"]),
        revision=int(item.get("revision", 0)),
        template_key=item.get("template_key", ""),
        template_validated=bool(item.get("template_validated")),
        tasks=[Task(t["task_id"], t["title"], t.get("instructions", ""), t.get("check") or {}) for t in item["tasks"]]
        if item.get("tasks")
        else [],
        public=bool(item.get("public")),
        hot_pool_size=int(item.get("hot_pool_size", 0)),
        created_at=dt(item.get("created_at")),
        updated_at=dt(item.get("updated_at")),
        version=int(item["version"]),
    )


def lab_create(lab: Lab) -> Lab:
    """Write a new lab; Conflict (``labslug``) if its owner has a lab with that slug."""
    table, _pk = _where(lab.owner)
    return _from_item(table.create(_to_item(lab), unique=[_slug_unique(lab.owner, lab.slug)]))


def lab_get(owner: str, lab_id: str) -> Lab | None:
    table, pk = _where(owner)
    item = table.get(pk, join(LAB, lab_id))
    return _from_item(item) if item else None


def lab_update(lab: Lab, **changes: Any) -> Lab:
    """Apply ``changes`` if ``lab`` (as read) is still current; a new slug moves its marker in the same
    transaction."""
    table, pk = _where(lab.owner)
    values = {
        k: (iso(v) if hasattr(v, "isoformat") else v.value if hasattr(v, "value") else v) for k, v in changes.items()
    }
    if "tasks" in values:
        values["tasks"] = [_task_item(t) for t in values["tasks"]]
    swap = []
    if "slug" in values and values["slug"] != lab.slug:
        swap.append((_slug_unique(lab.owner, lab.slug), _slug_unique(lab.owner, values["slug"])))
    item = table.update(pk, join(LAB, lab.lab_id), expected_version=lab.version, changes=values, swap_unique=swap)
    return _from_item(item)


def labs_of(owner: str) -> list[Lab]:
    """Every lab of ``owner`` ("" for the global catalog): one Query, all pages."""
    table, pk = _where(owner)
    scope = QueryScope(owner, table.name, "", pk, join(LAB, ""))
    return [_from_item(i) for i in table.query_all(scope)]


def global_labs_get(lab_ids: list[str]) -> list[Lab]:
    """Several global labs by id: one BatchGetItem per 100."""
    if not lab_ids:
        return []
    return [_from_item(i) for i in control().batch_get([{"PK": GLOBAL_LABS, "SK": join(LAB, i)} for i in lab_ids])]


def tenant_labs_get(tenant_id: str, lab_ids: list[str]) -> list[Lab]:
    if not lab_ids:
        return []
    keys = [{"PK": tenant_pk(tenant_id), "SK": join(LAB, i)} for i in lab_ids]
    return [_from_item(i) for i in tenant_table(tenant_id).batch_get(keys)]


# --- enabled global labs ----------------------------------------------------------------------------------
def enabled_set(tenant_id: str, lab_id: str, *, enabled: bool, at: str, actor: str) -> None:
    table = tenant_table(tenant_id)
    key = {"PK": tenant_pk(tenant_id), "SK": join(LAB_ON, lab_id)}
    if enabled:
        table.upsert(key["PK"], key["SK"], set_values={"lab_id": lab_id, "enabled_at": at, "enabled_by": actor})
    else:
        table.batch_delete([key])


def enabled_ids(tenant_id: str) -> set[str]:
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(LAB_ON, ""))
    return {i["lab_id"] for i in table.query_all(scope)}


def is_enabled(tenant_id: str, lab_id: str) -> bool:
    return tenant_table(tenant_id).get(tenant_pk(tenant_id), join(LAB_ON, lab_id)) is not None


# --- assignments -------------------------------------------------------------------------------------------
def _assignment_keys(tenant_id: str, lab_id: str, kind: str, assignee: str) -> tuple[dict, dict]:
    pk = tenant_pk(tenant_id)
    return {"PK": pk, "SK": join(ASSIGN, lab_id, kind, assignee)}, {
        "PK": pk,
        "SK": join(ASSIGNEE, kind, assignee, lab_id),
    }


def _assignment_from(tenant_id: str, item: dict[str, Any]) -> Assignment:
    return Assignment(
        tenant_id=tenant_id,
        lab_id=item["lab_id"],
        assignee_type=item["assignee_type"],
        assignee_id=item["assignee_id"],
        assigned_at=dt(item["assigned_at"]),
        assigned_by=item.get("assigned_by", ""),
    )


def assignment_add(assignment: Assignment) -> bool:
    """Assign (both items, one transaction). False if it already existed."""
    tid = assignment.tenant_id
    table = tenant_table(tid)
    forward, mirror = _assignment_keys(tid, assignment.lab_id, assignment.assignee_type, assignment.assignee_id)
    base = {
        "entity": "lab-assignment",
        "lab_id": assignment.lab_id,
        "assignee_type": assignment.assignee_type,
        "assignee_id": assignment.assignee_id,
        "assigned_at": iso(assignment.assigned_at),
        "assigned_by": assignment.assigned_by,
    }
    mirror_put = {
        "Put": {
            "TableName": table.name,
            "Item": serialize({**mirror, **base, "version": 1}),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    try:
        table.create({**forward, **base}, also=[Also(mirror_put, "assignment")])
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] in {"item", "assignment"}:
            return False
        raise
    return True


def assignment_remove(tenant_id: str, lab_id: str, kind: str, assignee: str) -> bool:
    table = tenant_table(tenant_id)
    forward, mirror = _assignment_keys(tenant_id, lab_id, kind, assignee)
    try:
        table.transact(
            [
                {
                    "Delete": {
                        "TableName": table.name,
                        "Key": serialize(forward),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Delete": {"TableName": table.name, "Key": serialize(mirror)}},
            ],
            labels=["item", "assignment"],
            values={},
        )
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] == "item":
            return False
        raise
    return True


def assignments_of_lab(tenant_id: str, lab_id: str) -> list[Assignment]:
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(ASSIGN, lab_id, ""))
    return [_assignment_from(tenant_id, i) for i in table.query_all(scope)]


def lab_ids_assigned_to(tenant_id: str, kind: str, assignee: str) -> set[str]:
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(ASSIGNEE, kind, assignee, ""))
    return {i["lab_id"] for i in table.query_all(scope)}


def is_assigned(tenant_id: str, lab_id: str, user_id: str, group_ids: list[str]) -> bool:
    """Whether the lab is assigned to the user or one of its groups: one BatchGetItem."""
    keys = [_assignment_keys(tenant_id, lab_id, "user", user_id)[0]]
    keys += [_assignment_keys(tenant_id, lab_id, "group", g)[0] for g in group_ids]
    return bool(tenant_table(tenant_id).batch_get(keys))


# --- progress ----------------------------------------------------------------------------------------------
def _progress_key(tenant_id: str, lab_id: str, user_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id), join(PROGRESS, lab_id, user_id)


def _progress_from(tenant_id: str, item: dict[str, Any]) -> Progress:
    return Progress(
        tenant_id=tenant_id,
        lab_id=item["lab_id"],
        user_id=item["user_id"],
        passed=set(item.get("passed") or set()),
        last_check_at=dt(item.get("last_check_at")),
        completed_at=dt(item.get("completed_at")),
        last_results={k.removeprefix("result_"): v for k, v in item.items() if k.startswith("result_")},
    )


def progress_get(tenant_id: str, lab_id: str, user_id: str) -> Progress:
    item = tenant_table(tenant_id).get(*_progress_key(tenant_id, lab_id, user_id))
    return _progress_from(tenant_id, item) if item else Progress(tenant_id, lab_id, user_id)


def progress_record(
    tenant_id: str,
    lab_id: str,
    user_id: str,
    *,
    task_id: str,
    ok: bool,
    result: dict,
    at: str,
    task_count: int,
    events: Sequence[Also] = (),
) -> Progress:
    """Record one check's result; a pass adds the task to the passed set (ADD: concurrent checks of two
    tasks both count). ``completed_at`` is set once every task has passed."""
    table = tenant_table(tenant_id)
    pk, sk = _progress_key(tenant_id, lab_id, user_id)
    set_values = {"lab_id": lab_id, "user_id": user_id, "last_check_at": at, f"result_{task_id}": result}
    if events:  # the check's webhook event goes in the same transaction as its result
        names = {f"#s{n}": attr for n, attr in enumerate(set_values)}
        values = {f":s{n}": value for n, value in enumerate(set_values.values())}
        expression = "SET " + ", ".join(f"#s{n} = :s{n}" for n in range(len(set_values)))
        if ok:
            names["#passed"], values[":task"] = "passed", {task_id}
            expression += " ADD #passed :task"
        update = {
            "Update": {
                "TableName": table.name,
                "Key": serialize({"PK": pk, "SK": sk}),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": serialize(values),
            }
        }
        table.transact([update, *(e.operation for e in events)], labels=["progress", *events], values={})
        item = table.get(pk, sk, consistent=True) or {}
    else:
        item = table.upsert(pk, sk, set_values=set_values, add={"passed": {task_id}} if ok else None)
    if len(item.get("passed") or ()) >= task_count > 0 and not item.get("completed_at"):
        item = table.upsert(pk, sk, set_values={"completed_at": at})
    return _progress_from(tenant_id, item)


def progress_of_lab(tenant_id: str, lab_id: str) -> list[Progress]:
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(PROGRESS, lab_id, ""))
    return [_progress_from(tenant_id, i) for i in table.query_all(scope)]
