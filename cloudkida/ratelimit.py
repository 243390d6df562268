"""Fixed-window rate limits shared by every process, kept in the control table (items expire by TTL)."""

from __future__ import annotations

import hashlib

from cloudkida import clock
from cloudkida.dynamo import Prefix, Table, tables
from cloudkida.dynamo.keys import join
from cloudkida.errors import Conflict, QuotaExceeded


def _window(bucket: str, subject: str, window_seconds: int) -> tuple[str, str, int, int]:
    now = int(clock.now().timestamp())
    window = now - now % window_seconds
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return join(Prefix.RATE, bucket, digest), str(window), window, now


def _exceeded(window: int, window_seconds: int, now: int, limit: int) -> QuotaExceeded:
    return QuotaExceeded(
        "Too many attempts from your address; try again later.",
        code="rate_limited",
        details={
            "retry_after": max(window + window_seconds - now, 1),
            "limit": limit,
            "window_seconds": window_seconds,
        },
    )


def check(*, bucket: str, subject: str, limit: int, window_seconds: int) -> None:
    """QuotaExceeded (429, Retry-After) if ``subject`` already used up ``bucket``'s window. One GetItem."""
    pk, sk, window, now = _window(bucket, subject, window_seconds)
    item = Table(tables.control_table().name).get(pk, sk)
    if item and int(item.get("hits", 0)) >= limit:
        raise _exceeded(window, window_seconds, now, limit)


def hit(*, bucket: str, subject: str, limit: int, window_seconds: int, enforce: bool = True) -> int:
    """Count one hit for ``subject`` in ``bucket``; with ``enforce``, QuotaExceeded past ``limit``.

    One UpdateItem per hit, conditional when enforcing. ``subject`` (e.g. a client address) is stored hashed.
    """
    pk, sk, window, now = _window(bucket, subject, window_seconds)
    try:
        item = Table(tables.control_table().name).upsert(
            pk,
            sk,
            set_values={"expires_at": window + 2 * window_seconds},
            add={"hits": 1},
            condition="attribute_not_exists(hits) OR hits < :climit" if enforce else None,
            condition_values={":climit": limit} if enforce else None,
        )
    except Conflict as error:
        raise _exceeded(window, window_seconds, now, limit) from error
    return int(item["hits"])
