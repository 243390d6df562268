"""A tiny per-process TTL cache for hot, small, rarely-changing records (tenants by id or host)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_MISSING = object()


class TTLCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._data.get(key, _MISSING)
            if hit is not _MISSING and hit[0] > now:
                return hit[1]
        value = load()
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (now + self.ttl, value)
        return value

    def invalidate(self, key: Any = _MISSING) -> None:
        with self._lock:
            if key is _MISSING:
                self._data.clear()
            else:
                self._data.pop(key, None)
