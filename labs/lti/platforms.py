"""Registered LTI platforms and the launch links that grades go back through.

Items:
- platform (control table, found by issuer + client id before the tenant is known): PK
  ``LTIPLAT#<sha256(issuer|client id)[:32]>``, SK ``LTIPLAT``; GSI1 ``TENANT#<tid>#LTIPLATS`` /
  ``<created at>``; GSI2 the tenant's ownership index
- link (tenant data): SK ``LTILINK#<user id>#<lab id>``: the platform's issuer and client id, the learner's
  ``sub`` there, the AGS endpoint claim (line item, scopes) and the tasks passed so far
- launch state (control, platform-owned, TTL): PK ``LTISTATE#<sha256(key)>``, SK ``LTISTATE``
- grade to retry (control, tenant-owned): PK ``LTIGRADE#PENDING``, SK ``<tid>#<user id>#<lab id>``: a score
  the platform did not accept yet, with the first failure, attempts and the next attempt's time
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accounts.integrations.delivery import check_url
from cloudkida import clock
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import QueryScope, Table, owner_index, tables, tenant_data_table, tenant_index_pk, tenant_pk
from cloudkida.dynamo.keys import join
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from tenants.services import audit

PLATFORM, LINK, STATE = "LTIPLAT", "LTILINK", "LTISTATE"
RETRY_PK = "LTIGRADE#PENDING"


@dataclass
class LtiPlatform:
    tenant_id: str
    platform_id: str
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: list[str]
    created_at: datetime
    created_by: str = ""
    auth_audience: str = ""
    version: int = 0


@dataclass
class LtiLink:
    tenant_id: str
    user_id: str
    lab_id: str
    issuer: str
    client_id: str
    sub: str
    ags: dict[str, Any]
    passed: set[str] = field(default_factory=set)


def _control() -> Table:
    return Table(tables.control_table().name)


def platform_pk(issuer: str, client_id: str) -> str:
    return join(PLATFORM, hashlib.sha256(f"{issuer}|{client_id}".encode()).hexdigest()[:32])


def _platform(item: dict[str, Any]) -> LtiPlatform:
    return LtiPlatform(
        tenant_id=item["tenant_id"],
        platform_id=item["platform_id"],
        name=item.get("name", ""),
        issuer=item["issuer"],
        client_id=item["client_id"],
        auth_login_url=item["auth_login_url"],
        auth_token_url=item["auth_token_url"],
        key_set_url=item["key_set_url"],
        deployment_ids=list(item.get("deployment_ids") or []),
        created_at=from_iso(item["created_at"]),
        created_by=item.get("created_by", ""),
        auth_audience=item.get("auth_audience", ""),
        version=int(item["version"]),
    )


def _url(value: str, field_name: str) -> str:
    try:
        return check_url(value)
    except ValidationFailed as error:
        raise ValidationFailed(
            f"{field_name}: {error.message}", code="invalid_url", details={"field": field_name}
        ) from error


def lti_platform_register(
    *,
    tenant_id: str,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: list[str],
    auth_audience: str = "",
    actor: str,
) -> LtiPlatform:
    """Register the tenant's learning platform (unique platform-wide by issuer and client id: 409)."""
    issuer, client_id = (issuer or "").strip(), (client_id or "").strip()
    if not issuer or not client_id or len(issuer) > 500 or len(client_id) > 200:
        raise ValidationFailed(
            "Give the platform's issuer and the client id it gave CloudKida.", code="invalid_platform"
        )
    ids = sorted({str(d).strip() for d in deployment_ids or [] if str(d).strip()})
    if not ids or len(ids) > 50:
        raise ValidationFailed("Give the platform's deployment ids (1 to 50).", code="invalid_platform")
    pk = platform_pk(issuer, client_id)
    now = clock.now()
    item = {
        "PK": pk,
        "SK": PLATFORM,
        **owner_index(tenant_id, pk),
        "GSI1PK": tenant_index_pk(tenant_id, "LTIPLATS"),
        "GSI1SK": f"{to_iso(now)}#{pk}",
        "tenant_id": tenant_id,
        "platform_id": f"lti_{uuid.uuid4().hex[:16]}",
        "name": " ".join((name or issuer).split())[:100],
        "issuer": issuer,
        "client_id": client_id,
        "auth_login_url": _url(auth_login_url, "auth_login_url"),
        "auth_token_url": _url(auth_token_url, "auth_token_url"),
        "key_set_url": _url(key_set_url, "key_set_url"),
        "deployment_ids": ids,
        "auth_audience": (auth_audience or "").strip()[:500],
        "created_at": to_iso(now),
        "created_by": actor,
    }
    try:
        created = _control().create(item)
    except Conflict as error:
        raise Conflict("That platform (issuer and client id) is already registered.", code="already_exists") from error
    audit(tenant_id, "lti.platform_registered", actor, platform_id=item["platform_id"], issuer=issuer)
    return _platform(created)


def lti_platform_list(*, tenant_id: str) -> list[LtiPlatform]:
    table = _control()
    scope = QueryScope(tenant_id, table.name, "GSI1", tenant_index_pk(tenant_id, "LTIPLATS"), "")
    return [_platform(i) for i in table.query_all(scope)]


def lti_platform_find(issuer: str, client_id: str) -> LtiPlatform | None:
    item = _control().get(platform_pk(issuer, client_id), PLATFORM)
    return _platform(item) if item else None


