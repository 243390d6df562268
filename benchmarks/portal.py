"""A bulk import of 1,000 and of 5,000 learners: AWS requests and wall time per imported user.

Each import goes into a fresh Platinum tenant (its own user pool and DynamoDB table), with every row
in one group and 1 % of rows invalid. Every request our clients make is counted: DynamoDB, Cognito, S3
and SES (the invitation). The per-user request count must not grow with the file's size (batch reads
per chunk, one Cognito create per new user, no list calls); it is the figure that is compared.

Wall time is reported per 1,000 users. Two things in moto cost time in proportion to what is already
stored, which the real services do not: TransactWriteItems deep-copies the whole table to be able to
roll back (LOCAL-AWS.md), and in a pool whose users sign in by email every lookup by email (each
AdminCreateUser) walks every user. For the timing the bench therefore snapshots only the items a
transaction touches (``_touched_items_rollback``: the same rollback) and finds users by email through an
index kept alongside moto's users (``_indexed_email_lookup``; the bench never changes an email). moto's
data and answers are otherwise untouched, so what is timed is our code and moto's per-request work.
Time is printed and written, never asserted.
"""

from __future__ import annotations

import copy
import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.test.utils import override_settings
from moto import mock_aws

from accounts import imports
from benchmarks.counting import count_requests
from cloudkida import aws
from cloudkida.bootstrap import bootstrap
from tenants import provisioning
from tenants.selectors import tenant_cache_clear, tenant_get_by_slug
from tenants.services import tenant_register

SIZES = (1_000, 5_000)


def _file(size: int, slug: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "role", "groups"])
    for n in range(size):
        email = f"learner{n}@{slug}.example" if n % 100 != 99 else f"broken-{n}"  # 1 % invalid
        writer.writerow([email, f"Learner {n}", "TenantUser", "Class of 2027"])
    return out.getvalue()


@contextmanager
def _touched_items_rollback() -> Iterator[None]:
    """Make moto's TransactWriteItems snapshot the items it touches instead of deep-copying each table."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    real_copy = models.copy

    class _TablesByReference:
        @staticmethod
        def deepcopy(value, *args):
            return value if isinstance(value, Table) else copy.deepcopy(value, *args)

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            operation = next(iter(entry.values()))
            table = self.tables.get(operation.get("TableName"))
            key = operation.get("Key") or {k: operation["Item"][k] for k in ("PK", "SK")}
            if table is None:
                continue
            hash_key, range_key = DynamoType(key["PK"]), DynamoType(key["SK"])
            existing = table.items.get(hash_key, {}).get(range_key)
            saved.append((table, hash_key, range_key, copy.deepcopy(existing)))
        models.copy = _TablesByReference
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            raise
        finally:
            models.copy = real_copy

    models.DynamoDBBackend.transact_write_items = transact_write_items
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original


@contextmanager
def _indexed_email_lookup() -> Iterator[None]:
    """Find a Cognito user by a username attribute (email) through an index that moto's user dict keeps
    as users are added and removed, instead of walking every user on each lookup."""
    from collections import OrderedDict

    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.cognitoidp.utils import flatten_attrs

    class IndexedUsers(OrderedDict):
        def __init__(self, users, kinds):
            super().__init__()
            self.kinds, self.by_attribute = kinds, {}
            for key, user in users.items():
                self[key] = user

        def __setitem__(self, key, user):
            super().__setitem__(key, user)
            attributes = flatten_attrs(user.attributes)
            for kind in self.kinds:
                if attributes.get(kind):
                    self.by_attribute[attributes[kind]] = user

        def __delitem__(self, key):
            super().__delitem__(key)
            self.by_attribute = {v: u for v, u in self.by_attribute.items() if u.username != key}

    original = CognitoIdpUserPool._get_user

    def _get_user(self, username):
        kinds = self.extended_config.get("UsernameAttributes")
        if not kinds:
            return original(self, username)
        if not isinstance(self.users, IndexedUsers):
            self.users = IndexedUsers(self.users, kinds)
        found = self.users.by_attribute.get(username)
        if found is not None and self.users.get(found.username) is found:
            return found
        return self.users.get(username)

    CognitoIdpUserPool._get_user = _get_user
    try:
        yield
    finally:
        CognitoIdpUserPool._get_user = original


def _import(size: int) -> dict:
    slug = f"bench{size}"
    tenant_register(
        name=f"Bench {size}",
        slug=slug,
        admin_email=f"admin@{slug}.example",
        admin_name="Bench",
        tier="platinum",
        country="US",
        client_address=slug,
    )
    tenant_id = tenant_get_by_slug(slug=slug).tenant_id
    text = _file(size, slug)
    started = time.perf_counter()
    with count_requests() as counts:
        job = imports.user_import_start(tenant_id=tenant_id, data=text, actor="bench")
    elapsed = time.perf_counter() - started
    assert job.status.value == "SUCCEEDED", (job.status, job.error)
    assert job.created == size - size // 100 and job.invalid == size // 100, job
    by_service: dict[str, int] = {}
    for (service, operation), n in counts.calls.items():
        by_service[f"{service}:{operation}"] = n
    return {
        "rows": size,
        "created": job.created,
        "invalid": job.invalid,
        "requests": counts.total,
        "requests_per_user": round(counts.total / job.created, 3),
        "seconds": round(elapsed, 2),
        "seconds_per_1000": round(elapsed / job.created * 1000, 2),
        "by_operation": dict(sorted(by_service.items())),
    }


def run() -> dict:
    runs = {}
    with (
        override_settings(CLOUDKIDA_WORKFLOW_RUNNER="inline", CLOUDKIDA_JOB_RUNNER="inline"),
        mock_aws(),
        _touched_items_rollback(),
        _indexed_email_lookup(),
    ):
        aws.reset()
        tenant_cache_clear()
        provisioning._platform_cache.invalidate()
        bootstrap(apps=False)
        for size in SIZES:
            runs[size] = _import(size)
    small, large = runs[SIZES[0]], runs[SIZES[1]]
    result = {
        "requests_per_user_1000": small["requests_per_user"],
        "requests_per_user_5000": large["requests_per_user"],
        "seconds_per_1000_at_1000": small["seconds_per_1000"],
        "seconds_per_1000_at_5000": large["seconds_per_1000"],
        "runs": {str(k): v for k, v in runs.items()},
    }
    ok = large["requests_per_user"] <= small["requests_per_user"] * 1.01
    rows = ["Bulk import of learners (one group each, 1 % invalid rows; Platinum tenant; moto in-process)"]
    for size, r in runs.items():
        rows.append(
            f"{size:>5} rows: {r['created']} created, {r['requests']} AWS requests = {r['requests_per_user']} per "
            f"user; {r['seconds']} s = {r['seconds_per_1000']} s per 1,000 users"
        )
    ops = runs[SIZES[1]]["by_operation"]
    rows.append("5,000 rows by operation: " + ", ".join(f"{k} {v}" for k, v in ops.items()))
    verdict = (
        "Requests per imported user do not grow with the file's size."
        if ok
        else "FAILED: requests per imported user grow with the file's size."
    )
    return {"name": "portal", "results": result, "ok": ok, "verdict": verdict, "table": "\n".join(rows)}
