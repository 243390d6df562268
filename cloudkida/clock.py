"""The one source of the current time, so tests can freeze it instead of sleeping."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("frozen_now", default=None)


def now() -> datetime:
    return _frozen.get() or datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make ``now()`` return ``at`` inside the block (restores the previous value on exit)."""
    token = _frozen.set(at)
    try:
        yield
    finally:
        _frozen.reset(token)


def to_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)
