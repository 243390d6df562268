"""What labs lets the apps above it plug in: start guards and session lifecycle listeners.

Billing (wallet, spending limit, unpaid invoice) registers a ``StartGuard`` that may veto a start by raising
an ``ApplicationError`` (``PaymentRequired`` 402, say) with its own code; it and webhooks register
``SessionListener``s to meter and announce sessions. Register from ``AppConfig.ready``; labs calls them in
registration order. A guard runs before anything is written; a listener that fails is logged and does not
undo the session's change (listeners must be idempotent: a retried step may tell them twice).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from labs.domain import Lab, SessionEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartRequest:
    tenant_id: str
    user_id: str
    lab: Lab
    region: str
    duration_minutes: int
    budget_usd: float


class StartGuard(Protocol):
    def check_start(self, request: StartRequest) -> None:
        """Raise an ApplicationError to refuse the start; return to allow it."""


class SessionListener(Protocol):
    def session_event(self, event: SessionEvent) -> None:
        """``event.kind`` is started, ready, ended, failed or spend_alert; durations are in the event."""


_guards: list[StartGuard] = []
_listeners: list[SessionListener] = []


def register_start_guard(guard: StartGuard) -> None:
    if all(g is not guard for g in _guards):
        _guards.append(guard)


def unregister_start_guard(guard: StartGuard) -> None:
    if guard in _guards:
        _guards.remove(guard)


def add_session_listener(listener: SessionListener) -> None:
    if all(existing is not listener for existing in _listeners):
        _listeners.append(listener)


def remove_session_listener(listener: SessionListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def check_start(request: StartRequest) -> None:
    for guard in list(_guards):
        guard.check_start(request)


def notify(event: SessionEvent) -> None:
    for listener in list(_listeners):
        try:
            listener.session_event(event)
        except Exception:
            logger.exception("session listener failed", extra={"event": event.kind, "session": event.session_id})
