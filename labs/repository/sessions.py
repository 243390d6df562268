"""DynamoDB adapter for lab sessions, the per-learner counters that limit them, and their workflow steps.

Items (all in the tenant's partition of its data table):
- session:      SK ``SESSION#<session id>``; GSI1 ``TENANT#<tid>#LABUSER#<user id>`` / ``<requested at>#<id>`` (a
                learner's sessions, newest last); GSI2 ``TENANT#<tid>#LABS#ACTIVE`` / ``<requested at>#<id>`` only
                while active (the tenant admin's live view) — removed when the session ends
- active count: SK ``LABACTIVE#<user id>`` (``active``: sessions not yet ended)
- month usage:  SK ``LABMONTH#<user id>#<YYYY-MM>`` (``minutes``: planned minutes of the month's sessions,
                corrected to the actual minutes when each ends)
- start lock:   SK ``LABLOCK#<user id>#<lab id>`` while a session of that lab is starting (TTL as a backstop)
- step record:  SK ``LABSTEP#<session id>#<workflow>#<step>`` (the workflow runner's log)
The session, the count, the month and the lock are written in one transaction, so two starts at once can
neither exceed a limit nor both start the same lab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cloudkida.clock import to_iso
from cloudkida.dynamo import Also, QueryScope, Table, tenant_index_pk, tenant_pk
from cloudkida.dynamo.keys import join
from cloudkida.dynamo.store import serialize
from cloudkida.errors import QuotaExceeded
from labs.domain import LabSession, SessionState
from labs.repository.common import dt, iso, tenant_table

SESSION, ACTIVE, MONTH, LOCK, STEP = "SESSION", "LABACTIVE", "LABMONTH", "LABLOCK", "LABSTEP"
ACTIVE_INDEX = "GSI2"
USER_INDEX = "GSI1"


def _key(tenant_id: str, session_id: str) -> tuple[str, str]:
    return tenant_pk(tenant_id), join(SESSION, session_id)


def _order(session: LabSession) -> str:
    return f"{to_iso(session.requested_at)}#{session.session_id}"


def _to_item(s: LabSession) -> dict[str, Any]:
    pk, sk = _key(s.tenant_id, s.session_id)
    item = {
        "PK": pk,
        "SK": sk,
        "GSI1PK": tenant_index_pk(s.tenant_id, "LABUSER", s.user_id),
        "GSI1SK": _order(s),
        "entity": "lab-session",
        "tenant_id": s.tenant_id,
        "session_id": s.session_id,
        "user_id": s.user_id,
        "lab_id": s.lab_id,
        "lab_owner": s.lab_owner,
        "lab_revision": s.lab_revision,
        "lab_title": s.lab_title,
        "region": s.region,
        "state": s.state.value,
        "requested_at": iso(s.requested_at),
        "duration_minutes": s.duration_minutes,
        "max_duration_minutes": s.max_duration_minutes,
        "budget_usd": s.budget_usd,
        "month": s.month,
        "template_key": s.template_key,
        "lab_services": s.lab_services,
        "lab_regions": s.lab_regions,
        "extensions": s.extensions,
        "spend_usd": s.spend_usd,
        "spend_alerted": s.spend_alerted,
    }
    if s.state.is_active:
        item.update(GSI2PK=tenant_index_pk(s.tenant_id, "LABS", "ACTIVE"), GSI2SK=_order(s))
    return item


def _from_item(item: dict[str, Any]) -> LabSession:
    return LabSession(
        tenant_id=item["tenant_id"],
        session_id=item["session_id"],
        user_id=item["user_id"],
        lab_id=item["lab_id"],
        lab_owner=item.get("lab_owner", ""),
        lab_revision=int(item.get("lab_revision", 0)),
        lab_title=item.get("lab_title", ""),
        region=item["region"],
        state=SessionState(item["state"]),
        requested_at=dt(item["requested_at"]),
        duration_minutes=int(item["duration_minutes"]),
        max_duration_minutes=int(item["max_duration_minutes"]),
        budget_usd=float(item.get("budget_usd", 0)),
        template_key=item.get("template_key", ""),
        lab_services=list(item.get("lab_services") or []),
        lab_regions=list(item.get("lab_regions") or []),
        note=item.get("note", ""),
        account_id=item.get("account_id", ""),
        shard_id=item.get("shard_id", ""),
        hot=bool(item.get("hot")),
        stack_name=item.get("stack_name", ""),
        ready_at=dt(item.get("ready_at")),
        deadline=dt(item.get("deadline")),
        ending_at=dt(item.get("ending_at")),
        ended_at=dt(item.get("ended_at")),
        ended_by=item.get("ended_by", ""),
        failure_reason=item.get("failure_reason", ""),
        failed_step=item.get("failed_step", ""),
        extensions=int(item.get("extensions", 0)),
        spend_usd=float(item.get("spend_usd", 0)),
        spend_alerted=bool(item.get("spend_alerted")),
        month=item.get("month", ""),
        version=int(item["version"]),
    )


def from_item(item: dict[str, Any]) -> LabSession:
    return _from_item(item)


def to_item(session: LabSession) -> dict[str, Any]:
    return _to_item(session)


def session_key(tenant_id: str, session_id: str) -> dict[str, str]:
    pk, sk = _key(tenant_id, session_id)
    return {"PK": pk, "SK": sk}


def _counter(table: Table, pk: str, sk: str, attribute: str, delta: int, ceiling: int | None) -> dict:
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": serialize({"PK": pk, "SK": sk}),
        "UpdateExpression": "ADD #a :d",
        "ExpressionAttributeNames": {"#a": attribute},
        "ExpressionAttributeValues": serialize({":d": delta}),
    }
    if ceiling is not None:
        update["ConditionExpression"] = "attribute_not_exists(#a) OR #a <= :room"
        update["ExpressionAttributeValues"] = serialize({":d": delta, ":room": ceiling - delta})
    return {"Update": update}


def create(
    session: LabSession,
    *,
    max_concurrent: int | None,
    monthly_minutes: int | None,
    lock_until: int,
    now: int,
    events: Sequence[Also] = (),
) -> LabSession:
    """Write a REQUESTED session with its counters and start lock in one transaction.

    Refused with QuotaExceeded (``concurrent_labs_exceeded``, ``monthly_lab_minutes_exceeded``) or Conflict
    (``session_already_starting``) naming the limit that held."""
    tid, uid = session.tenant_id, session.user_id
    table = tenant_table(tid)
    pk = tenant_pk(tid)
    if monthly_minutes is not None and session.duration_minutes > monthly_minutes:
        raise _monthly(monthly_minutes)
    lock = {
        "Put": {
            "TableName": table.name,
            "Item": serialize(
                {
                    "PK": pk,
                    "SK": join(LOCK, uid, session.lab_id),
                    "session_id": session.session_id,
                    "expires_at": lock_until,
                    "version": 1,
                }
            ),
            "ConditionExpression": "attribute_not_exists(PK) OR expires_at < :now",
            "ExpressionAttributeValues": serialize({":now": now}),
        }
    }
    also = [
        Also(
            _counter(table, pk, join(ACTIVE, uid), "active", 1, max_concurrent),
            "max_concurrent_labs",
            f"You already have {max_concurrent} lab(s) running, the most your organisation allows; end one first.",
            "concurrent_labs_exceeded",
        ),
        Also(
            _counter(table, pk, join(MONTH, uid, session.month), "minutes", session.duration_minutes, monthly_minutes),
            "monthly_lab_minutes",
            "This lab would take you past your organisation's monthly lab minutes.",
            "monthly_lab_minutes_exceeded",
        ),
        Also(lock, "start_lock", "A session of this lab is already starting for you.", "session_already_starting"),
        *events,
    ]
    try:
        item = table.create(_to_item(session), also=also)
    except Exception as error:
        code = getattr(error, "code", "")
        if code in {"concurrent_labs_exceeded", "monthly_lab_minutes_exceeded"}:
            raise QuotaExceeded(
                error.message, code=code, details={"limit": max_concurrent if "concurrent" in code else monthly_minutes}
            ) from error
        raise
    return _from_item(item)


def _monthly(limit: int) -> QuotaExceeded:
    return QuotaExceeded(
        "This lab would take you past your organisation's monthly lab minutes.",
        code="monthly_lab_minutes_exceeded",
        details={"limit": limit},
    )


def get(tenant_id: str, session_id: str, *, consistent: bool = False) -> LabSession | None:
    item = tenant_table(tenant_id).get(*_key(tenant_id, session_id), consistent=consistent)
    return _from_item(item) if item else None


def update(session: LabSession, *, events: Sequence[Also] = (), **changes: Any) -> LabSession:
    """Apply ``changes`` if ``session`` (as read) is current (else Conflict ``version_conflict``). Leaving the
    active states drops it from the tenant's live view."""
    values = {
        k: (iso(v) if hasattr(v, "isoformat") else v.value if hasattr(v, "value") else v) for k, v in changes.items()
    }
    state = SessionState(values.get("state", session.state))
    if not state.is_active:
        values.update(GSI2PK=None, GSI2SK=None)
    pk, sk = _key(session.tenant_id, session.session_id)
    table = tenant_table(session.tenant_id)
    return _from_item(table.update(pk, sk, expected_version=session.version, changes=values, also=events))


