"""Counting the API calls a tenant's credentials make, without a DynamoDB write per request.

``ApiCallMiddleware`` counts each API request that a tenant's own credentials authenticated (an API key or a
bearer token, directly or through the API Gateway authorizer; not the portal's browser session) into an
in-process accumulator per tenant and day. The accumulator is flushed — one TransactWriteItems per tenant-day
with pending calls, an atomic ADD to the month's and the day's totals — when its oldest pending call is
``CLOUDKIDA_BILLING_API_FLUSH_SECONDS`` old or ``CLOUDKIDA_BILLING_API_FLUSH_CALLS`` calls are pending, by the
request that finds it due; also at every billing job's start (the same Lambda serves the scheduled events)
and at interpreter exit.

What can be missed (under-counted), never double-counted: the calls still pending when a Lambda instance is
recycled (at most one flush's worth per instance), calls whose flush failed (logged, dropped), and calls
flushed after their month was invoiced (dropped). A batch is swapped out before it is written, so no call is
added twice. Refused calls (429 by the throttle) and server errors (5xx) are not counted.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings

from cloudkida import clock
from cloudkida.identity.principal import Principal

logger = logging.getLogger(__name__)
COUNTED_METHODS = frozenset({"api_key", "token", "authorizer"})


class ApiCallAccumulator:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, int], int] = {}  # (tenant, month, day) -> calls
        self._calls = 0
        self._oldest = 0.0

    def count(self, tenant_id: str, at: datetime | None = None) -> None:
        at = (at or clock.now()).astimezone(UTC)
        key = (tenant_id, at.strftime("%Y-%m"), at.day)
        now = self._clock()
        with self._lock:
            if not self._pending:
                self._oldest = now
            self._pending[key] = self._pending.get(key, 0) + 1
            self._calls += 1
            due = (
                self._calls >= settings.CLOUDKIDA_BILLING_API_FLUSH_CALLS
                or now - self._oldest >= settings.CLOUDKIDA_BILLING_API_FLUSH_SECONDS
            )
        if due:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return self._calls

    def flush(self) -> int:
        """Write every pending batch (one request per tenant-day); returns the calls written."""
        with self._lock:
            batch, self._pending, self._calls = self._pending, {}, 0
        if not batch:
            return 0
        from billing import repository  # lazy: the middleware loads with the app, the adapter when it flushes

        written = 0
        for (tenant_id, month, day), calls in batch.items():
            try:
                if repository.api_calls_add(tenant_id, month, day, calls):
                    written += calls
                else:
                    logger.warning("api calls of an invoiced month dropped", extra={"tenant_id": tenant_id})
            except Exception:
                logger.exception("api call counts dropped", extra={"tenant_id": tenant_id, "calls": calls})
        return written

    def reset(self) -> None:
        with self._lock:
            self._pending, self._calls = {}, 0


accumulator = ApiCallAccumulator()
atexit.register(accumulator.flush)


def counted(principal: object) -> bool:
    return isinstance(principal, Principal) and bool(principal.tenant_id) and principal.method in COUNTED_METHODS


class ApiCallMiddleware:
    """Count API calls made with a tenant's credentials (DRF puts its principal on the Django request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if not settings.CLOUDKIDA_BILLING_COUNT_API_CALLS:
            return response
        if response.status_code != 429 and response.status_code < 500 and counted(user):
            accumulator.count(user.tenant_id)
        return response
