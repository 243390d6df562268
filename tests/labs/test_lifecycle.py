"""A lab session's whole life on moto: provisioning into a leased account of the pool, the learner's access
and guardrails while READY, and an account that is empty and AVAILABLE again after cleanup; expiry, budget,
cleanup failures to quarantine and back, drift, hot pools and provisioning failures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID

from cloudkida import aws, clock
from labs import aws_accounts, cleanup, guardrails, ports, spend
from labs.domain import AccountState, EndReason, SessionState
from labs.repository import pool as pool_repo
from labs.repository import sessions as session_repo
from labs.selectors import lab_session_get, lab_usage
from labs.services import (
    account_retry_cleanup,
    drift_check,
    lab_session_access,
    lab_session_check,
    lab_session_end,
    lab_session_extend,
    lab_session_start,
    pool_replenish,
    sessions_expire,
    spend_check,
)
from labs.services.pool import account_get, shard_get
from tests.labs.conftest import global_lab, learner, offer, register

pytestmark = pytest.mark.usefixtures("pool")


class Recorder:
    def __init__(self):
        self.events = []

    def session_event(self, event):
        self.events.append(event)


@pytest.fixture
def recorder():
    listener = Recorder()
    ports.add_session_listener(listener)
    yield listener
    ports.remove_session_listener(listener)


@pytest.fixture
def started(federation):
    acme = register("acme")
    lee = learner(acme)
    lab = global_lab()
    offer(acme, lab, lee)
    session = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")
    assert session.state is SessionState.READY, (session.failed_step, session.failure_reason)
    return acme, lee, lab, session


def _stacks(account_id: str) -> list[str]:
    shard = shard_get("main")
    cfn = aws_accounts.member_client(shard, account_id, "cloudformation")
    return [s["StackName"] for s in cfn.describe_stacks()["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"]


def _available_ids() -> set[str]:
    return {i["account_id"] for i in pool_repo.available_items("us-east-1")}


def test_full_lifecycle_leased_account_guarded_then_clean_and_available(started, recorder):
    acme, lee, _lab, session = started
    account = account_get(session.account_id)
    assert account.state is AccountState.LEASED and account.session_id == session.session_id
    assert session.account_id not in _available_ids()
    # The stack exists only in the leased account.
    assert _stacks(session.account_id) == [session.stack_name]
    others = _available_ids()
    assert others and all(_stacks(other) == [] for other in others)
    assert [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]] == []
    # In the leased OU, with the lab's SCP (its services and regions) attached to the account.
    shard = shard_get("main")
    org = aws_accounts.organizations(shard)
    assert org.list_parents(ChildId=session.account_id)["Parents"][0]["Id"] == shard.ou_ids["leased"]
    attached = aws_accounts.policies_of(shard, session.account_id)
    assert account.lab_policy_id in attached
    document = json.loads(org.describe_policy(PolicyId=account.lab_policy_id)["Policy"]["Content"])
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert (
        "s3:*" in statements["OnlyLabServices"]["NotAction"]
        and "ec2:*" not in statements["OnlyLabServices"]["NotAction"]
    )
    assert statements["OnlyLabRegions"]["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == ["us-east-1"]
    assert "CloudKidaCleanup" in json.dumps(statements["OnlyLabServices"]["Condition"])
    leased_ou_policy = json.loads(org.describe_policy(PolicyId=shard.policy_ids["leased"])["Policy"]["Content"])
    assert any(s["Sid"] == "DenyLargeInstances" for s in leased_ou_policy["Statement"])
    # The learner role is in place, with the lab's permissions, and hands out working credentials.
    assert aws_accounts.learner_role_policies(shard, session.account_id) == ["lab"]
    access = lab_session_access(tenant_id=acme, session_id=session.session_id)
    assert access["console_url"].startswith(f"{aws_accounts.settings.CLOUDKIDA_LAB_FEDERATION_URL}?Action=login")
    assert "SigninToken=token-" in access["console_url"]
    learner_creds = {
        "AccessKeyId": access["credentials"]["access_key_id"],
        "SecretAccessKey": access["credentials"]["secret_access_key"],
        "SessionToken": access["credentials"]["session_token"],
    }
    identity = aws.client("sts", credentials=learner_creds).get_caller_identity()
    assert identity["Account"] == session.account_id and "CloudKidaLearner" in identity["Arn"]
    # The learner does the work; "Check my work" sees it in the lab account only.
    learner_sqs = aws.client("sqs", credentials=learner_creds)
    assert lab_session_check(tenant_id=acme, session_id=session.session_id, task_id="queue")["passed"] is False
    learner_sqs.create_queue(QueueName="orders-queue")
    learner_s3 = aws.client("s3", credentials=learner_creds)
    learner_s3.create_bucket(Bucket="learner-lee-bucket")
    learner_s3.put_bucket_versioning(Bucket="learner-lee-bucket", VersioningConfiguration={"Status": "Enabled"})
    learner_s3.put_object(Bucket="learner-lee-bucket", Key="a.txt", Body=b"hello")
    assert lab_session_check(tenant_id=acme, session_id=session.session_id, task_id="queue")["passed"] is True
    done = lab_session_check(tenant_id=acme, session_id=session.session_id, task_id="versioned-bucket")
    assert done["passed"] and done["progress"].completed_at is not None
    assert aws.client("sqs").list_queues(QueueNamePrefix="orders").get("QueueUrls", []) == []  # not in ours

    ended = lab_session_end(tenant_id=acme, session_id=session.session_id, by=EndReason.LEARNER, actor="test")

    assert ended.state is SessionState.ENDED and ended.ended_by == "learner"
    account = account_get(session.account_id)
    assert account.state is AccountState.AVAILABLE and account.session_id == "" and account.tenant_id == ""
    assert session.account_id in _available_ids()
    assert org.list_parents(ChildId=session.account_id)["Parents"][0]["Id"] == shard.ou_ids["available"]
    assert account.lab_policy_id == "" and aws_accounts.policies_of(shard, session.account_id) == ["p-FullAWSAccess"]
    # Empty: nothing left of the lab or the learner (CloudKida's own roles stay).
    target = cleanup.Account(
        session.account_id, aws_accounts.member(shard, session.account_id, role=guardrails.CLEANUP_ROLE)
    )
    assert cleanup.leftovers(target, ["us-east-1"])[0] == {}
    assert aws_accounts.learner_role_policies(shard, session.account_id) is None
    assert _stacks(session.account_id) == []
    # Listeners heard the whole life, with durations; the learner's slot and minutes are back.
    assert [e.kind for e in recorder.events] == ["ended"]
    assert recorder.events[-1].reason == "learner" and recorder.events[-1].total_seconds >= 0
    assert lab_usage(tenant_id=acme, user_id=lee)[0] == 0


def test_revoking_comes_before_cleanup(started, monkeypatch):
    """Cleanup that cannot even start still leaves the learner without access."""
    acme, _lee, _lab, session = started
    monkeypatch.setattr("labs.services.pool.cleanup_start", lambda account, regions: account)
    lab_session_end(tenant_id=acme, session_id=session.session_id, by=EndReason.ADMIN, actor="test")
    shard = shard_get("main")
    assert aws_accounts.learner_role_policies(shard, session.account_id) == ["lab", "revoked"]
    assert lab_session_get(tenant_id=acme, session_id=session.session_id).state is SessionState.CLEANING


def test_expiry_ends_a_session_past_its_deadline_and_not_an_extended_one(started):
    acme, lee, _lab, session = started
    later = session.deadline + timedelta(minutes=1)
    extended = lab_session_extend(tenant_id=acme, session_id=session.session_id, minutes=20, actor="test")
    assert extended.deadline == session.deadline + timedelta(minutes=20) and extended.extensions == 1
    with clock.frozen(later):
        assert sessions_expire()["ended"] == []  # extended: still running
    assert lab_session_get(tenant_id=acme, session_id=session.session_id).state is SessionState.READY
    with clock.frozen(extended.deadline + timedelta(seconds=1)):
        result = sessions_expire()
    assert result["ended"] == [session.session_id]
    final = lab_session_get(tenant_id=acme, session_id=session.session_id)
    assert final.state is SessionState.ENDED and final.ended_by == "expiry"
    assert account_get(session.account_id).state is AccountState.AVAILABLE
    assert lab_usage(tenant_id=acme, user_id=lee)[0] == 0


def test_extensions_stop_at_the_labs_maximum(started):
    acme, _lee, _lab, session = started
    lab_session_extend(tenant_id=acme, session_id=session.session_id, minutes=30, actor="test")
    with pytest.raises(Exception) as refused:
        lab_session_extend(tenant_id=acme, session_id=session.session_id, minutes=1, actor="test")
    assert refused.value.code == "extension_limit" and refused.value.status == 409
    with pytest.raises(Exception) as too_long:
        lab_session_extend(tenant_id=acme, session_id=session.session_id, minutes=31, actor="test")
    assert too_long.value.code in {"invalid_extension", "extension_limit"}


class FixedSpend:
    def __init__(self, amounts):
        self.amounts = amounts

    def spend(self, shard, since):
        return {a: v for a, v in self.amounts.items() if a in since}


def test_spend_alerts_at_75_percent_and_ends_at_the_budget(started, recorder):
    acme, _lee, _lab, session = started  # budget 10 USD
    with spend.using(FixedSpend({session.account_id: 7.6})):
        assert spend_check() == {"alerted": [session.session_id], "ended": []}
        assert spend_check() == {"alerted": [], "ended": []}  # alerted once
    assert [e.kind for e in recorder.events] == ["spend_alert"]
    current = lab_session_get(tenant_id=acme, session_id=session.session_id)
    assert current.state is SessionState.READY and current.spend_usd == 7.6 and current.spend_alerted
    with spend.using(FixedSpend({session.account_id: 10.0})):
        assert spend_check()["ended"] == [session.session_id]
    final = lab_session_get(tenant_id=acme, session_id=session.session_id)
    assert final.state is SessionState.ENDED and final.ended_by == "budget"


def test_cost_explorer_source_reads_the_accounts_spend_since_its_lease(started):
    """The production source against moto's Cost Explorer (canned results for the management account)."""
    from moto.moto_api._internal.models import moto_api_backend

    _acme, _lee, _lab, session = started
    day = session.ready_at.date().isoformat()
    before = (session.ready_at.date() - timedelta(days=1)).isoformat()

    def period(start, amount):
        return {
            "TimePeriod": {"Start": start, "End": start},
            "Total": {},
            "Estimated": True,
            "Groups": [{"Keys": [session.account_id], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}],
        }

    moto_api_backend.set_ce_cost_usage(
        result={"ResultsByTime": [period(before, "50"), period(day, "3.25")], "DimensionValueAttributes": []},
        account_id=DEFAULT_ACCOUNT_ID,
    )
    since = {session.account_id: session.ready_at.date()}
    assert spend.CostExplorerSource().spend(shard_get("main"), since) == {session.account_id: 3.25}