def lti_platform_delete(*, tenant_id: str, platform_id: str, actor: str) -> None:
    found = next((p for p in lti_platform_list(tenant_id=tenant_id) if p.platform_id == platform_id), None)
    if found is None:
        raise NotFound("No such LTI platform.", code="lti_platform_not_found")
    _control().delete(platform_pk(found.issuer, found.client_id), PLATFORM, expected_version=found.version)
    audit(tenant_id, "lti.platform_removed", actor, platform_id=platform_id, issuer=found.issuer)


# --- links --------------------------------------------------------------------------------------------------------
def link_put(link: LtiLink) -> None:
    """Remember (or refresh) where a learner's grade for a lab goes; keeps the tasks passed so far."""
    tenant_data_table(link.tenant_id).upsert(
        tenant_pk(link.tenant_id),
        join(LINK, link.user_id, link.lab_id),
        set_values={
            "tenant_id": link.tenant_id,
            "user_id": link.user_id,
            "lab_id": link.lab_id,
            "issuer": link.issuer,
            "client_id": link.client_id,
            "sub": link.sub,
            "ags": json.dumps(link.ags),
            "updated_at": to_iso(clock.now()),
        },
    )


def link_passed(tenant_id: str, user_id: str, lab_id: str, task_id: str | None) -> LtiLink | None:
    """The link with ``task_id`` added to its passed tasks (ADD: concurrent checks both count); None if the
    learner never launched this lab from a platform."""
    table = tenant_data_table(tenant_id)
    sk = join(LINK, user_id, lab_id)
    if table.get(tenant_pk(tenant_id), sk) is None:
        return None
    item = table.upsert(
        tenant_pk(tenant_id),
        sk,
        set_values={"checked_at": to_iso(clock.now())},
        add={"passed": {task_id}} if task_id else None,
    )
    return LtiLink(
        tenant_id,
        user_id,
        lab_id,
        item["issuer"],
        item["client_id"],
        item["sub"],
        json.loads(item["ags"]),
        set(item.get("passed") or ()),
    )


def link_get(tenant_id: str, user_id: str, lab_id: str) -> LtiLink | None:
    return link_passed(tenant_id, user_id, lab_id, None)


# --- grades to send again -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeRetry:
    tenant_id: str
    user_id: str
    lab_id: str
    attempts: int
    task_count: int
    first_failed_at: datetime
    next_at: datetime


def grade_retry_mark(
    tenant_id: str, user_id: str, lab_id: str, *, error: str, task_count: int, next_at: datetime
) -> GradeRetry:
    """Remember that this learner's score for the lab did not reach the platform (one item per link: a later
    failure counts an attempt; what is sent again is the link's latest score)."""
    table, sk, now = _control(), join(tenant_id, user_id, lab_id), to_iso(clock.now())
    existing = table.get(RETRY_PK, sk, consistent=True)
    item = table.upsert(
        RETRY_PK,
        sk,
        set_values={
            **owner_index(tenant_id, RETRY_PK),
            "tenant_id": tenant_id,
            "user_id": user_id,
            "lab_id": lab_id,
            "error": error[:300],
            "task_count": task_count,
            "first_failed_at": existing["first_failed_at"] if existing else now,
            "next_at": to_iso(next_at),
        },
        add={"attempts": 1},
    )
    return _retry(item)


def _retry(item: dict[str, Any]) -> GradeRetry:
    return GradeRetry(
        item["tenant_id"],
        item["user_id"],
        item["lab_id"],
        int(item["attempts"]),
        int(item["task_count"]),
        from_iso(item["first_failed_at"]),
        from_iso(item["next_at"]),
    )


def grade_retries_due(now: datetime) -> list[GradeRetry]:
    """Every waiting grade whose next attempt is due (one partition: failures are few and short-lived)."""
    table = _control()
    return [r for r in map(_retry, table.query_all(QueryScope("", table.name, "", RETRY_PK, ""))) if r.next_at <= now]


def grade_retry_clear(retry: GradeRetry) -> None:
    """Forget the waiting grade, unless a newer failure counted an attempt since it was read."""
    try:
        _control().delete(
            RETRY_PK,
            join(retry.tenant_id, retry.user_id, retry.lab_id),
            condition="attempts = :cattempts",
            condition_values={":cattempts": retry.attempts},
        )
    except (Conflict, NotFound):
        pass


# --- launch state -------------------------------------------------------------------------------------------------
def _state_pk(key: str) -> str:
    return join(STATE, hashlib.sha256(key.encode()).hexdigest())


def state_get(key: str) -> Any:
    item = _control().get(_state_pk(key), STATE, consistent=True)
    if not item or int(item.get("expires_at", 0)) <= int(clock.now().timestamp()):
        return None  # DynamoDB's TTL deletes lazily: an expired item is absent
    return json.loads(item["value"])


def state_set(key: str, value: Any, seconds: int) -> None:
    _control().upsert(
        _state_pk(key),
        STATE,
        set_values={"value": json.dumps(value), "expires_at": int(clock.now().timestamp()) + max(1, int(seconds))},
    )


def state_consume(key: str) -> bool:
    """Mark the value used if it is there, live and unused; True exactly once (a nonce used twice is refused)."""
    try:
        _control().upsert(
            _state_pk(key),
            STATE,
            set_values={"used_at": to_iso(clock.now())},
            condition="attribute_exists(PK) AND expires_at > :cnow AND attribute_not_exists(used_at)",
            condition_values={":cnow": int(clock.now().timestamp())},
        )
    except Conflict:
        return False
    return True
