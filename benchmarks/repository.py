"""DynamoDB requests per core repository operation, with 1,000 and with 50,000 items in the table.

Filler items are written straight into the tables (no service creates 50,000 users quickly);
the measured operations then go through the real services and adapters. Every operation must
make the same number of requests at both sizes: O(1) in the size of the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from moto import mock_aws

from accounts import repository as users_repo
from accounts.selectors import user_get, user_get_by_email, user_list
from accounts.services import user_create, user_update
from benchmarks.counting import count_requests
from cloudkida import aws
from cloudkida.dynamo import Prefix, Table, tables, tenant_pk
from cloudkida.dynamo.keys import entity_sk, unique_key
from cloudkida.dynamo.store import serialize
from cloudkida.ids import new_ulid
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_cache_clear, tenant_get, tenant_list
from tenants.services import tenant_create, tenant_update

SIZES = (1_000, 50_000)
FILLER_TENANTS = 50  # filler spread over this many tenants, plus the measured tenant gets its share


_BENCH: dict[str, str] = {}


def _bench() -> str:
    """The measured tenant's id."""
    return _BENCH["id"]


def _fill(total_items: int) -> None:
    """Write ``total_items`` user items (each with its email marker counted as an item) in batches."""
    client = aws.client("dynamodb")
    table = tables.pooled_table().name
    per_tenant = total_items // (FILLER_TENANTS + 1) // 2
    requests: list[dict] = []
    for t in range(FILLER_TENANTS + 1):
        tenant_id = _bench() if t == FILLER_TENANTS else new_ulid()
        for n in range(per_tenant):
            email = f"user{n}@{tenant_id}.example"
            user_id = f"u{n:08d}"
            requests.append(
                {
                    "PutRequest": {
                        "Item": serialize(
                            {
                                "PK": tenant_pk(tenant_id),
                                "SK": entity_sk(Prefix.USER, user_id),
                                "entity": "user",
                                "tenant_id": tenant_id,
                                "user_id": user_id,
                                "email": email,
                                "name": f"User {n}",
                                "role": "TenantUser",
                                "status": "ACTIVE",
                                "created_at": "2026-01-01T00:00:00+00:00",
                                "version": 1,
                            }
                        )
                    }
                }
            )
            marker = unique_key("email", email, tenant_id=tenant_id)
            requests.append(
                {
                    "PutRequest": {
                        "Item": serialize(
                            {
                                **marker,
                                "kind": "email",
                                "value": email,
                                "owner_pk": tenant_pk(tenant_id),
                                "owner_sk": entity_sk(Prefix.USER, user_id),
                                "version": 1,
                            }
                        )
                    }
                }
            )
    for start in range(0, len(requests), 25):
        client.batch_write_item(RequestItems={table: requests[start : start + 25]})


def _operations() -> list[tuple[str, Callable[[], object]]]:
    state: dict = {}

    def create():
        state["user"] = user_create(tenant_id=_bench(), email="measured@bench.example", name="Measured")

    def get():
        user_get(tenant_id=_bench(), user_id=state["user"].user_id)

    def by_email():
        user_get_by_email(tenant_id=_bench(), email="measured@bench.example")

    def update():
        state["user"] = user_update(
            tenant_id=_bench(), user_id=state["user"].user_id, expected_version=state["user"].version, name="Renamed"
        )

    def change_email():
        user = state["user"]
        state["user"] = users_repo.update(_bench(), user, email="moved@bench.example")

    def page():
        user_list(tenant_id=_bench(), limit=50)

    def next_page():
        first = user_list(tenant_id=_bench(), limit=50)
        state["cursor"] = first.cursor

    def follow_cursor():
        user_list(tenant_id=_bench(), limit=50, cursor=state["cursor"])

    def delete():
        users_repo.delete(_bench(), state["user"])

    def tenant_new():
        state["tenant"] = tenant_create(slug="measured-org", name="Measured Org", tier=Tier.BASIC)

    def tenant_read():
        tenant_get(tenant_id=state["tenant"].tenant_id)

    def tenant_change():
        tenant_update(tenant=state["tenant"], status=TenantStatus.ACTIVE)

    def tenant_page():
        tenant_list(status=TenantStatus.ACTIVE, limit=50)

    return [
        ("user create (+email unique, transaction)", create),
        ("user get by id", get),
        ("user get by email", by_email),
        ("user update (versioned)", update),
        ("user change email (moves unique marker)", change_email),
        ("user list, first page of 50", page),
        ("user list, prepare cursor", next_page),
        ("user list, page from cursor", follow_cursor),
        ("user delete (+marker, transaction)", delete),
        ("tenant create (+name unique)", tenant_new),
        ("tenant get", tenant_read),
        ("tenant status change (versioned)", tenant_change),
        ("tenant list by status, page of 50", tenant_page),
    ]


def _measure(size: int) -> dict[str, dict]:
    results = {}
    with mock_aws():
        aws.reset()
        tenant_cache_clear()
        for spec in tables.platform_tables():
            tables.ensure_table(spec)
        _BENCH["id"] = tenant_create(slug="bench", name="Bench", tier=Tier.BASIC, status=TenantStatus.ACTIVE).tenant_id
        _fill(size)
        Table(tables.pooled_table().name)  # tables exist; measured calls below use warm tenant cache
        tenant_get(tenant_id=_bench())
        user_list(tenant_id=_bench(), limit=1)  # warm the tenant routing cache, as a live process has
        for label, operation in _operations():
            started = time.perf_counter()
            with count_requests() as counts:
                operation()
            results[label] = {
                "dynamodb_requests": counts.dynamodb,
                "by_operation": counts.by_operation,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
    aws.reset()
    return results


def run() -> dict:
    measured = {size: _measure(size) for size in SIZES}
    labels = list(measured[SIZES[0]])
    equal = all(
        measured[SIZES[0]][label]["dynamodb_requests"] == measured[SIZES[1]][label]["dynamodb_requests"]
        for label in labels
    )
    width = max(len(label) for label in labels)
    header = (
        f"{'operation':<{width}}  {'requests @1k':>12}  {'requests @50k':>13}  {'O(1)':>5}  "
        f"{'ms @1k':>8}  {'ms @50k':>8}"
    )
    rows = [
        "DynamoDB requests per repository operation (moto in-process; counts, not time, are compared)",
        header,
        "-" * len(header),
    ]
    for label in labels:
        small, large = measured[SIZES[0]][label], measured[SIZES[1]][label]
        same = "yes" if small["dynamodb_requests"] == large["dynamodb_requests"] else "NO"
        rows.append(
            f"{label:<{width}}  {small['dynamodb_requests']:>12}  {large['dynamodb_requests']:>13}  {same:>5}  "
            f"{small['ms']:>8}  {large['ms']:>8}"
        )
    verdict = (
        "All operations make the same number of DynamoDB requests at 1,000 and 50,000 items: O(1) per operation."
        if equal
        else "FAILED: some operation's request count grows with the table."
    )
    return {
        "name": "repository",
        "sizes": list(SIZES),
        "results": {str(size): measured[size] for size in SIZES},
        "ok": equal,
        "verdict": verdict,
        "table": "\n".join(rows),
    }
