"""Labs: DynamoDB requests per lease with 100 and 100,000 accounts in the pool (must be equal: O(1)); 200
concurrent leases of 100 accounts; AWS calls on a lab start's critical path, cold and from a hot pool, step
by step; the most CreateAccount requests replenishment keeps in flight (AWS allows five).

Counts, not times: moto's speed says nothing about AWS's (its TransactWriteItems copies the whole table, so
a lease on the 100,000-account table takes seconds here and milliseconds in DynamoDB).
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from unittest import mock

from django.test.utils import override_settings
from moto import mock_aws
from moto.organizations.models import OrganizationsBackend

from benchmarks.counting import count_requests
from cloudkida import aws, clock
from cloudkida.bootstrap import bootstrap
from cloudkida.dynamo import tables
from cloudkida.dynamo.store import serialize
from cloudkida.ids import new_ulid
from labs.domain import AccountState, LabSession, PoolAccount, PoolTarget, SessionState
from labs.repository import pool as pool_repo
from labs.repository import sessions as session_repo
from scripts.emulator import serialize_moto
from tenants import provisioning
from tenants.selectors import tenant_cache_clear, tenant_data_table_name

LEASES_PER_POOL = {100: 10, 100_000: 3}


def seed_accounts(count: int, *, shard_id: str, region: str, start: int = 0) -> None:
    """``count`` AVAILABLE accounts written straight into the control table, 25 per BatchWriteItem (a pool of
    100,000 cannot be created through Organizations in a benchmark; leasing only reads DynamoDB)."""
    control = tables.control_table().name
    dynamodb = aws.client("dynamodb")
    now = clock.now()
    batch = []
    for n in range(start, start + count):
        account = PoolAccount(
            account_id=f"{100_000_000_000 + n:012d}",
            shard_id=shard_id,
            region=region,
            state=AccountState.AVAILABLE,
            state_since=now,
        )
        batch.append({"PutRequest": {"Item": serialize(pool_repo.account_item(account))}})
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={control: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={control: batch})


def seed_sessions(tenant_id: str, count: int) -> list[LabSession]:
    """``count`` REQUESTED sessions of distinct learners, as a start leaves them for provisioning to lease
    for, written straight into the tenant's table (without the learners' counters and start locks, which
    leasing does not touch: moto copies every table a transaction touches, so a smaller table is a faster
    benchmark)."""
    now = clock.now()
    out, batch = [], []
    table = tenant_data_table_name(tenant_id=tenant_id)
    dynamodb = aws.client("dynamodb")
    for n in range(count):
        session = LabSession(
            tenant_id=tenant_id,
            session_id=new_ulid(),
            user_id=f"learner-{n}",
            lab_id="bench-lab",
            lab_owner="",
            lab_revision=1,
            lab_title="Bench",
            region="us-east-1",
            state=SessionState.REQUESTED,
            requested_at=now,
            duration_minutes=60,
            max_duration_minutes=60,
            budget_usd=5,
            month=now.strftime("%Y-%m"),
        )
        batch.append({"PutRequest": {"Item": serialize({**session_repo.to_item(session), "version": 1})}})
        out.append(LabSession(**{**vars(session), "version": 1}))
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={table: batch})
    return out


def _fresh():
    for spec in tables.platform_tables():
        tables.ensure_table(spec)
    provisioning.cache_clear()  # the platform record and the pooled-pool shards of the previous emulator
    bootstrap(apps=False)
    provisioning.cache_clear()
    tenant_cache_clear()


def _tenant() -> str:
    from tenants.services import tenant_register  # lazy: needs the moto context the caller opened

    tenant, _ = tenant_register(
        name="Bench Org",
        slug="bench",
        admin_email="admin@bench.example",
        admin_name="A",
        tier="basic",
        country="US",
        client_address="b",
    )
    return tenant.tenant_id


def _lease_requests(pool_size: int) -> dict:
    from labs.services import account_lease

    with mock_aws():
        aws.reset()
        _fresh()
        tenant_id = _tenant()
        seed_accounts(pool_size, shard_id="main", region="us-east-1")
        leases = LEASES_PER_POOL[pool_size]
        sessions = seed_sessions(tenant_id, leases)
        per_lease, operations = [], []
        table = tenant_data_table_name(tenant_id=tenant_id)  # where the sessions are: resolved once
        for session in sessions:
            with count_requests() as counts:
                account_lease(session=session, region="us-east-1", session_table=table, rng=random.Random(7))
            per_lease.append(counts.dynamodb)
            operations.append(counts.by_operation)
    aws.reset()
    return {"per_lease": per_lease, "mean": sum(per_lease) / len(per_lease), "operations": operations}


def _concurrent() -> dict:
    from labs.services import account_lease
    from labs.services.pool import PoolExhausted

    with mock_aws():
        aws.reset()
        _fresh()
        tenant_id = _tenant()
        seed_accounts(100, shard_id="main", region="us-east-1")
        sessions = seed_sessions(tenant_id, 200)
        barrier, lock = threading.Barrier(200), threading.Lock()
        leased, exhausted = [], []

        def lease(session):
            barrier.wait()
            try:
                account = account_lease(session=session, region="us-east-1")
            except PoolExhausted:
                with lock:
                    exhausted.append(session.session_id)
                return
            with lock:
                leased.append(account.account_id)

        with count_requests() as counts:
            threads = [threading.Thread(target=lease, args=(s,)) for s in sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    aws.reset()
    twice = sum(n - 1 for n in Counter(leased).values() if n > 1)
    return {
        "granted": len(leased),
        "exhausted": len(exhausted),
        "twice": twice,
        "dynamodb_requests": counts.dynamodb,
        "requests_per_granted_lease": round(counts.dynamodb / max(len(leased), 1), 2),
    }


TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Description: A versioned bucket for the lab
Resources:
  LabBucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration:
        Status: Enabled
"""