def release(session: LabSession, *, minutes_delta: int) -> None:
    """The session has ended (or failed): give back its active slot, correct its month's minutes to what it
    really used, and drop its start lock if it still holds it. One transaction."""
    tid, uid = session.tenant_id, session.user_id
    table = tenant_table(tid)
    pk = tenant_pk(tid)
    table.transact(
        [
            _counter(table, pk, join(ACTIVE, uid), "active", -1, None),
            _counter(table, pk, join(MONTH, uid, session.month), "minutes", minutes_delta, None),
            {
                "Delete": {
                    "TableName": table.name,
                    "Key": serialize({"PK": pk, "SK": join(LOCK, uid, session.lab_id)}),
                    "ConditionExpression": "attribute_not_exists(PK) OR session_id = :sid",
                    "ExpressionAttributeValues": serialize({":sid": session.session_id}),
                }
            },
        ],
        labels=["active", "month", "lock"],
        values={},
    )


def unlock(session: LabSession) -> None:
    """Drop the start lock (the session is READY: another start of the same lab is no longer a double)."""
    table = tenant_table(session.tenant_id)
    try:
        table.delete(
            tenant_pk(session.tenant_id),
            join(LOCK, session.user_id, session.lab_id),
            expected_version=1,
            condition="session_id = :csid",
            condition_values={":csid": session.session_id},
        )
    except Exception as error:  # another session holds it now, or it is gone: either way not ours
        if getattr(error, "status", 0) not in {404, 409}:
            raise