def test_three_failed_cleanups_quarantine_the_account_then_retry_makes_it_available(started, fail_aws):
    acme, _lee, _lab, session = started
    failing = fail_aws("cloudformation", "DeleteStack", times=3, code="InternalFailure")
    lab_session_end(tenant_id=acme, session_id=session.session_id, by=EndReason.LEARNER, actor="test")
    account = account_get(session.account_id)
    assert account.state is AccountState.CLEANING and account.cleanup_failures == 1
    assert lab_session_get(tenant_id=acme, session_id=session.session_id).state is SessionState.CLEANING
    from labs.services import cleanup_retry_due

    assert cleanup_retry_due() == [session.account_id]
    assert account_get(session.account_id).cleanup_failures == 2
    cleanup_retry_due()
    assert failing["raised"] == 3
    account = account_get(session.account_id)
    assert account.state is AccountState.QUARANTINED and "cleanup failed 3 times" in account.quarantine_reason
    shard = shard_get("main")
    assert aws_accounts.parent_of(shard, session.account_id) == shard.ou_ids["quarantine"]
    ended = lab_session_get(tenant_id=acme, session_id=session.session_id)
    assert ended.state is SessionState.ENDED and "quarantined" in ended.note
    assert cleanup_retry_due() == []  # quarantined accounts wait for a system admin

    retried = account_retry_cleanup(account_id=session.account_id, actor="test")

    assert retried.state is AccountState.AVAILABLE and retried.cleanup_failures == 0
    assert aws_accounts.parent_of(shard, session.account_id) == shard.ou_ids["available"]
    assert _stacks(session.account_id) == []


