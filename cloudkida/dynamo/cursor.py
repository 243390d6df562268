"""Opaque, signed pagination cursors bound to the caller's tenant and query.

A cursor carries DynamoDB's LastEvaluatedKey, signed with the Django secret key (HMAC-SHA256) and
stamped with a fingerprint of the query (table, index, partition, sort-key prefix and every filter) and
the tenant it was issued to. A forged, tampered, expired or foreign cursor is refused with a 400, never answered
with another tenant's or another query's rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core import signing

from cloudkida.errors import ValidationFailed

_SALT = "cloudkida.dynamo.cursor"


@dataclass(frozen=True)
class QueryScope:
    """Who asked, and for what: the cursor is valid only for exactly this."""

    tenant_id: str  # "" for platform-wide (system admin) queries
    table: str
    index: str
    partition: str
    sk_prefix: str
    filters: tuple[tuple[str, str], ...] = ()

    def with_filters(self, filters: dict[str, Any] | None) -> QueryScope:
        """The same scope, also bound to these filter values (a cursor must not outlive a filter change)."""
        if not filters:
            return self
        return replace(self, filters=tuple(sorted((k, json.dumps(v, default=str)) for k, v in filters.items())))

    def fingerprint(self) -> str:
        raw = json.dumps([self.table, self.index, self.partition, self.sk_prefix, list(self.filters)])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def encode(scope: QueryScope, last_key: dict) -> str:
    payload = {"t": scope.tenant_id, "q": scope.fingerprint(), "k": last_key}
    return signing.dumps(payload, salt=_SALT, compress=True)


def decode(scope: QueryScope, cursor: str) -> dict:
    """The LastEvaluatedKey inside ``cursor``, or ValidationFailed(invalid_cursor)."""
    try:
        payload = signing.loads(cursor, salt=_SALT, max_age=settings.CLOUDKIDA_CURSOR_MAX_AGE)
    except signing.SignatureExpired as error:
        raise _invalid("The cursor has expired; start again from the first page.") from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise _invalid("The cursor is not valid.") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), dict):
        raise _invalid("The cursor is not valid.")
    if payload.get("t") != scope.tenant_id or payload.get("q") != scope.fingerprint():
        raise _invalid("The cursor belongs to another query.")
    return payload["k"]


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_cursor", details={"field": "cursor"})