def add_minutes(session: LabSession, minutes: int, *, monthly_minutes: int | None) -> None:
    """Count an extension against the learner's month (refused past the monthly limit)."""
    table = tenant_table(session.tenant_id)
    op = _counter(
        table,
        tenant_pk(session.tenant_id),
        join(MONTH, session.user_id, session.month),
        "minutes",
        minutes,
        monthly_minutes,
    )
    try:
        table.transact([op], labels=["monthly_lab_minutes"], values={})
    except Exception as error:
        if getattr(error, "failed", None) and monthly_minutes is not None:
            raise _monthly(monthly_minutes) from error
        raise


def usage(tenant_id: str, user_id: str, month: str) -> tuple[int, int]:
    """(active sessions, minutes this month) of a learner: one BatchGetItem."""
    pk = tenant_pk(tenant_id)
    items = tenant_table(tenant_id).batch_get(
        [{"PK": pk, "SK": join(ACTIVE, user_id)}, {"PK": pk, "SK": join(MONTH, user_id, month)}]
    )
    by_sk = {i["SK"]: i for i in items}
    return int(by_sk.get(join(ACTIVE, user_id), {}).get("active", 0)), int(
        by_sk.get(join(MONTH, user_id, month), {}).get("minutes", 0)
    )


def of_user(tenant_id: str, user_id: str, *, limit: int, cursor: str | None):
    """A page of a learner's sessions, newest first."""
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, USER_INDEX, tenant_index_pk(tenant_id, "LABUSER", user_id), "")
    page = table.query(scope=scope, limit=limit, cursor=cursor, forward=False)
    page.items = [_from_item(i) for i in page.items]
    return page


def active_of_tenant(tenant_id: str, *, limit: int = 100, cursor: str | None = None):
    """A page of the tenant's active sessions (not ENDED or FAILED), oldest first."""
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, ACTIVE_INDEX, tenant_index_pk(tenant_id, "LABS", "ACTIVE"), "")
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [_from_item(i) for i in page.items]
    return page


# --- workflow step records ---------------------------------------------------------------------------------
def step_started(tenant_id: str, session_id: str, workflow: str, step: str) -> int:
    item = tenant_table(tenant_id).upsert(
        tenant_pk(tenant_id),
        join(STEP, session_id, workflow, step),
        set_values={"status": "RUNNING", "step": step, "workflow": workflow},
        add={"attempts": 1},
    )
    return int(item["attempts"])


def step_finished(tenant_id: str, session_id: str, workflow: str, step: str, *, ok: bool, error: str, at: str) -> None:
    tenant_table(tenant_id).upsert(
        tenant_pk(tenant_id),
        join(STEP, session_id, workflow, step),
        set_values={"status": "SUCCEEDED" if ok else "FAILED", "error": error[:1000], "finished_at": at},
    )


def steps(tenant_id: str, session_id: str, workflow: str) -> list[dict]:
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(STEP, session_id, workflow, ""))
    return list(table.query_all(scope))
