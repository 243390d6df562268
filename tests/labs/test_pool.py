"""The account pool: concurrency-safe O(1) leasing, replenishment within AWS's CreateAccount limits, shards."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import OrganizationsBackend

from benchmarks.labs import seed_accounts, seed_sessions
from cloudkida import aws, clock
from labs.domain import AccountState, PoolTarget
from labs.repository import pool as pool_repo
from labs.services import account_lease, pool_replenish, shard_register
from labs.services.pool import PoolExhausted, shard_get
from tenants.repository import platform_events
from tests.labs.conftest import register

pytestmark = pytest.mark.usefixtures("platform")


def test_200_concurrent_leases_of_100_accounts_lease_each_exactly_once():
    """200 threads start together and lease from a pool of 100 (seeded directly: a state no service makes
    quickly): exactly 100 leases, no account twice, each session with at most one account."""
    tenant_id = register("acme")
    seed_accounts(100, shard_id="main", region="us-east-1")
    sessions = seed_sessions(tenant_id, 200)
    barrier = threading.Barrier(200)
    leased: list[tuple[str, str]] = []
    exhausted: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def lease(session):
        barrier.wait()
        try:
            account = account_lease(session=session, region="us-east-1")
        except PoolExhausted:
            with lock:
                exhausted.append(session.session_id)
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                leased.append((account.account_id, session.session_id))

    threads = [threading.Thread(target=lease, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(leased) == 100 and len(exhausted) == 100
    assert len({account for account, _ in leased}) == 100  # no account twice
    assert len({session for _, session in leased}) == 100  # no session twice
    stored = Counter(pool_repo.account_get(a).session_id for a, _ in leased)
    assert all(n == 1 for n in stored.values()) and set(stored) == {s for _, s in leased}
    assert pool_repo.count_available("us-east-1") == 0


class TooMany(JsonRESTError):
    code = 400

    def __init__(self):
        super().__init__("TooManyRequestsException", "AWS Organizations can't complete your request now.")


def test_replenishing_keeps_at_most_five_creations_in_flight_and_backs_off_when_throttled(settings):
    """CreateAccount stays IN_PROGRESS for two polls (moto finishes at once: its backend is patched) and is
    throttled once; the pool still fills to its minimum, never with more than five in flight."""
    settings.AWS_MAX_ATTEMPTS = 1  # see the throttle, not botocore's retries
    aws.reset()
    shard_register(shard_id="main")
    pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 12, 20)})
    real_create, real_status = OrganizationsBackend.create_account, OrganizationsBackend.describe_create_account_status
    creates, polls = itertools.count(), Counter()

    def create(self, **kwargs):
        if next(creates) == 3:
            raise TooMany()
        return real_create(self, **kwargs)

    def status(self, **kwargs):
        out = real_status(self, **kwargs)
        request = kwargs["CreateAccountRequestId"]
        polls[request] += 1
        if polls[request] <= 2:
            st = dict(out["CreateAccountStatus"], State="IN_PROGRESS")
            st.pop("AccountId", None)
            return {"CreateAccountStatus": st}
        return out

    in_flight, throttled = [], 0
    with (
        mock.patch.object(OrganizationsBackend, "create_account", create),
        mock.patch.object(OrganizationsBackend, "describe_create_account_status", status),
    ):
        for _ in range(12):
            report = pool_replenish()
            in_flight.append(report.in_flight["main"])
            throttled += report.throttled
            if pool_repo.count_available("us-east-1") >= 12:
                break
    assert max(in_flight) == 5
    assert throttled == 1
    assert pool_repo.count_available("us-east-1") == 12
    assert shard_get("main").accounts == 12


def test_the_pool_never_grows_past_its_maximum():
    shard_register(shard_id="main")
    pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 10, 4)})
    for _ in range(4):
        pool_replenish()
    assert pool_repo.count_available("us-east-1") == 4
    assert pool_replenish().below_minimum == ["us-east-1"]
    events = [e for e in platform_events(limit=20).items if e.action == "pool.below_minimum"]
    assert events and events[0].details == {"region": "us-east-1", "available": 4, "minimum": 10}
    metric = aws.client("cloudwatch").get_metric_statistics(
        Namespace="CloudKida/LabPool",
        MetricName="AvailableAccounts",
        Dimensions=[{"Name": "Region", "Value": "us-east-1"}],
        StartTime=clock.now() - timedelta(hours=1),
        EndTime=clock.now() + timedelta(minutes=1),
        Period=60,
        Statistics=["Minimum"],
    )
    assert min(point["Minimum"] for point in metric["Datapoints"]) == 0.0  # empty when the first run began


def test_registering_a_shard_again_changes_nothing_and_a_second_organization_is_a_second_shard():
    first = shard_register(shard_id="main")
    again = shard_register(shard_id="main")
    assert again.ou_ids == first.ou_ids and again.policy_ids == first.policy_ids
    other = shard_register(shard_id="second", role_arn="arn:aws:iam::222222222222:role/CloudKidaPoolAdmin")
    assert other.management_account_id == "222222222222" and set(other.ou_ids) == set(first.ou_ids)
    assert set(other.ou_ids.values()).isdisjoint(first.ou_ids.values())
    pool_repo.targets_put({"us-east-1": PoolTarget("us-east-1", 2, 4)})
    pool_replenish()
    pool_replenish()
    owners = Counter(a.shard_id for a in pool_repo.all_in_state(AccountState.AVAILABLE, "second", "us-east-1"))
    owners += Counter(a.shard_id for a in pool_repo.all_in_state(AccountState.AVAILABLE, "main", "us-east-1"))
    assert sum(owners.values()) == 2