def _start_calls() -> dict:
    """AWS calls per provisioning step of one start, cold (a general pool account) and hot (the lab's hot
    pool), plus the learner's first access (credentials and console URL): the whole critical path."""
    import responses

    from accounts.services import user_create
    from labs import aws_accounts
    from labs.services import (
        assignment_add,
        lab_create,
        lab_enable,
        lab_publish,
        lab_session_access,
        lab_session_start,
        pool_replenish,
        shard_register,
    )
    from labs.services import sessions as sessions_service

    out = {}
    with mock_aws(), override_settings(CLOUDKIDA_WORKFLOW_RUNNER="inline"), responses.RequestsMock() as fed:
        fed.add(responses.GET, aws_accounts.settings.CLOUDKIDA_LAB_FEDERATION_URL, json={"SigninToken": "t"})
        aws.reset()
        aws_accounts.forget_credentials()
        _fresh()
        tenant_id = _tenant()
        shard_register(shard_id="main")
        pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 4, 10)})
        pool_replenish()
        pool_replenish()
        tasks = [{"task_id": "t", "title": "Bucket", "check": {"type": "assertion", "assertion": "s3_bucket"}}]
        labs = {}
        for kind, hot in (("cold", 0), ("hot", 1)):
            lab = lab_create(
                owner="",
                actor="bench",
                template=TEMPLATE,
                title=kind,
                slug=kind,
                allowed_services=["s3"],
                tasks=tasks,
                hot_pool_size=hot,
            )
            labs[kind] = lab_publish(owner="", lab_id=lab.lab_id, actor="bench")
            lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="bench")
        pool_replenish()  # prepares the hot pool's account
        for n, kind in enumerate(("cold", "hot")):
            user = user_create(tenant_id=tenant_id, email=f"l{n}@bench.example", name="L").user_id
            assignment_add(tenant_id=tenant_id, lab=labs[kind], assignee_type="user", assignee_id=user, actor="bench")
            aws_accounts.forget_credentials()  # a new Lambda container: no cached credentials
            steps: dict[str, Counter] = {}
            real_run_one = sessions_service.PROVISIONING.run_one

            def counted(subject, step, _real=real_run_one, _steps=steps):
                with count_requests() as counts:
                    result = _real(subject, step)
                _steps[step.name] = counts.calls
                return result

            with mock.patch.object(sessions_service.PROVISIONING, "run_one", counted), count_requests() as start_counts:
                session = lab_session_start(tenant_id=tenant_id, user_id=user, lab_id=labs[kind].lab_id, actor="bench")
            assert session.state is SessionState.READY, (session.failed_step, session.failure_reason)
            in_steps = sum((c for c in steps.values()), Counter())
            steps["request"] = start_counts.calls - in_steps  # the API's checks and the REQUESTED write
            with count_requests() as access:
                lab_session_access(tenant_id=tenant_id, session_id=session.session_id)
            steps["access"] = access.calls + Counter({("signin", "getSigninToken"): 1})
            order = ["request", *[s.name for s in sessions_service.PROVISIONING.steps if s.name in steps], "access"]
            named = {
                name: {f"{svc}.{op}": n for (svc, op), n in sorted(steps[name].items())}
                for name in order
                if name in steps
            }
            aws_total = sum(n for name in named for key, n in named[name].items() if not key.startswith("dynamodb."))
            dynamo_total = sum(n for name in named for key, n in named[name].items() if key.startswith("dynamodb."))
            out[kind] = {"steps": named, "aws_calls": aws_total, "dynamodb_requests": dynamo_total, "hot": session.hot}
    aws.reset()
    return out


