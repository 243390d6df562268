"""Billing: DynamoDB requests to record one usage event and to read one tenant's month with 1,000 and 100,000
events in the table (must be equal: the aggregates, not the events, are read and written); requests per
tenant for month-end invoicing at 100 and 1,000 tenants (must be equal: O(1) per tenant).

Counts, not times, each with the process's tenant cache emptied first (cold: the tenant's record is read
again), so they do not depend on when a cache entry expires. The events are written straight into the
tenant's partition (a benchmark cannot meter 100,000 lab sessions through labs; metering only reads and
writes the aggregates); the tenants are records written through the tenants repository (no user pools or
onboarding: invoicing reads none of them). The tenant listing (one Query per 100 tenants) is reported on its
own, beside the per-tenant figure.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from moto import mock_aws

from benchmarks.counting import count_requests
from billing import repository as billing_repo
from billing import services
from billing.domain import UsageKind
from cloudkida import aws, clock
from cloudkida.bootstrap import bootstrap
from cloudkida.dynamo import tables, tenant_pk
from cloudkida.dynamo.store import serialize
from cloudkida.ids import new_ulid
from scripts.emulator import serialize_moto
from tenants import provisioning
from tenants import repository as tenant_repo
from tenants.domain import Tenant, TenantStatus, Tier
from tenants.selectors import tenant_cache_clear, tenant_data_table_name

MONTH = "2026-03"
AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
EVENTS_MEASURED = 5


@contextmanager
def _emulator_without_whole_table_work() -> Iterator[None]:
    """Two of moto's costs grow with the whole table, which made the 1,000-tenant run (one pooled table) run
    out of memory and then take hours: a TransactWriteItems backs up every table it touches (a deep copy per
    operation) to roll back a cancelled one, and a Query of one partition reads and sorts every item of the
    table. Inside this block the backup is of the items the transaction names only (restored the same way on
    cancellation) and a Query reads its partition only. DynamoDB's behaviour as the code sees it, and so
    every request count, is unchanged; only the emulator's own work is."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, dynamodb_models.Table) else copy.deepcopy(value, memo)

    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            _kind, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            key = op.get("Key") or op.get("Item")
            if table is None or not key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            bucket = table.items[hash_value] if range_value is not None else table.items
            slot = range_value if range_value is not None else hash_value
            saved.append((bucket, slot, copy.deepcopy(bucket.get(slot))))
        try:
            return original(self, transact_items)
        except Exception:
            for bucket, slot, item in saved:
                if item is None:
                    bucket.pop(slot, None)
                else:
                    bucket[slot] = item
            raise

    original_query = dynamodb_models.Table.query

    def query(self, hash_key, *args, **kwargs):
        """moto reads and sorts every item of a table for a Query of one partition; read the partition."""
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # an instance attribute: the class's method is untouched
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    dynamodb_models.copy = _NoTableCopy
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items
    dynamodb_models.Table.query = query
    try:
        yield
    finally:
        dynamodb_models.copy = copy
        dynamodb_models.DynamoDBBackend.transact_write_items = original
        dynamodb_models.Table.query = original_query


def _fresh() -> None:
    for spec in tables.platform_tables():
        tables.ensure_table(spec)
    bootstrap(apps=False)
    provisioning._platform_cache.invalidate()
    tenant_cache_clear()
    services._price_cache.clear()


def _tenants(count: int) -> list[Tenant]:
    made = []
    with clock.frozen(datetime(2026, 1, 2, tzinfo=UTC)):
        for n in range(count):
            tenant = Tenant(
                tenant_id=new_ulid(),
                slug=f"bench-{n}",
                name=f"Bench {n}",
                tier=Tier.BASIC,
                status=TenantStatus.ACTIVE,
                created_at=clock.now(),
                admin_email=f"admin@bench-{n}.example",
            )
            made.append(tenant_repo.create(tenant))
    return made


def _seed_events(tenant_id: str, count: int) -> None:
    """``count`` usage events in the tenant's partition, 25 per BatchWriteItem."""
    table = tenant_data_table_name(tenant_id=tenant_id)
    dynamodb = aws.client("dynamodb")
    batch = []
    for n in range(count):
        item = {
            "PK": tenant_pk(tenant_id),
            "SK": billing_repo.event_sk(MONTH, f"lab_minutes:seed-{n:06d}"),
            "kind": "lab_minutes",
            "quantity": 30,
            "month": MONTH,
            "at": AT.isoformat(),
            "version": 1,
        }
        batch.append({"PutRequest": {"Item": serialize(item)}})
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={table: batch})


