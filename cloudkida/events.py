"""Domain events that leave CloudKida (webhooks): declared by the app that owns them, recorded in the same
DynamoDB transaction as the change they describe.

An app declares its event types (``declare``: name, version, description, JSON schema of ``data``) from
``AppConfig.ready`` and, wherever a change happens, adds ``events.also(...)`` to the transaction that makes
it::

    table.update(pk, sk, expected_version=v, changes=..., also=events.also(tenant_id, "invoice.issued", data,
                 event_id=f"invoice.issued:{invoice_id}"))

so an event is written exactly when its change is (never lost, never sent for a change that did not
happen). What the event becomes — an outbox item, deliveries to the tenant's endpoints — belongs to the
recorder the integrations register (``set_recorder``); with none registered ``also`` adds nothing, so the
apps that emit events do not depend on the one that delivers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cloudkida.dynamo import Also


@dataclass(frozen=True)
class EventType:
    name: str  # "lab_session.ready": <resource>.<what happened>
    version: int
    description: str
    schema: dict[str, Any] = field(default_factory=dict)  # JSON schema of the event's ``data``


Recorder = Callable[[str, EventType, dict[str, Any], str], Sequence[Also]]
_types: dict[str, EventType] = {}
_recorder: list[Recorder] = []


def declare(*types: EventType) -> None:
    for event_type in types:
        existing = _types.get(event_type.name)
        if existing is not None and existing != event_type:
            raise ValueError(f"event type {event_type.name!r} is already declared differently")
        _types[event_type.name] = event_type


def catalogue() -> list[EventType]:
    """Every declared event type, by name (the documented catalogue)."""
    return [_types[name] for name in sorted(_types)]


def set_recorder(recorder: Recorder) -> None:
    _recorder[:] = [recorder]


def also(tenant_id: str, name: str, data: dict[str, Any], *, event_id: str) -> list[Also]:
    """The operations that record event ``name`` for ``tenant_id`` in the caller's transaction.

    ``event_id`` is the event's idempotency key (the same change retried records one event): derive it
    from the change, e.g. ``f"lab_session.ended:{session_id}"``.
    """
    event_type = _types.get(name)
    if event_type is None:
        raise ValueError(f"undeclared event type {name!r}")
    if not _recorder:
        return []
    return list(_recorder[0](tenant_id, event_type, data, event_id))