def _replenish_in_flight() -> dict:
    """Fill a pool of 12 while CreateAccount stays IN_PROGRESS for three polls: the most requests ever in
    flight, as AWS would see them (created, not yet reported SUCCEEDED)."""
    from labs.services import pool_replenish, shard_register

    real_create, real_status = OrganizationsBackend.create_account, OrganizationsBackend.describe_create_account_status
    polls: Counter = Counter()
    open_requests: set[str] = set()
    peak = [0]

    def create(self, **kwargs):
        result = real_create(self, **kwargs)
        open_requests.add(result["CreateAccountStatus"]["Id"])
        peak[0] = max(peak[0], len(open_requests))
        return result

    def status(self, **kwargs):
        request = kwargs["CreateAccountRequestId"]
        polls[request] += 1
        out = real_status(self, **kwargs)
        if polls[request] <= 3:
            st = dict(out["CreateAccountStatus"], State="IN_PROGRESS")
            st.pop("AccountId", None)
            return {"CreateAccountStatus": st}
        open_requests.discard(request)
        return out

    runs = 0
    with (
        mock_aws(),
        mock.patch.object(OrganizationsBackend, "create_account", create),
        mock.patch.object(OrganizationsBackend, "describe_create_account_status", status),
    ):
        aws.reset()
        _fresh()
        shard_register(shard_id="main")
        pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 12, 20)})
        for runs in itertools.count(1):
            pool_replenish()
            if pool_repo.count_available("us-east-1") >= 12 or runs > 30:
                break
        available = pool_repo.count_available("us-east-1")
    aws.reset()
    return {"max_in_flight": peak[0], "runs": runs, "available": available}


def run() -> dict:
    serialize_moto()  # as the test suite does: DynamoDB applies each request atomically, moto must too
    small, large = _lease_requests(100), _lease_requests(100_000)
    concurrent = _concurrent()
    start = _start_calls()
    replenish = _replenish_in_flight()
    ok = (
        small["mean"] == large["mean"]
        and concurrent["granted"] == 100
        and concurrent["twice"] == 0
        and replenish["max_in_flight"] <= 5
        and replenish["available"] >= 12
        and start["hot"]["aws_calls"] < start["cold"]["aws_calls"]
    )
    result = {
        "lease_requests_100": small["mean"],
        "lease_requests_100000": large["mean"],
        "lease_operations_100": small["operations"],
        "lease_operations_100000": large["operations"],
        "lease_requests_each_100": small["per_lease"],
        "lease_requests_each_100000": large["per_lease"],
        "concurrent_leases_granted": concurrent["granted"],
        "concurrent_leases_refused_pool_empty": concurrent["exhausted"],
        "accounts_leased_twice": concurrent["twice"],
        "concurrent_requests_per_granted_lease": concurrent["requests_per_granted_lease"],
        "start_aws_calls_cold": start["cold"]["aws_calls"],
        "start_aws_calls_hot": start["hot"]["aws_calls"],
        "start_dynamodb_requests_cold": start["cold"]["dynamodb_requests"],
        "start_dynamodb_requests_hot": start["hot"]["dynamodb_requests"],
        "start_steps_cold": start["cold"]["steps"],
        "start_steps_hot": start["hot"]["steps"],
        "replenish_max_in_flight": replenish["max_in_flight"],
        "replenish_runs_to_fill_12": replenish["runs"],
    }
    lines = [
        "labs",
        f"  DynamoDB requests per lease, 100 accounts      {small['mean']:.2f}  {small['per_lease']}",
        f"  DynamoDB requests per lease, 100,000 accounts  {large['mean']:.2f}  {large['per_lease']}",
        f"  200 concurrent leases of 100 accounts          granted {concurrent['granted']}, "
        f"twice {concurrent['twice']}, {concurrent['requests_per_granted_lease']} requests per granted lease",
        f"  AWS calls on a start's critical path           cold {start['cold']['aws_calls']}, "
        f"hot {start['hot']['aws_calls']} (DynamoDB {start['cold']['dynamodb_requests']} / "
        f"{start['hot']['dynamodb_requests']})",
    ]
    for kind in ("cold", "hot"):
        for name, calls in start[kind]["steps"].items():
            other = {k: v for k, v in calls.items() if not k.startswith("dynamodb.")}
            lines.append(f"    {kind:<4} {name:<11} {json.dumps(other)}")
    lines.append(f"  replenishment: most CreateAccount in flight    {replenish['max_in_flight']} (AWS allows 5)")
    verdict = "OK: leasing is O(1), safe under concurrency; creation stays within AWS's limit" if ok else "FAILED"
    return {**result, "ok": ok, "verdict": verdict, "table": "\n".join(lines)}
