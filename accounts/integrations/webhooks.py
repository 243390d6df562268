"""Webhooks: tenant admins' endpoints, the recorder of ``cloudkida.events``, the relay and the delivery worker.

The path of one event:
1. ``record`` (the recorder ``cloudkida.events`` calls) adds the event's outbox item to the transaction of the
   change it describes: no change, no event; a change, always its event.
2. ``relay`` (the ``webhooks-deliver`` schedule, every minute; ``manage.py deliver_webhooks`` locally) reads
   the outbox partition of each data table, writes one delivery per subscribed endpoint (one transaction),
   sends one SQS message per delivery to the ``webhooks`` queue and takes the event off the outbox. A crash
   anywhere repeats the step: deliveries that exist are kept, duplicate messages are dropped by the worker.
3. ``drain`` receives the queue's messages; each names a delivery and an attempt number. The worker claims
   the attempt (a versioned write: a duplicate message loses), signs and POSTs the body, logs the attempt
   (status code, latency) and, on failure, sends the next attempt's message with its due time
   (``RETRY_DELAYS``: about a day in all; a delay longer than SQS's 15 minutes takes several hops).
4. An endpoint whose deliveries have all failed for ``CLOUDKIDA_WEBHOOK_DISABLE_AFTER`` (a day) is disabled and
   its contact emailed. An admin can redeliver any delivery, which starts its schedule again.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws, clock, email, events, resources
from cloudkida.dynamo import Page, tables
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from cloudkida.events import EventType
from cloudkida.ids import new_ulid
from tenants.domain import Tier
from tenants.selectors import tenant_data_table_name, tenant_get_cached, tenant_list
from tenants.services import audit

from . import delivery as http
from . import webhook_repository as repo
from .domain import Attempt, Delivery, DeliveryStatus, EndpointStatus, Secret, WebhookEndpoint

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 10  # per tenant
# Seconds to wait before attempts 2, 3, ... of a delivery (the schedule Standard Webhooks' authors use):
# 8 attempts over 27.6 hours, then the delivery has failed; so an endpoint that never answers is disabled
# (after CLOUDKIDA_WEBHOOK_DISABLE_AFTER, a day) by the last attempts of its first failed delivery at the latest.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_OVERLAP_SECONDS = 7 * 86400
QUEUE = resources.Queue("webhooks", "webhook deliveries: one message per attempt", visibility_timeout=120)
SCHEDULE = resources.Schedule(
    "webhooks-deliver",
    "rate(1 minute)",
    "accounts.integrations.jobs.deliver_webhooks",
    "relay recorded events to their endpoints and deliver the due attempts",
)
DISABLED_EMAIL_KIND = "webhook.endpoint_disabled"


# --- recording (the recorder of cloudkida.events) -----------------------------------------------------------------
def record(tenant_id: str, event_type: EventType, data: dict[str, Any], event_id: str) -> list:
    """The outbox item of one event for the caller's transaction (registered with ``events.set_recorder``)."""
    if not event_id or "#" in event_id or len(event_id) > 200:
        raise ValueError("event ids are up to 200 characters without '#'")
    return [
        repo.event_put(
            tenant_id,
            event_id=event_id,
            msg_id=f"msg_{new_ulid()}",
            type_=event_type.name,
            type_version=event_type.version,
            data=data,
            now=clock.now(),
        )
    ]


# --- endpoints ----------------------------------------------------------------------------------------------------
def _event_types(values) -> list[str]:
    known = {t.name for t in events.catalogue()}
    chosen = sorted({str(v) for v in (values or [])})
    if not chosen:
        raise ValidationFailed('Choose at least one event type (or "*" for all).', code="invalid_event_types")
    unknown = [v for v in chosen if v != "*" and v not in known]
    if unknown:
        raise ValidationFailed(
            "Unknown event types.",
            code="invalid_event_types",
            details={"unknown": unknown[:10], "known": sorted(known)},
        )
    return chosen


