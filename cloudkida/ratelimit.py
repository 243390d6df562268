"""Fixed-window rate limits shared by every process, kept in the control table (items expire by TTL)."""

from __future__ import annotations

import hashlib

from cloudkida import clock
from cloudkida.dynamo import Table, tables
from cloudkida.dynamo.keys import join
from cloudkida.errors import Conflict, QuotaExceeded


def hit(*, bucket: str, subject: str, limit: int, window_seconds: int) -> int:
    """Count one hit for ``subject`` in ``bucket``; QuotaExceeded (429, Retry-After) past ``limit``.

    One conditional UpdateItem per hit. ``subject`` (e.g. a client address) is stored hashed.
    """
    now = int(clock.now().timestamp())
    window = now - now % window_seconds
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    try:
        item = Table(tables.control_table().name).upsert(
            join("RATE", bucket, digest),
            str(window),
            set_values={"expires_at": window + 2 * window_seconds},
            add={"hits": 1},
            condition="attribute_not_exists(hits) OR hits < :climit",
            condition_values={":climit": limit},
        )
    except Conflict as error:
        retry_after = window + window_seconds - now
        raise QuotaExceeded(
            "Too many attempts from your address; try again later.",
            code="rate_limited",
            details={"retry_after": max(retry_after, 1), "limit": limit, "window_seconds": window_seconds},
        ) from error
    return int(item["hits"])
