"""Throttling by tenant and tier, mirroring the API Gateway usage plans (for runs without API Gateway).

A token bucket per tenant (steady rate and burst of the tier) plus a daily quota, kept in this process.
Behind API Gateway the usage plans enforce the same numbers across every Lambda instance; here the
numbers hold per process, which is what local runs and single-process deployments have.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from cloudkida.identity.principal import Principal
from tenants.selectors import tenant_get_cached


class TokenBuckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # tenant -> (tokens, at)
        self._days: dict[str, tuple[str, int]] = {}  # tenant -> (UTC day, count)

    def take(self, key: str, *, rate: float, burst: int, quota_per_day: int) -> float:
        """0 if a request may go now, else seconds to wait."""
        now = self._clock()
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        with self._lock:
            day, used = self._days.get(key, (today, 0))
            if day != today:
                day, used = today, 0
            if used >= quota_per_day:
                midnight = 86400 - (int(time.time()) % 86400)
                return float(midnight)
            tokens, at = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / rate if rate > 0 else 60.0
            self._buckets[key] = (tokens - 1, now)
            self._days[key] = (day, used + 1)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._days.clear()


buckets = TokenBuckets()


class TenantTierThrottle(BaseThrottle):
    """429 with Retry-After when a tenant exceeds its tier's rate, burst or daily quota."""

    def allow_request(self, request, view):
        principal = request.user if isinstance(request.user, Principal) else None
        self._wait = 0.0
        if principal is None or not principal.tenant_id:
            return True
        tier = tenant_get_cached(tenant_id=principal.tenant_id).tier.value
        limits = settings.CLOUDKIDA_TIER_LIMITS[tier]
        self._wait = buckets.take(
            principal.tenant_id,
            rate=float(limits["rate"]),
            burst=int(limits["burst"]),
            quota_per_day=int(limits["quota_per_day"]),
        )
        return self._wait == 0

    def wait(self):
        return max(1.0, self._wait)
