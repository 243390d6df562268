"""Webhooks: DynamoDB requests per event relayed from the outbox and per delivery attempt, with 10 and with
1,000 endpoints in other tenants, and with 10^3 and 10^5 events already recorded and delivered.

Each scenario seeds the other tenants' endpoints and the history (relayed events and their deliveries) by
batch writes straight into the pooled table (a state no service makes quickly), then records 50 events for
one tenant through ``cloudkida.events`` (each in the transaction of a one-item change), relays them and
delivers them to a real HTTP server on loopback. Every request is counted. Recording an event adds one item
to the change's own transaction and no request; relaying and delivering must cost the same whatever the
other tenants hold, because they read only the outbox partition and the tenant's own partition.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.test.utils import override_settings
from moto import mock_aws

from accounts.integrations import webhooks
from benchmarks.counting import count_requests
from benchmarks.portal import _touched_items_rollback
from cloudkida import aws, clock, events
from cloudkida.bootstrap import bootstrap
from cloudkida.dynamo import tables, tenant_data_table, tenant_pk
from cloudkida.dynamo.store import serialize
from cloudkida.ids import new_ulid
from tenants import provisioning
from tenants.selectors import tenant_cache_clear, tenant_id_for_slug
from tenants.services import tenant_register
from tests.accounts.webhook_receiver import serve

EVENTS = 50
SCENARIOS = ((10, 1_000), (1_000, 1_000), (10, 100_000))  # (other tenants' endpoints, events in history)


def _batch_put(items: list[dict]) -> None:
    client = aws.client("dynamodb")
    name = tables.pooled_table().name
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": serialize(i)}} for i in items[start : start + 25]]
        while pending:
            response = client.batch_write_item(RequestItems={name: pending})
            pending = response.get("UnprocessedItems", {}).get(name, [])


def _seed(other_endpoints: int, history: int) -> None:
    now = clock.to_iso(clock.now())
    items, tenants = [], [new_ulid() for _ in range(max(1, other_endpoints // 10))]
    for n in range(other_endpoints):
        tenant = tenants[n % len(tenants)]
        items.append(
            {
                "PK": tenant_pk(tenant),
                "SK": f"WHEP#ep_bench{n}",
                "entity": "webhook-endpoint",
                "tenant_id": tenant,
                "endpoint_id": f"ep_bench{n}",
                "url": "https://hooks.example.com/x",
                "event_types": ["*"],
                "description": "",
                "status": "active",
                "secrets": [{"value": "whsec_AAAA", "created_at": now}],
                "contact_email": "ops@example.com",
                "created_at": now,
                "created_by": "bench",
                "version": 1,
            }
        )
    for n in range(history):
        tenant = tenants[n % len(tenants)]
        items.append(
            {
                "PK": tenant_pk(tenant),
                "SK": f"WHEVT#bench:{n}",
                "msg_id": f"msg_h{n}",
                "type": "user.invited",
                "tenant_id": tenant,
                "data": {},
                "recorded_at": now,
                "relayed_at": now,
                "version": 2,
            }
        )
        items.append(
            {
                "PK": tenant_pk(tenant),
                "SK": f"WHDEL#ep_bench{n % max(1, other_endpoints)}#msg_h{n}",
                "tenant_id": tenant,
                "status": "delivered",
                "body": "{}",
                "attempts": [],
                "version": 3,
            }
        )
    _batch_put(items)


def _scenario(index: int, other_endpoints: int, history: int) -> dict:
    slug = f"bench{index}"
    tenant_register(
        name=f"Bench {index}",
        slug=slug,
        admin_email=f"admin@{slug}.example",
        admin_name="A",
        tier="basic",
        country="US",
        client_address=slug,
    )
    tenant_id = tenant_id_for_slug(slug)
    server, receiver = serve()
    try:
        webhooks.endpoint_create(
            tenant_id=tenant_id,
            url=receiver.url,
            event_types=["user.disabled"],
            contact_email=f"admin@{slug}.example",
            created_by="bench",
        )
        webhooks.relay()  # nothing pending from the registration itself
        webhooks.drain()
        started = time.monotonic()
        _seed(other_endpoints, history)
        seed_seconds = time.monotonic() - started
        table = tenant_data_table(tenant_id)
        with count_requests() as recording:
            for n in range(EVENTS):
                data = {"user_id": f"u{n}", "email": f"u{n}@{slug}.example"}
                table.create(
                    {"PK": tenant_pk(tenant_id), "SK": f"BENCH#{n}"},
                    also=events.also(tenant_id, "user.disabled", data, event_id=f"user.disabled:u{n}:{index}"),
                )
        with count_requests() as relaying:
            relayed = webhooks.relay()
        with count_requests() as delivering:
            drained = webhooks.drain(seconds=300)
        receiver.statuses = [500] * EVENTS  # and the retry path: every next attempt fails once
        for n in range(EVENTS):
            table.create(
                {"PK": tenant_pk(tenant_id), "SK": f"BENCH#r{n}"},
                also=events.also(
                    tenant_id,
                    "user.disabled",
                    {"user_id": f"r{n}", "email": "r@x.example"},
                    event_id=f"user.disabled:r{n}:{index}",
                ),
            )
        webhooks.relay()
        with count_requests() as failing:
            failed = webhooks.drain(seconds=300)
        with clock.frozen(clock.now() + timedelta(seconds=10)), count_requests() as retrying:
            retried = webhooks.drain(seconds=300)
    finally:
        server.shutdown()
        server.server_close()
    assert relayed["relayed"] == EVENTS and drained["sent"] == EVENTS, (relayed, drained)
    assert failed["failed"] == EVENTS and retried["sent"] == EVENTS, (failed, retried)
    return {
        "other_endpoints": other_endpoints,
        "history_events": history,
        "recording_requests_per_event": recording.dynamodb / EVENTS,
        "outbox_requests_per_event": relaying.dynamodb / EVENTS,
        "requests_per_delivery": delivering.dynamodb / EVENTS,
        "requests_per_failed_attempt": failing.dynamodb / EVENTS,
        "requests_per_retry": retrying.dynamodb / EVENTS,
        "sqs_requests_per_delivery": (delivering.total - delivering.dynamodb) / EVENTS,
        "relay_by_operation": relaying.by_operation,
        "delivery_by_operation": delivering.by_operation,
        "seed_seconds": round(seed_seconds, 1),
    }


def run() -> dict:
    runs = []
    with (
        override_settings(
            CLOUDKIDA_WORKFLOW_RUNNER="inline",
            CLOUDKIDA_JOB_RUNNER="inline",
            CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK=True,
            CLOUDKIDA_WEBHOOK_MAX_QUEUE_DELAY=0,
        ),
        mock_aws(),
        _touched_items_rollback(),
    ):
        aws.reset()
        tenant_cache_clear()
        provisioning._platform_cache.invalidate()
        bootstrap(apps=False)
        for index, (endpoints, history) in enumerate(SCENARIOS):
            runs.append(_scenario(index, endpoints, history))
    base, many_endpoints, long_history = runs
    keys = ("outbox_requests_per_event", "requests_per_delivery", "requests_per_failed_attempt", "requests_per_retry")
    ok = (
        all(many_endpoints[k] == base[k] == long_history[k] for k in keys) and base["recording_requests_per_event"] == 1
    )
    result = {
        "outbox_requests_per_event_10": base["outbox_requests_per_event"],
        "outbox_requests_per_event_1000": many_endpoints["outbox_requests_per_event"],
        "requests_per_delivery_10": base["requests_per_delivery"],
        "requests_per_delivery_1000": many_endpoints["requests_per_delivery"],
        "outbox_requests_per_event_history_1000": base["outbox_requests_per_event"],
        "outbox_requests_per_event_history_100000": long_history["outbox_requests_per_event"],
        "requests_per_delivery_history_1000": base["requests_per_delivery"],
        "requests_per_delivery_history_100000": long_history["requests_per_delivery"],
        "runs": runs,
    }
    rows = [f"Webhooks: {EVENTS} events recorded, relayed and delivered to a loopback server (moto in-process)"]
    for r in runs:
        rows.append(
            f"{r['other_endpoints']:>5} endpoints elsewhere, {r['history_events']:>6} events in history: "
            f"record {r['recording_requests_per_event']:.2f} (the change's own transaction), "
            f"relay {r['outbox_requests_per_event']:.2f}, deliver {r['requests_per_delivery']:.2f}, "
            f"failed attempt {r['requests_per_failed_attempt']:.2f}, retry {r['requests_per_retry']:.2f} "
            f"DynamoDB requests per event; SQS {r['sqs_requests_per_delivery']:.2f} per delivery"
        )
    rows.append("relay by operation: " + ", ".join(f"{k} {v}" for k, v in base["relay_by_operation"].items()))
    rows.append("delivery by operation: " + ", ".join(f"{k} {v}" for k, v in base["delivery_by_operation"].items()))
    verdict = (
        "Requests per relayed event and per delivery attempt are the same whatever other tenants hold."
        if ok
        else "FAILED: requests per event or per delivery grow with other tenants' endpoints or history."
    )
    return {"name": "integrations", "results": result, "ok": ok, "verdict": verdict, "table": "\n".join(rows)}