def test_an_account_in_the_wrong_ou_is_quarantined_by_the_drift_check():
    shard = shard_get("main")
    account_id = sorted(_available_ids())[0]
    aws_accounts.organizations(shard).move_account(
        AccountId=account_id, SourceParentId=shard.ou_ids["available"], DestinationParentId=shard.ou_ids["leased"]
    )
    assert drift_check() == [account_id]
    account = account_get(account_id)
    assert account.state is AccountState.QUARANTINED and "drift" in account.quarantine_reason
    assert aws_accounts.parent_of(shard, account_id) == shard.ou_ids["quarantine"]
    assert account_id not in _available_ids()
    assert drift_check() == []


def test_a_leased_account_that_drifts_ends_its_session(started):
    acme, _lee, _lab, session = started
    shard = shard_get("main")
    aws_accounts.organizations(shard).move_account(
        AccountId=session.account_id, SourceParentId=shard.ou_ids["leased"], DestinationParentId=shard.root_id
    )
    assert drift_check() == [session.account_id]
    assert aws_accounts.learner_role_policies(shard, session.account_id) == ["lab", "revoked"]
    assert lab_session_get(tenant_id=acme, session_id=session.session_id).state is SessionState.ENDED


def test_a_hot_pool_start_skips_the_stack_and_the_pool_refills(federation):
    acme = register("acme")
    lee = learner(acme)
    lab = global_lab(slug="hot-lab", hot_pool_size=1)
    offer(acme, lab, lee)
    report = pool_replenish()
    assert len(report.hot_started) == 1
    hot_id = report.hot_started[0]
    hot = account_get(hot_id)
    assert hot.state is AccountState.AVAILABLE and hot.hot_lab_id == lab.lab_id and hot.stack_name
    assert _stacks(hot_id) == [hot.stack_name]
    assert hot_id not in _available_ids()  # not in the general pool

    session = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")

    assert session.state is SessionState.READY and session.hot and session.account_id == hot_id
    steps = {s["step"]: s["status"] for s in session_repo.steps(acme, session.session_id, "lab-provisioning")}
    assert "stack" not in steps and "guardrails" not in steps and steps["learner"] == "SUCCEEDED"
    refill = pool_replenish()
    assert len(refill.hot_started) == 1 and refill.hot_started[0] != hot_id


def test_a_provisioning_failure_fails_the_session_and_cleans_its_account(federation, fail_aws, recorder):
    acme = register("acme")
    lee = learner(acme)
    lab = global_lab()
    offer(acme, lab, lee)
    fail_aws("cloudformation", "CreateStack", times=1, code="InsufficientCapabilitiesException")
    session = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")
    assert session.state is SessionState.FAILED and session.failed_step == "stack"
    assert "InsufficientCapabilitiesException" in session.failure_reason
    assert account_get(session.account_id).state is AccountState.AVAILABLE
    assert [e.kind for e in recorder.events] == ["started", "failed"]
    assert lab_usage(tenant_id=acme, user_id=lee) == (0, 0)
    again = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")  # the lock went too
    assert again.state is SessionState.READY