def _description(value: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > 200:
        raise ValidationFailed("Descriptions are at most 200 characters.", code="invalid_description")
    return value


def _contact(value: str) -> str:
    value = (value or "").strip().lower()
    if not value or "@" not in value or len(value) > 254 or any(c.isspace() for c in value):
        raise ValidationFailed("Give the email address to tell when the endpoint fails.", code="invalid_contact_email")
    return value


def endpoint_list(*, tenant_id: str) -> list[WebhookEndpoint]:
    """The tenant's endpoints, oldest first."""
    return sorted(repo.endpoint_list(tenant_id), key=lambda e: e.created_at)


def endpoint_get(*, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = repo.endpoint_get(tenant_id, endpoint_id) if _well_formed(endpoint_id) else None
    if endpoint is None:
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
    return endpoint


def _well_formed(value: str) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and value.replace("_", "").isalnum()


def endpoint_create(
    *,
    tenant_id: str,
    url: str,
    event_types: list[str],
    description: str = "",
    contact_email: str,
    created_by: str,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint with its first signing secret; returns it and the secret (also readable later)."""
    url = http.check_url(url)
    types = _event_types(event_types)
    if len(repo.endpoint_list(tenant_id)) >= MAX_ENDPOINTS:
        raise ValidationFailed(f"A tenant may have at most {MAX_ENDPOINTS} endpoints.", code="too_many_endpoints")
    now = clock.now()
    secret = http.new_secret()
    endpoint = repo.endpoint_create(
        WebhookEndpoint(
            tenant_id=tenant_id,
            endpoint_id=f"ep_{uuid.uuid4().hex[:20]}",
            url=url,
            event_types=types,
            description=_description(description),
            status=EndpointStatus.ACTIVE,
            secrets=[Secret(secret, now)],
            contact_email=_contact(contact_email),
            created_at=now,
            created_by=created_by,
        )
    )
    audit(tenant_id, "webhook.endpoint_created", created_by, endpoint_id=endpoint.endpoint_id, url=url)
    return endpoint, secret


def endpoint_update(
    *, tenant_id: str, endpoint_id: str, expected_version: int, actor: str, **changes: Any
) -> WebhookEndpoint:
    """Change url, event types, description, contact or status at ``expected_version``. Enabling a disabled
    endpoint forgets its failures (its failed deliveries can then be redelivered)."""
    endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    endpoint.version = expected_version
    values: dict[str, Any] = {}
    if "url" in changes:
        values["url"] = http.check_url(changes["url"])
    if "event_types" in changes:
        values["event_types"] = _event_types(changes["event_types"])
    if "description" in changes:
        values["description"] = _description(changes["description"])
    if "contact_email" in changes:
        values["contact_email"] = _contact(changes["contact_email"])
    if "status" in changes:
        try:
            status = EndpointStatus(changes["status"])
        except ValueError as error:
            raise ValidationFailed("Status is active or disabled.", code="invalid_status") from error
        values["status"] = status
        if status is EndpointStatus.ACTIVE:
            values.update(failing_since=None, disabled_reason=None)
        elif endpoint.status is EndpointStatus.ACTIVE:
            values["disabled_reason"] = "disabled by an administrator"
    if not values:
        raise ValidationFailed("Nothing to change.", code="nothing_to_change")
    updated = repo.endpoint_update(endpoint, **values)
    audit(tenant_id, "webhook.endpoint_updated", actor, endpoint_id=endpoint_id, fields=sorted(values))
    return updated


def endpoint_delete(*, tenant_id: str, endpoint_id: str, actor: str) -> None:
    """Delete an endpoint (its deliveries expire with their TTL; queued attempts are dropped)."""
    endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    repo.endpoint_delete(endpoint)
    audit(tenant_id, "webhook.endpoint_deleted", actor, endpoint_id=endpoint_id, url=endpoint.url)


def endpoint_rotate_secret(
    *, tenant_id: str, endpoint_id: str, overlap_seconds: int = 86400, actor: str
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret; the current ones keep signing too for ``overlap_seconds`` (0 to 7 days), so
    receivers can switch without missing a delivery. Returns the endpoint and the new secret."""
    if not isinstance(overlap_seconds, int) or not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise ValidationFailed("The overlap is 0 to 604800 seconds.", code="invalid_overlap")
    endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    now = clock.now()
    until = now + timedelta(seconds=overlap_seconds)
    kept = [
        Secret(s.value, s.created_at, min(s.expires_at, until) if s.expires_at else until)
        for s in endpoint.live_secrets(now)
        if overlap_seconds > 0
    ]
    secret = http.new_secret()
    updated = repo.endpoint_update(endpoint, secrets=[Secret(secret, now), *kept])
    audit(tenant_id, "webhook.secret_rotated", actor, endpoint_id=endpoint_id, overlap_seconds=overlap_seconds)
    return updated, secret


def endpoint_secret(*, tenant_id: str, endpoint_id: str) -> str:
    """The endpoint's newest signing secret (what receivers verify with)."""
    return endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id).secrets[0].value


# --- deliveries ---------------------------------------------------------------------------------------------------
def delivery_list(*, tenant_id: str, endpoint_id: str, limit: int = 50, cursor: str | None = None) -> Page:
    """An endpoint's deliveries with their attempts, newest first."""
    endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    return repo.delivery_page(tenant_id, endpoint_id, limit=limit, cursor=cursor)


def delivery_get(*, tenant_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
    found = (
        repo.delivery_get(tenant_id, endpoint_id, delivery_id, consistent=True)
        if _well_formed(endpoint_id) and _well_formed(delivery_id)
        else None
    )
    if found is None:
        raise NotFound("No such delivery.", code="webhook_delivery_not_found")
    return found


def delivery_redeliver(*, tenant_id: str, endpoint_id: str, delivery_id: str, actor: str) -> Delivery:
    """Send a delivery again now (whatever its state), its retry schedule started afresh. 409
    ``endpoint_disabled`` while the endpoint is disabled (enable it first)."""
    endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    if endpoint.status is not EndpointStatus.ACTIVE:
        raise Conflict("The endpoint is disabled; enable it first.", code="endpoint_disabled")
    found = delivery_get(tenant_id=tenant_id, endpoint_id=endpoint_id, delivery_id=delivery_id)
    now = clock.now()
    updated = repo.delivery_update(
        found, status=DeliveryStatus.PENDING, next_attempt_at=now, round_start=len(found.attempts), in_flight=0
    )
    _enqueue([(updated, len(updated.attempts) + 1, now)])
    audit(tenant_id, "webhook.redelivered", actor, endpoint_id=endpoint_id, delivery_id=delivery_id)
    return updated


# --- the queue ----------------------------------------------------------------------------------------------------
_queue_urls: dict[str, str] = {}


def _queue_url() -> str:
    key = f"{settings.AWS_ENDPOINT_URL}|{QUEUE.name}"
    if key not in _queue_urls:
        _queue_urls[key] = aws.client("sqs").get_queue_url(QueueName=QUEUE.name)["QueueUrl"]
    return _queue_urls[key]


def _message(d: Delivery, attempt: int, due: datetime) -> dict[str, Any]:
    return {"t": d.tenant_id, "e": d.endpoint_id, "d": d.delivery_id, "n": attempt, "at": due.timestamp()}


def _enqueue(entries: list[tuple[Delivery, int, datetime]]) -> None:
    now = clock.now()
    for start in range(0, len(entries), 10):
        batch = []
        for n, (d, attempt, due) in enumerate(entries[start : start + 10]):
            delay = max(0, min(int((due - now).total_seconds()), settings.CLOUDKIDA_WEBHOOK_MAX_QUEUE_DELAY))
            batch.append({"Id": str(n), "MessageBody": json.dumps(_message(d, attempt, due)), "DelaySeconds": delay})
        response = aws.client("sqs").send_message_batch(QueueUrl=_queue_url(), Entries=batch)
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} webhook messages")


def _resend(body: dict[str, Any], now: datetime) -> None:
    delay = max(0, min(int(body["at"] - now.timestamp()) + 1, settings.CLOUDKIDA_WEBHOOK_MAX_QUEUE_DELAY))
    aws.client("sqs").send_message(QueueUrl=_queue_url(), MessageBody=json.dumps(body), DelaySeconds=delay)


# --- relay: outbox -> deliveries -> queue -------------------------------------------------------------------------
# CloudKida's own consumers of events (LTI grade passback on task.checked): called once per relayed event,
# before it leaves the outbox; a consumer that fails is logged and the event is relayed anyway.
Consumer = Callable[[str, dict[str, Any]], Any]
_consumers: dict[str, list[Consumer]] = {}


def add_consumer(event_type: str, consumer: Consumer) -> None:
    """Call ``consumer(tenant_id, data)`` for every relayed event of ``event_type`` (from AppConfig.ready)."""
    found = _consumers.setdefault(event_type, [])
    if consumer not in found:
        found.append(consumer)


def _consume(event: repo.OutboxEvent) -> None:
    for consumer in _consumers.get(event.type, []):
        try:
            consumer(event.tenant_id, event.data)
        except Exception:
            logger.exception("event consumer failed", extra={"event_type": event.type, "tenant_id": event.tenant_id})


def _data_tables() -> list[str]:
    """The pooled data table and every silo (Platinum) tenant's own table."""
    names = [tables.pooled_table().name]
    cursor = None
    while True:
        page = tenant_list(tier=Tier.PLATINUM, limit=100, cursor=cursor)
        names += [tenant_data_table_name(tenant_id=t.tenant_id) for t in page.items]
        if not page.cursor:
            break
        cursor = page.cursor
    return list(dict.fromkeys(names))


def body_of(event: repo.OutboxEvent) -> str:
    """The JSON every endpoint receives for an event (signed exactly as sent)."""
    payload = {"type": event.type, "version": event.type_version, "timestamp": event.recorded_at, "data": event.data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


def relay(*, limit: int = 100, table_names: list[str] | None = None) -> dict[str, int]:
    """Move recorded events into deliveries and queue their first attempts (idempotent, resumable)."""
    relayed = queued = 0
    for table_name in table_names if table_names is not None else _data_tables():
        endpoints: dict[str, list[WebhookEndpoint]] = {}
        for event in repo.outbox_pending(table_name, limit=limit):
            if event.tenant_id not in endpoints:
                endpoints[event.tenant_id] = repo.endpoint_list(event.tenant_id)
            now = clock.now()
            wanted = [e for e in endpoints[event.tenant_id] if e.wants(event.type)]
            body = body_of(event)
            stored = repo.deliveries_create(
                event.tenant_id,
                [
                    Delivery(
                        event.tenant_id, e.endpoint_id, event.msg_id, event.type, body, DeliveryStatus.PENDING, now, now
                    )
                    for e in wanted
                ],
            )
            first = [(d, 1, now) for d in stored if d.status is DeliveryStatus.PENDING and not d.attempts]
            if first:
                _enqueue(first)
            _consume(event)
            repo.event_relayed(event, now=now)
            relayed += 1
            queued += len(first)
    return {"relayed": relayed, "queued": queued}


# --- the worker ---------------------------------------------------------------------------------------------------
def drain(*, seconds: float = 50.0, max_messages: int = 10_000) -> dict[str, int]:
    """Receive and handle the queue's messages until it has nothing due, ``seconds`` pass or
    ``max_messages`` were handled. Messages whose attempt is not due yet go back with their delay."""
    started, handled, outcomes = time.monotonic(), 0, {"sent": 0, "failed": 0, "dropped": 0, "not_due": 0}
    sqs = aws.client("sqs")
    while handled < max_messages and time.monotonic() - started < seconds:
        response = sqs.receive_message(QueueUrl=_queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = response.get("Messages", [])
        if not messages:
            break
        due = 0
        for message in messages:
            outcome = handle(json.loads(message["Body"]))
            outcomes[outcome] += 1
            due += outcome != "not_due"
            sqs.delete_message(QueueUrl=_queue_url(), ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        if not due:  # only attempts that wait: they are back on the queue with their delay
            break
    return outcomes


def handle(message: dict[str, Any]) -> str:
    """One attempt of one delivery: ``sent``, ``failed`` (logged, next attempt queued or given up),
    ``dropped`` (a duplicate, or nothing left to do) or ``not_due`` (sent back to wait)."""
    now = clock.now()
    tenant_id, endpoint_id, delivery_id, number = message["t"], message["e"], message["d"], int(message["n"])
    if float(message["at"]) > now.timestamp():
        _resend(message, now)
        return "not_due"
    found = repo.delivery_get(tenant_id, endpoint_id, delivery_id, consistent=True)
    if found is None or found.status is not DeliveryStatus.PENDING or number != len(found.attempts) + 1:
        return "dropped"
    claimed_at = found.in_flight_at
    if found.in_flight == number and claimed_at and now - claimed_at < timedelta(seconds=QUEUE.visibility_timeout):
        return "dropped"
    endpoint = repo.endpoint_get(tenant_id, endpoint_id, consistent=True)
    if endpoint is None or endpoint.status is not EndpointStatus.ACTIVE:
        reason = "the endpoint was deleted" if endpoint is None else "the endpoint is disabled"
        try:
            repo.delivery_update(found, status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=reason)
        except Conflict:
            pass
        return "dropped"
    try:
        found = repo.delivery_update(found, in_flight=number, in_flight_at=now)
    except Conflict:  # another worker claimed this attempt first
        return "dropped"
    body = found.body.encode()
    headers = http.signed_headers(
        [s.value for s in endpoint.live_secrets(now)], delivery_id, int(now.timestamp()), body
    )
    outcome = http.post(endpoint.url, body, headers)
    attempt = Attempt(number, now, outcome.status_code, outcome.latency_ms, outcome.error)
    if attempt.ok:
        repo.delivery_update(found, attempt=attempt, status=DeliveryStatus.DELIVERED, next_attempt_at=None, in_flight=0)
        if endpoint.failing_since is not None:
            _endpoint_change(endpoint, failing_since=None)
        return "sent"
    in_round = number - found.round_start
    if in_round <= len(RETRY_DELAYS):
        due = now + timedelta(seconds=RETRY_DELAYS[in_round - 1])
        _enqueue([(found, number + 1, due)])  # before the log: a crash now repeats this attempt, never loses it
        repo.delivery_update(found, attempt=attempt, next_attempt_at=due, in_flight=0)
    else:
        repo.delivery_update(found, attempt=attempt, status=DeliveryStatus.FAILED, next_attempt_at=None, in_flight=0)
    _endpoint_failed(endpoint, now)
    return "failed"


def _endpoint_change(endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint | None:
    for _ in range(3):
        try:
            return repo.endpoint_update(endpoint, **changes)
        except Conflict:
            endpoint = repo.endpoint_get(endpoint.tenant_id, endpoint.endpoint_id, consistent=True)
            if endpoint is None:
                return None
    return None


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    if endpoint.failing_since is None:
        _endpoint_change(endpoint, failing_since=now)
        return
    if now - endpoint.failing_since < timedelta(seconds=settings.CLOUDKIDA_WEBHOOK_DISABLE_AFTER):
        return
    reason = f"every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
    disabled = _endpoint_change(endpoint, status=EndpointStatus.DISABLED, disabled_reason=reason)
    if disabled is None:
        return
    audit(endpoint.tenant_id, "webhook.endpoint_disabled", "webhooks", endpoint_id=endpoint.endpoint_id, reason=reason)
    tenant = tenant_get_cached(tenant_id=endpoint.tenant_id)
    try:
        email.send(
            tenant_id=endpoint.tenant_id,
            kind=DISABLED_EMAIL_KIND,
            to=endpoint.contact_email,
            subject=f"{tenant.name}: a webhook endpoint was disabled",
            body=(
                f"CloudKida disabled the webhook endpoint {endpoint.url} of {tenant.name}: {reason}.\n\n"
                "Fix the receiver, enable the endpoint again in the portal (Webhooks) or the API, then redeliver "
                "the deliveries it missed.\n"
            ),
            display_name=tenant.name,
        )
    except ClientError:  # the email module keeps refused mail in its outbox; anything else is logged
        logger.exception("webhook disabled email failed", extra={"endpoint": endpoint.endpoint_id})


def catalogue_markdown() -> str:
    """The event catalogue as docs/webhooks.md shows it (a test keeps the two equal)."""
    parts = []
    for t in events.catalogue():
        schema = json.dumps(t.schema, indent=2, sort_keys=True)
        parts.append(f"### `{t.name}` (version {t.version})\n\n{t.description}\n\n```json\n{schema}\n```\n")
    return "\n".join(parts)