def _metering(events_in_table: int) -> dict:
    with mock_aws(), _emulator_without_whole_table_work():
        aws.reset()
        _fresh()
        (tenant,) = _tenants(1)
        _seed_events(tenant.tenant_id, events_in_table)
        services.usage_record(  # one unmeasured event: the process's other caches are warm, as in a running app
            tenant_id=tenant.tenant_id, key="lab_minutes:warm-up", kind=UsageKind.LAB_MINUTES, quantity=0, at=AT
        )
        per_event, operations = [], []
        for n in range(EVENTS_MEASURED):
            tenant_cache_clear()  # cold: the tenant's record is read again (caches expire on their own clock)
            with count_requests() as counts:
                outcome = services.usage_record(
                    tenant_id=tenant.tenant_id,
                    key=f"lab_minutes:bench-{n}",
                    kind=UsageKind.LAB_MINUTES,
                    quantity=25,
                    at=AT,
                    user_id=f"u{n}",
                    lab_id="lab",
                )
            assert outcome == "recorded"
            per_event.append(counts.dynamodb)
            operations.append(counts.by_operation)
        tenant_cache_clear()
        with count_requests() as counts:
            usage = services.repo.month_usage(tenant.tenant_id, MONTH)
        assert usage.get("lab_minutes") == 25 * EVENTS_MEASURED
    aws.reset()
    return {
        "per_event": sum(per_event) / len(per_event),
        "operations": operations[0],
        "month_read": counts.dynamodb,
        "month_read_operations": counts.by_operation,
    }


def _invoicing(tenant_count: int) -> dict:
    with mock_aws(), _emulator_without_whole_table_work():
        aws.reset()
        _fresh()
        made = _tenants(tenant_count)
        for tenant in made:
            services.usage_record(
                tenant_id=tenant.tenant_id, key="lab_minutes:bench", kind=UsageKind.LAB_MINUTES, quantity=1200, at=AT
            )
        rows = services.price_table(max_age=0)
        per_tenant = []
        with clock.frozen(datetime(2026, 4, 1, 0, 30, tzinfo=UTC)):
            for tenant in made:
                tenant_cache_clear()  # cold for every tenant, so the count does not depend on cache timing
                with count_requests() as counts:
                    invoice = services.invoice_generate(tenant=tenant, month=MONTH, rows=rows)
                assert invoice.total_cents == 4900 + 1000
                per_tenant.append(counts.dynamodb)
            with count_requests() as listing:
                listed = sum(1 for _ in services.tenants_all())
            assert listed == tenant_count
            again = services.invoices_month_end(month=MONTH)  # every invoice exists: nothing new
        numbers = sorted(services.repo.invoice_get(t.tenant_id, MONTH).number for t in made)
        assert numbers == [f"CK-{n:06d}" for n in range(1, tenant_count + 1)], "numbers have gaps"
        assert billing_repo.counter_value() == tenant_count and again["invoices"] == tenant_count
    aws.reset()
    return {
        "mean": sum(per_tenant) / len(per_tenant),
        "min": min(per_tenant),
        "max": max(per_tenant),
        "listing": listing.dynamodb,
    }


def run() -> dict:
    serialize_moto()
    small, large = _metering(1_000), _metering(100_000)
    few, many = _invoicing(100), _invoicing(1_000)
    ok = (
        small["per_event"] == large["per_event"]
        and small["month_read"] == large["month_read"]
        and small["month_read_operations"].get("Query") == large["month_read_operations"].get("Query") == 1
        and few["mean"] == many["mean"]
        and few["min"] == few["max"] == many["min"] == many["max"]
    )
    result = {
        "requests_per_event_1000": small["per_event"],
        "requests_per_event_100000": large["per_event"],
        "event_operations": small["operations"],
        "requests_per_month_read_1000": small["month_read"],
        "requests_per_month_read_100000": large["month_read"],
        "month_read_operations": small["month_read_operations"],
        "invoice_requests_per_tenant_100": few["mean"],
        "invoice_requests_per_tenant_1000": many["mean"],
        "tenant_listing_requests_100": few["listing"],
        "tenant_listing_requests_1000": many["listing"],
    }
    lines = [
        "billing",
        f"  DynamoDB requests per usage event, 1,000 / 100,000 events      {small['per_event']:.2f} / "
        f"{large['per_event']:.2f}  {small['operations']}",
        f"  DynamoDB requests per month read, 1,000 / 100,000 events       {small['month_read']} / "
        f"{large['month_read']}",
        f"  DynamoDB requests per tenant, month-end invoicing, 100 / 1,000  {few['mean']:.2f} / {many['mean']:.2f}",
        f"  tenant listing for month-end, 100 / 1,000 tenants              {few['listing']} / {many['listing']} Query",
    ]
    verdict = "OK: metering and month reads are O(1) in events; invoicing is O(1) per tenant" if ok else "FAILED"
    return {**result, "ok": ok, "verdict": verdict, "table": "\n".join(lines)}
