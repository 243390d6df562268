"""The DynamoDB adapter of webhooks. Every item lives in the tenant's partition of its data table:

- endpoint:  SK ``WHEP#<endpoint id>`` (URL, event types, secrets, status, failing since)
- event:     SK ``WHEVT#<event id>``, written by ``cloudkida.events`` in the transaction of the change it
             describes; while not yet relayed it is on ``GSI1PK = WEBHOOKS#OUTBOX`` (``GSI1SK`` =
             ``<recorded at>#<tenant id>``), the one partition the relay reads; kept 7 days (``expires_at``)
- delivery:  SK ``WHDEL#<endpoint id>#<message id>``: the signed body, status, next attempt and the log of
             attempts (status code, latency), newest deliveries last; kept 30 days
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Also, Page, QueryScope, Table, tenant_data_table, tenant_pk
from cloudkida.dynamo.keys import join
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict

from .domain import Attempt, Delivery, DeliveryStatus, EndpointStatus, Secret, WebhookEndpoint

ENDPOINT, EVENT, DELIVERY = "WHEP", "WHEVT", "WHDEL"
OUTBOX = "WEBHOOKS#OUTBOX"
EVENT_DAYS, DELIVERY_DAYS = 7, 30


def _iso(value):
    return to_iso(value) if value is not None else None


def _when(value):
    return from_iso(value) if value else None


# --- endpoints ----------------------------------------------------------------------------------------------------
def _endpoint_item(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "PK": tenant_pk(e.tenant_id),
        "SK": join(ENDPOINT, e.endpoint_id),
        "entity": "webhook-endpoint",
        "tenant_id": e.tenant_id,
        "endpoint_id": e.endpoint_id,
        "url": e.url,
        "event_types": list(e.event_types),
        "description": e.description,
        "status": e.status.value,
        "secrets": _secrets(e.secrets),
        "contact_email": e.contact_email,
        "created_at": to_iso(e.created_at),
        "created_by": e.created_by,
    }


def _secrets(values: list[Secret]) -> list[dict[str, Any]]:
    return [
        {
            "value": s.value,
            "created_at": to_iso(s.created_at),
            **({"expires_at": to_iso(s.expires_at)} if s.expires_at else {}),
        }
        for s in values
    ]


def _endpoint(item: dict[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        tenant_id=item["tenant_id"],
        endpoint_id=item["endpoint_id"],
        url=item["url"],
        event_types=list(item.get("event_types") or []),
        description=item.get("description", ""),
        status=EndpointStatus(item["status"]),
        secrets=[Secret(s["value"], from_iso(s["created_at"]), _when(s.get("expires_at"))) for s in item["secrets"]],
        contact_email=item.get("contact_email", ""),
        created_at=from_iso(item["created_at"]),
        created_by=item.get("created_by", ""),
        failing_since=_when(item.get("failing_since")),
        disabled_reason=item.get("disabled_reason", ""),
        version=int(item["version"]),
    )


def endpoint_create(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return _endpoint(tenant_data_table(endpoint.tenant_id).create(_endpoint_item(endpoint)))


def endpoint_get(tenant_id: str, endpoint_id: str, *, consistent: bool = False) -> WebhookEndpoint | None:
    item = tenant_data_table(tenant_id).get(tenant_pk(tenant_id), join(ENDPOINT, endpoint_id), consistent=consistent)
    return _endpoint(item) if item else None


def endpoint_list(tenant_id: str) -> list[WebhookEndpoint]:
    """Every endpoint of the tenant (a tenant holds a handful: one Query)."""
    table = tenant_data_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(ENDPOINT, ""))
    return [_endpoint(i) for i in table.query_all(scope)]


def endpoint_update(endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Apply ``changes`` at the endpoint's version (Conflict ``version_conflict`` otherwise)."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "secrets":
            value = _secrets(value)
        elif hasattr(value, "isoformat"):
            value = to_iso(value)
        elif hasattr(value, "value"):
            value = value.value
        values[name] = value
    item = tenant_data_table(endpoint.tenant_id).update(
        tenant_pk(endpoint.tenant_id),
        join(ENDPOINT, endpoint.endpoint_id),
        expected_version=endpoint.version,
        changes=values,
    )
    return _endpoint(item)


def endpoint_delete(endpoint: WebhookEndpoint) -> None:
    tenant_data_table(endpoint.tenant_id).delete(
        tenant_pk(endpoint.tenant_id), join(ENDPOINT, endpoint.endpoint_id), expected_version=endpoint.version
    )


# --- the outbox ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxEvent:
    tenant_id: str
    sk: str
    msg_id: str
    type: str
    type_version: int
    data: dict[str, Any]
    recorded_at: str
    version: int


def event_put(
    tenant_id: str, *, event_id: str, msg_id: str, type_: str, type_version: int, data: dict[str, Any], now
) -> Also:
    """The outbox item of one event, as an operation of the caller's transaction. Unconditional: the same
    change retried writes the same key (its event id) again rather than failing the change."""
    table = tenant_data_table(tenant_id)
    recorded = to_iso(now)
    item = {
        "PK": tenant_pk(tenant_id),
        "SK": join(EVENT, event_id),
        "GSI1PK": OUTBOX,
        "GSI1SK": f"{recorded}#{tenant_id}",
        "entity": "webhook-event",
        "tenant_id": tenant_id,
        "msg_id": msg_id,
        "type": type_,
        "type_version": type_version,
        "data": data,
        "recorded_at": recorded,
        "expires_at": int((now + timedelta(days=EVENT_DAYS)).timestamp()),
        "version": 1,
    }
    return Also({"Put": {"TableName": table.name, "Item": serialize(item)}}, "webhook_event")


def _event(item: dict[str, Any]) -> OutboxEvent:
    return OutboxEvent(
        tenant_id=item["tenant_id"],
        sk=item["SK"],
        msg_id=item["msg_id"],
        type=item["type"],
        type_version=int(item.get("type_version", 1)),
        data=item.get("data") or {},
        recorded_at=item["recorded_at"],
        version=int(item["version"]),
    )


def outbox_pending(table_name: str, *, limit: int = 100) -> list[OutboxEvent]:
    """The oldest events of one data table not yet relayed (one Query of the outbox partition)."""
    table = Table(table_name)
    page = table.query(scope=QueryScope("", table_name, "GSI1", OUTBOX, ""), limit=limit)
    return [_event(i) for i in page.items]


def event_relayed(event: OutboxEvent, *, now) -> None:
    """Off the outbox partition (the deliveries exist and are queued); the item stays until it expires."""
    try:
        tenant_data_table(event.tenant_id).update(
            tenant_pk(event.tenant_id),
            event.sk,
            expected_version=event.version,
            changes={"GSI1PK": None, "GSI1SK": None, "relayed_at": to_iso(now)},
        )
    except Conflict:  # relayed meanwhile by another run (or rewritten by a retried change: relayed again)
        pass


def event_items(tenant_id: str) -> Iterator[dict[str, Any]]:
    table = tenant_data_table(tenant_id)
    yield from table.query_all(QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(EVENT, "")))


# --- deliveries ---------------------------------------------------------------------------------------------------
def _delivery_sk(endpoint_id: str, delivery_id: str) -> str:
    return join(DELIVERY, endpoint_id, delivery_id)


def _delivery_item(d: Delivery) -> dict[str, Any]:
    return {
        "PK": tenant_pk(d.tenant_id),
        "SK": _delivery_sk(d.endpoint_id, d.delivery_id),
        "entity": "webhook-delivery",
        "tenant_id": d.tenant_id,
        "endpoint_id": d.endpoint_id,
        "delivery_id": d.delivery_id,
        "event_type": d.event_type,
        "body": d.body,
        "status": d.status.value,
        "created_at": to_iso(d.created_at),
        "next_attempt_at": _iso(d.next_attempt_at),
        "attempts": [],
        "in_flight": 0,
        "expires_at": int((d.created_at + timedelta(days=DELIVERY_DAYS)).timestamp()),
        "version": 1,
    }


def _attempt(a: dict[str, Any]) -> Attempt:
    return Attempt(int(a["n"]), from_iso(a["at"]), a.get("status"), int(a.get("ms", 0)), a.get("error", ""))


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery(
        tenant_id=item["tenant_id"],
        endpoint_id=item["endpoint_id"],
        delivery_id=item["delivery_id"],
        event_type=item["event_type"],
        body=item["body"],
        status=DeliveryStatus(item["status"]),
        created_at=from_iso(item["created_at"]),
        next_attempt_at=_when(item.get("next_attempt_at")),
        attempts=[_attempt(a) for a in item.get("attempts") or []],
        in_flight=int(item.get("in_flight", 0)),
        in_flight_at=_when(item.get("in_flight_at")),
        round_start=int(item.get("round_start", 0)),
        last_error=item.get("last_error", ""),
        version=int(item["version"]),
    )


def deliveries_create(tenant_id: str, deliveries: list[Delivery]) -> list[Delivery]:
    """Write the deliveries of one event in one transaction; those that already exist (a relay that ran
    before and crashed) are kept as they are. Returns the deliveries as stored."""
    if not deliveries:
        return []
    table = tenant_data_table(tenant_id)
    operations = [
        {
            "Put": {
                "TableName": table.name,
                "Item": serialize(_delivery_item(d)),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        for d in deliveries
    ]
    try:
        table.transact(operations, labels=[f"delivery:{d.endpoint_id}" for d in deliveries], values={})
        return [_delivery(_delivery_item(d)) for d in deliveries]
    except Conflict:
        stored = []
        for d in deliveries:
            existing = delivery_get(tenant_id, d.endpoint_id, d.delivery_id, consistent=True)
            if existing is None:
                existing = _delivery(table.create(_delivery_item(d)))
            stored.append(existing)
        return stored


def delivery_get(tenant_id: str, endpoint_id: str, delivery_id: str, *, consistent: bool = False) -> Delivery | None:
    item = tenant_data_table(tenant_id).get(
        tenant_pk(tenant_id), _delivery_sk(endpoint_id, delivery_id), consistent=consistent
    )
    return _delivery(item) if item else None


def delivery_update(delivery: Delivery, *, attempt: Attempt | None = None, **changes: Any) -> Delivery:
    """Change the delivery at its version (Conflict ``version_conflict`` when another worker got there)."""
    values = {
        k: (_iso(v) if hasattr(v, "isoformat") or v is None else v.value if hasattr(v, "value") else v)
        for k, v in changes.items()
    }
    if attempt is not None:
        entry = {"n": attempt.number, "at": to_iso(attempt.at), "status": attempt.status_code, "ms": attempt.latency_ms}
        if attempt.error:
            entry["error"] = attempt.error
        values["attempts"] = [
            *(
                {
                    "n": a.number,
                    "at": to_iso(a.at),
                    "status": a.status_code,
                    "ms": a.latency_ms,
                    **({"error": a.error} if a.error else {}),
                }
                for a in delivery.attempts
            ),
            entry,
        ]
    item = tenant_data_table(delivery.tenant_id).update(
        tenant_pk(delivery.tenant_id),
        _delivery_sk(delivery.endpoint_id, delivery.delivery_id),
        expected_version=delivery.version,
        changes=values,
    )
    return _delivery(item)


def delivery_page(tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None) -> Page:
    """An endpoint's deliveries, newest first (message ids are ULIDs, so key order is time order)."""
    table = tenant_data_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(DELIVERY, endpoint_id, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor, forward=False)
    page.items = [_delivery(i) for i in page.items]
    return page
