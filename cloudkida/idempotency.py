"""Idempotent creates: a POST repeated with the same ``Idempotency-Key`` and the same body within
``CLOUDKIDA_IDEMPOTENCY_SECONDS`` gets the first answer again instead of doing the work twice.

The first request claims the key with a conditional write; a repeat while it runs is 409
``idempotency_in_progress`` (or, for pages, waits for it); a repeat with a different body is 422
``idempotency_key_reused``. Only successful answers are kept: a request that failed releases its key,
so retrying it runs it again. Keys are scoped to the caller (its tenant and subject, or for anonymous
callers their address), so two callers can never see each other's answers.

Records: PK ``TENANT#<tenant id>``, SK ``IDEMP#<caller>#<key>`` for a tenant's callers (found and
removed with the tenant), PK ``IDEMP#<caller>#<key>``, SK ``IDEMP`` otherwise; both expire by TTL.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.response import Response

from cloudkida import clock
from cloudkida.dynamo import Prefix, Table, tables, tenant_pk
from cloudkida.dynamo.keys import join
from cloudkida.errors import ApplicationError, Conflict, ValidationFailed
from cloudkida.identity.principal import Principal

HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyReused(ApplicationError):
    status = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with a different request."


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _location(tenant_id: str, subject: str, key: str) -> tuple[str, str]:
    caller, hashed = _digest(subject), _digest(key)
    if tenant_id:
        return tenant_pk(tenant_id), join(Prefix.IDEMPOTENCY, caller, hashed)
    return join(Prefix.IDEMPOTENCY, caller, hashed), Prefix.IDEMPOTENCY.value


def check_key(key: str) -> str:
    if not _KEY_RE.match(key or ""):
        raise ValidationFailed(
            f"{HEADER} must be 1 to 255 printable ASCII characters.",
            code="invalid_idempotency_key",
            details={"header": HEADER},
        )
    return key


def fingerprint(*parts: Any) -> str:
    """A stable digest of what makes two requests "the same" (method, path, body...)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, cls=DjangoJSONEncoder).encode()).hexdigest()


def run(
    *,
    tenant_id: str,
    subject: str,
    key: str,
    request_fingerprint: str,
    operation: Callable[[], tuple[int, Any]],
    wait_seconds: float = 0,
) -> tuple[int, Any, bool]:
    """Run ``operation`` once per (caller, key); returns (status, body, replayed).

    With ``wait_seconds`` a repeat that finds the first request still running waits for its answer
    (pages, where a double-click must land on the first request's result) instead of answering 409.
    """
    table = Table(tables.control_table().name)
    pk, sk = _location(tenant_id, subject, check_key(key))
    now = int(clock.now().timestamp())
    try:
        table.upsert(
            pk,
            sk,
            set_values={
                "state": "pending",
                "fingerprint": request_fingerprint,
                "expires_at": now + settings.CLOUDKIDA_IDEMPOTENCY_SECONDS,
            },
            remove=("status", "body"),
            condition="attribute_not_exists(PK) OR expires_at < :cnow",
            condition_values={":cnow": now},
        )
    except Conflict:
        return _replay(table, pk, sk, request_fingerprint, wait_seconds)
    try:
        status, body = operation()
    except BaseException:
        table.batch_delete([{"PK": pk, "SK": sk}])
        raise
    if 200 <= status < 300:
        table.upsert(pk, sk, set_values={"state": "done", "status": status, "body": _jsonable(body)})
    else:
        table.batch_delete([{"PK": pk, "SK": sk}])
    return status, body, False


def _replay(table: Table, pk: str, sk: str, request_fingerprint: str, wait_seconds: float) -> tuple[int, Any, bool]:
    deadline = time.monotonic() + wait_seconds
    while True:
        existing = table.get(pk, sk, consistent=True)
        if existing is None:
            raise Conflict(
                "The first request with this Idempotency-Key failed; send it again.",
                code="idempotency_in_progress",
                details={"retry_after": 1},
            )
        if existing.get("fingerprint") != request_fingerprint:
            raise KeyReused()
        if existing.get("state") == "done":
            return int(existing["status"]), existing.get("body"), True
        if time.monotonic() >= deadline:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_in_progress",
                details={"retry_after": 1},
            )
        time.sleep(0.2)  # a page waits briefly for the first click's answer


def _jsonable(body: Any) -> Any:
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def _body(request) -> Any:
    """What identifies a request's body: the parsed data, with uploaded files by their content's digest."""
    data = request.data
    if not hasattr(data, "lists"):  # JSON or text: the parsed body itself
        return data
    fields, files = {}, {}
    for name, values in data.lists():
        for value in values:
            if hasattr(value, "read") and hasattr(value, "seek"):
                digest = hashlib.sha256(value.read()).hexdigest()
                value.seek(0)
                files.setdefault(name, []).append([getattr(value, "name", ""), digest])
            else:
                fields.setdefault(name, []).append(value)
    return {"fields": fields, "files": files}


def idempotent(view_method):
    """Make a DRF ``post`` handler honour ``Idempotency-Key`` (documented in the OpenAPI schema)."""

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        if key is None:
            return view_method(self, request, *args, **kwargs)
        principal = request.user if isinstance(request.user, Principal) else None
        if principal is not None:
            tenant_id, subject = principal.tenant_id, f"{principal.method}:{principal.subject}"
        else:
            tenant_id, subject = "", f"address:{request.META.get('REMOTE_ADDR', '')}"

        def operation() -> tuple[int, Any]:
            response = view_method(self, request, *args, **kwargs)
            return response.status_code, response.data

        status, body, replayed = run(
            tenant_id=tenant_id,
            subject=subject,
            key=key,
            request_fingerprint=fingerprint(request.method, request.path, _body(request)),
            operation=operation,
        )
        response = Response(body, status=status)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    wrapper.idempotent = True
    return wrapper
