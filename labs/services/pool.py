"""The account pool: shards (organizations), account creation, O(1) leasing, cleanup, quarantine, drift.

An account's life: CREATING → AVAILABLE → LEASED (a session) → CLEANING → AVAILABLE …; three failed
cleanups → QUARANTINED (retry → CLEANING, eject → EJECTED). PREPARING is an account taken for a hot pool
while its lab's stack is deployed; it then waits AVAILABLE in that lab's hot index. Each state has its pool
OU (``labs.domain.OU_OF_STATE``); the drift check quarantines an account found in another.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws, clock
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from cloudkida.validation import validate_regions
from cloudkida.workflows.runner import Step, Workflow, is_throttling
from labs import aws_accounts, cleanup, guardrails
from labs.domain import OU_OF_STATE, POOL_OUS, AccountState, LabSession, PoolAccount, PoolTarget, SessionState, Shard
from labs.repository import catalog as catalog_repo
from labs.repository import pool as repo
from labs.repository import sessions as session_repo
from labs.repository.common import iso, tenant_table_platform
from labs.selectors import pool_targets
from labs.services import runs
from tenants.repository import platform_event_add

logger = logging.getLogger(__name__)
CANDIDATES = 3  # accounts read per index query; a claim tries them in random order
MAX_ROUNDS = 64  # rounds over the partitions before a lease gives up as "busy" (never when accounts remain in moto)


class PoolExhausted(ServiceUnavailable):
    code = "pool_exhausted"
    default_message = "No lab account is free in this region right now; try again in a few minutes."


# --- shards and targets ------------------------------------------------------------------------------------------
SHARD_ROLE_ARN = re.compile(rf"arn:aws[a-z-]*:iam::\d{{12}}:role/{guardrails.SHARD_ROLE}")


def shard_register(*, shard_id: str, role_arn: str = "", account_quota: int = 10_000) -> Shard:
    """Register (or re-register) an organization as a pool shard: its pool OUs under the root, the
    guardrail SCPs attached to them. Idempotent: finds what exists by name."""
    if not shard_id or len(shard_id) > 40 or not shard_id.replace("-", "").isalnum():
        raise ValidationFailed("A shard id is 1-40 letters, digits and dashes.", code="invalid_shard")
    if role_arn and not SHARD_ROLE_ARN.fullmatch(role_arn):
        raise ValidationFailed(
            f"A shard's role is arn:aws:iam::<management account>:role/{guardrails.SHARD_ROLE} "
            "(the only one the Lambda role may assume).",
            code="invalid_shard",
            details={"field": "role_arn"},
        )
    management_id, root = aws_accounts.ensure_organization(role_arn)
    shard = repo.shard_get(shard_id) or Shard(shard_id=shard_id, management_account_id=management_id)
    shard.role_arn, shard.root_id, shard.account_quota, shard.management_account_id = (
        role_arn,
        root,
        account_quota,
        management_id,
    )
    pool_ou = aws_accounts.ensure_ou(shard, root, "cloudkida-pool")
    shard.ou_ids = {name: aws_accounts.ensure_ou(shard, pool_ou, name) for name in POOL_OUS}
    idle = aws_accounts.ensure_policy(
        shard, "cloudkida-pool-idle", guardrails.idle_policy(), "Only CloudKida acts here"
    )
    leased = aws_accounts.ensure_policy(
        shard, "cloudkida-pool-leased", guardrails.leased_policy(), "Leased lab accounts"
    )
    shard.policy_ids = {"idle": idle, "leased": leased}
    for name, ou in shard.ou_ids.items():
        aws_accounts.attach_policy(shard, leased if name == "leased" else idle, ou)
    return repo.shard_put(shard)


def shard_get(shard_id: str) -> Shard:
    shard = repo.shard_get(shard_id)
    if shard is None:
        raise NotFound("No such shard.", code="shard_not_found")
    return shard


def pool_targets_set(*, region: str, min_available: int, max_size: int, actor: str) -> PoolTarget:
    (region,) = validate_regions([region], field="region")
    if not (0 <= min_available <= max_size <= 1_000_000):
        raise ValidationFailed("Need 0 <= minimum available <= maximum size.", code="invalid_pool_target")
    targets = pool_targets()
    targets[region] = PoolTarget(region, min_available, max_size)
    repo.targets_put(targets)
    platform_event_add(
        action="pool.targets", actor=actor, details={"region": region, "min": min_available, "max": max_size}
    )
    return targets[region]


def regions() -> list[str]:
    return sorted(pool_targets())


# --- leasing ----------------------------------------------------------------------------------------------------
def session_claim_update(
    session: LabSession, *, table_name: str, account_id: str, shard_id: str, hot: bool, stack_name: str
) -> dict:
    """The session's half of a lease transaction: REQUESTED → PROVISIONING with the account."""
    key = session_repo.session_key(session.tenant_id, session.session_id)
    return {
        "Update": {
            "TableName": table_name,
            "Key": serialize(key),
            "UpdateExpression": "SET #state = :prov, account_id = :a, shard_id = :s, hot = :h, stack_name = :n, "
            "#version = #version + :one",
            "ConditionExpression": "#state = :requested AND attribute_not_exists(account_id)",
            "ExpressionAttributeNames": {"#state": "state", "#version": "version"},
            "ExpressionAttributeValues": serialize(
                {
                    ":prov": SessionState.PROVISIONING.value,
                    ":requested": SessionState.REQUESTED.value,
                    ":a": account_id,
                    ":s": shard_id,
                    ":h": hot,
                    ":n": stack_name,
                    ":one": 1,
                }
            ),
        }
    }


def account_lease(
    *,
    session: LabSession,
    region: str,
    hot_lab: str = "",
    hot_revision: int = 0,
    stack_name: str = "",
    session_table: str = "",
    rng=random,
) -> PoolAccount:
    """Lease one AVAILABLE account of ``region`` (of a lab's hot pool when ``hot_lab``) for ``session``: O(1).

    A random partition of the available index, a random start point in it, a few candidates; each claim is
    one transaction that moves the account AVAILABLE → LEASED at the version read and the session REQUESTED
    → PROVISIONING, so an account is never leased twice and a session never gets two accounts. A lost claim
    tries the next candidate; a partition whose wrap-around query is empty is skipped; PoolExhausted once
    every partition is empty. Uncontended, a lease is one Query and one TransactWriteItems however big the
    pool is."""
    deadline = iso(clock.now())
    table_name = session_table or tenant_table_platform(session.tenant_id).name
    order = list(range(repo.partitions()))
    rng.shuffle(order)
    empty: set[int] = set()
    for _round in range(MAX_ROUNDS):
        for n in order:
            if n in empty:
                continue
            partition = repo.available_partition(region, n, hot_lab=hot_lab)
            found = repo.candidates(partition, start=repo.random_start(), limit=CANDIDATES) or repo.candidates(
                partition, start="", limit=CANDIDATES
            )
            if hot_lab:
                found = [c for c in found if int(c.get("hot_revision", 0)) == hot_revision]
            if not found:
                empty.add(n)
                continue
            rng.shuffle(found)
            for candidate in found:
                update = session_claim_update(
                    session,
                    table_name=table_name,
                    account_id=candidate["account_id"],
                    shard_id=candidate["shard_id"],
                    hot=bool(hot_lab),
                    stack_name=candidate.get("stack_name", "") if hot_lab else stack_name,
                )
                if repo.claim(
                    candidate,
                    session_update=update,
                    tenant_id=session.tenant_id,
                    session_id=session.session_id,
                    deadline=deadline,
                ):
                    return repo.from_item(
                        {**candidate, "state": AccountState.LEASED.value, "version": int(candidate["version"]) + 1}
                    )
        if len(empty) == len(order):
            raise PoolExhausted(details={"region": region, "retry_after": 60})
    raise ServiceUnavailable("The pool is busy; try again.", code="pool_busy", details={"retry_after": 5})


def account_get(account_id: str) -> PoolAccount:
    account = repo.account_get(account_id, consistent=True) if account_id.isdigit() and len(account_id) == 12 else None
    if account is None:
        raise NotFound("No such lab account.", code="account_not_found")
    return account


def _move(account: PoolAccount, shard: Shard, state: AccountState) -> None:
    """Put the account in its state's OU (one call when it is where we recorded; a lookup otherwise)."""
    destination = shard.ou_ids[OU_OF_STATE[state]] if state in OU_OF_STATE else shard.root_id
    aws_accounts.move(shard, account.account_id, destination)


# --- creating accounts ------------------------------------------------------------------------------------------
@dataclass
class ReplenishReport:
    created: list[str] = field(default_factory=list)  # request ids started
    joined: list[str] = field(default_factory=list)  # account ids now AVAILABLE
    failed: list[str] = field(default_factory=list)
    throttled: int = 0
    in_flight: dict[str, int] = field(default_factory=dict)  # per shard, after this run
    below_minimum: list[str] = field(default_factory=list)  # regions
    hot_started: list[str] = field(default_factory=list)
    hot_retired: list[str] = field(default_factory=list)


def _join(shard: Shard, request: dict, account_id: str) -> PoolAccount:
    """A created account joins the pool: cleanup role, available OU, AVAILABLE (and its request record goes)."""
    aws_accounts.ensure_cleanup_role(shard, account_id)
    aws_accounts.move(shard, account_id, shard.ou_ids["available"])
    account = PoolAccount(
        account_id=account_id,
        shard_id=shard.shard_id,
        region=request["region"],
        state=AccountState.AVAILABLE,
        state_since=clock.now(),
        email=request["email"],
    )
    try:
        return repo.account_put(account, request_id=request["request_id"])
    except Conflict:  # a retried poll: it joined already
        repo.request_delete(request["request_id"])
        return repo.account_get(account_id) or account


def pool_replenish() -> ReplenishReport:
    """Keep each region between its minimum available and maximum size: poll creations in flight, join the
    finished ones, start new ones (at most CLOUDKIDA_LAB_MAX_CREATES_IN_FLIGHT per organization; a
    TooManyRequestsException stops that shard's creations for this run), keep hot pools full, record a
    snapshot, and raise the low-pool alarm for any region below its minimum."""
    report = ReplenishReport()
    targets = pool_targets()
    shards = [s for s in repo.shards()]
    in_flight: dict[str, list[dict]] = {}
    for shard in shards:
        in_flight[shard.shard_id] = []
        for request in repo.requests_in_flight(shard.shard_id, sorted(targets)):
            state, account_id, reason = aws_accounts.create_status(shard, request["request_id"])
            if state == "SUCCEEDED":
                report.joined.append(_join(shard, request, account_id).account_id)
            elif state == "FAILED":
                repo.request_delete(request["request_id"])
                report.failed.append(reason or request["request_id"])
                platform_event_add(
                    action="pool.create_failed",
                    actor="replenisher",
                    details={"reason": reason, "shard": shard.shard_id},
                )
            else:
                in_flight[shard.shard_id].append(request)
    counts = _counts(shards, targets)
    for region, target in targets.items():
        available = counts[region]["available"]
        creating = sum(1 for requests in in_flight.values() for r in requests if r["region"] == region)
        total = counts[region]["total"] + creating
        need = min(target.min_available - available - creating, target.max_size - total)
        for _ in range(max(need, 0)):
            shard = _shard_with_room(shards, in_flight)
            if shard is None:
                break
            try:
                request_id = _create(shard, region)
            except ClientError as error:
                if not is_throttling(error):
                    raise
                report.throttled += 1
                shard.accepting = False  # for this run: back off, the next run tries again
                continue
            in_flight[shard.shard_id].append({"request_id": request_id, "region": region})
            report.created.append(request_id)
        if available < target.min_available:
            report.below_minimum.append(region)
    report.in_flight = {k: len(v) for k, v in in_flight.items()}
    _hot_pools(report)
    _alarm(report.below_minimum, counts, targets)
    repo.snapshot_put({"counts": counts, "in_flight": report.in_flight, "below_minimum": report.below_minimum})
    return report


def _shard_with_room(shards: list[Shard], in_flight: dict[str, list]) -> Shard | None:
    usable = [
        s
        for s in shards
        if s.accepting and s.room > 0 and len(in_flight[s.shard_id]) < settings.CLOUDKIDA_LAB_MAX_CREATES_IN_FLIGHT
    ]
    return max(usable, key=lambda s: (s.room, s.shard_id)) if usable else None


def _create(shard: Shard, region: str) -> str:
    n = secrets.token_hex(4)
    email = settings.CLOUDKIDA_LAB_ACCOUNT_EMAIL.format(shard=shard.shard_id, n=n)
    request_id = aws_accounts.create_account(shard, email=email, name=f"cloudkida-lab-{shard.shard_id}-{n}")
    repo.request_put(request_id, shard_id=shard.shard_id, region=region, email=email)
    repo.shard_count_account(shard.shard_id)
    shard.accounts += 1
    return request_id


def _counts(shards: list[Shard], targets: dict[str, PoolTarget]) -> dict[str, dict[str, Any]]:
    """Accounts per region: available, total, and per state per shard (Select=COUNT queries; a job's work)."""
    counts: dict[str, dict[str, Any]] = {}
    for region in targets:
        by_shard: dict[str, dict[str, int]] = {}
        for shard in shards:
            by_shard[shard.shard_id] = {
                state.value: repo.count_in_state(state, shard.shard_id, region)
                for state in AccountState
                if state is not AccountState.CREATING
            }
        live = sum(n for states in by_shard.values() for s, n in states.items() if s != AccountState.EJECTED.value)
        counts[region] = {"available": repo.count_available(region), "total": live, "by_shard": by_shard}
    return counts


def _alarm(below: list[str], counts: dict, targets: dict[str, PoolTarget]) -> None:
    """Publish each region's available count (the CloudWatch alarm infrastructure defines on
    ``CloudKida/LabPool AvailableAccounts`` fires below the minimum) and record every region below it."""
    aws.client("cloudwatch").put_metric_data(
        Namespace="CloudKida/LabPool",
        MetricData=[
            {
                "MetricName": "AvailableAccounts",
                "Dimensions": [{"Name": "Region", "Value": region}],
                "Value": float(counts[region]["available"]),
                "Unit": "Count",
            }
            for region in targets
        ],
    )
    for region in below:
        details = {"region": region, "available": counts[region]["available"], "minimum": targets[region].min_available}
        logger.warning("lab pool below minimum", extra=details)
        platform_event_add(action="pool.below_minimum", actor="replenisher", details=details)


# --- hot pools --------------------------------------------------------------------------------------------------
def _hot_pools(report: ReplenishReport) -> None:
    for lab in catalog_repo.labs_of(""):
        if not lab.hot_pool_size and not lab.revision:
            continue
        region = lab.default_region
        wanted = lab.hot_pool_size if lab.status.value == "PUBLISHED" and lab.template_validated else 0
        current = repo.available_items(region, hot_lab=lab.lab_id)
        fresh = [c for c in current if int(c.get("hot_revision", 0)) == lab.revision]
        stale = [c for c in current if int(c.get("hot_revision", 0)) != lab.revision] + fresh[wanted:]
        for item in stale:
            account = repo.from_item(item)
            try:
                account = repo.account_update(account, state=AccountState.CLEANING, state_since=clock.now())
            except Conflict:
                continue
            report.hot_retired.append(account.account_id)
            cleanup_start(account, regions=lab.allowed_regions)
        preparing = sum(
            1
            for shard in repo.shards()
            for a in repo.all_in_state(AccountState.PREPARING, shard.shard_id, region)
            if a.hot_lab_id == lab.lab_id
        )
        for _ in range(max(wanted - len(fresh) - preparing, 0)):
            account = _take_for_hot(region, lab.lab_id, lab.revision)
            if account is None:
                break
            report.hot_started.append(account.account_id)
            runs.start(HOT_POOL, f"{account.account_id}:hot{account.leases}", on_failure=hot_record_failure)


def _take_for_hot(region: str, lab_id: str, revision: int) -> PoolAccount | None:
    """An AVAILABLE account of the region for a hot pool: a random partition and start, like a lease."""
    order = list(range(repo.partitions()))
    random.shuffle(order)
    for n in order:
        partition = repo.available_partition(region, n)
        found = repo.candidates(partition, start=repo.random_start(), limit=CANDIDATES) or repo.candidates(
            partition, start="", limit=CANDIDATES
        )
        for item in found:
            account = repo.from_item(item)
            try:
                return repo.account_update(
                    account,
                    state=AccountState.PREPARING,
                    state_since=clock.now(),
                    hot_lab_id=lab_id,
                    hot_revision=revision,
                    leases=account.leases + 1,
                )
            except Conflict:
                continue
    return None


def _hot_account(subject: str) -> tuple[PoolAccount, Shard]:
    account = account_get(subject.partition(":")[0])
    return account, shard_get(account.shard_id)


def _hot_lab(account: PoolAccount):
    lab = catalog_repo.lab_get("", account.hot_lab_id)
    if lab is None:
        raise NotFound("The hot pool's lab is gone.", code="lab_not_found")
    return lab


def hot_step_move(subject: str) -> dict:
    account, shard = _hot_account(subject)
    _move(account, shard, AccountState.PREPARING)
    return {"account": account.account_id}


def hot_step_guardrails(subject: str) -> dict:
    account, shard = _hot_account(subject)
    lab = _hot_lab(account)
    policy_id = lab_policy_attach(shard, account.account_id, services=lab.allowed_services, regions=lab.allowed_regions)
    repo.account_update(account, lab_policy_id=policy_id)
    return {"policy": policy_id}


def hot_step_stack(subject: str) -> dict:
    account, shard = _hot_account(subject)
    lab = _hot_lab(account)
    name = f"cloudkida-lab-{lab.slug}"[:128]
    aws_accounts.stack_create(
        shard,
        account.account_id,
        region=lab.default_region,
        name=name,
        template_key=lab.template_key,
        tags={"cloudkida:lab": lab.lab_id},
    )
    if account.stack_name != name:
        repo.account_update(account, stack_name=name)
    return {"stack": name}


def hot_stack_ready(subject: str) -> bool:
    account, shard = _hot_account(subject)
    lab = _hot_lab(account)
    return stack_ready(shard, account.account_id, region=lab.default_region, name=account.stack_name)


def hot_step_available(subject: str) -> dict:
    account, shard = _hot_account(subject)
    if account.state is AccountState.PREPARING:
        account = repo.account_update(account, state=AccountState.AVAILABLE, state_since=clock.now())
        _move(account, shard, AccountState.AVAILABLE)
    return {"state": account.state.value}


def hot_record_failure(subject: str, step: str, reason: str) -> None:
    account, _shard = _hot_account(subject)
    platform_event_add(
        action="pool.hot_failed",
        actor="replenisher",
        details={"account": account.account_id, "step": step, "reason": reason},
    )
    if account.state is AccountState.PREPARING:
        account = repo.account_update(account, state=AccountState.CLEANING, state_since=clock.now())
        lab_regions = [account.region]
        cleanup_start(account, regions=lab_regions)


def stack_ready(shard: Shard, account_id: str, *, region: str, name: str) -> bool:
    status = aws_accounts.stack_status(shard, account_id, region=region, name=name)
    if status in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
        return True
    if status.endswith("_FAILED") or "ROLLBACK" in status or not status:
        raise ServiceUnavailable(f"The lab's stack did not deploy ({status or 'gone'}).", code="stack_failed")
    return False


def lab_policy_attach(shard: Shard, account_id: str, *, services: list[str], regions: list[str]) -> str:
    """Attach the lab's guardrail SCP to the account (one SCP per distinct guardrail set per organization,
    created the first time it is needed); returns its id."""
    document = guardrails.lab_policy(services=services, regions=regions)
    digest = guardrails.digest(document)
    policy_id = repo.lab_policy_get(shard.shard_id, digest)
    if not policy_id:
        policy_id = aws_accounts.ensure_policy(
            shard, f"cloudkida-lab-{digest}", document, "A lab's services and regions"
        )
        repo.lab_policy_put(shard.shard_id, digest, policy_id)
    aws_accounts.attach_policy(shard, policy_id, account_id)
    return policy_id


class _AccountLog:
    """The runner's log for account workflows, on the account's partition (per cleanup run)."""

    def succeeded(self, subject_id: str) -> set[str]:
        return repo.steps_succeeded(subject_id)

    def started(self, subject_id: str, step: str) -> int:
        return repo.step_started(subject_id, step)

    def finished(self, subject_id: str, step: str, *, ok: bool, output: dict | None, error: str) -> None:
        repo.step_finished(subject_id, step, ok=ok, error=error)


HOT_POOL = Workflow(
    "lab-hot-pool",
    [
        Step("move", hot_step_move, "Move the account to the leased OU while its stack is deployed."),
        Step("guardrails", hot_step_guardrails, "Attach the lab's guardrail SCP."),
        Step(
            "stack",
            hot_step_stack,
            "Deploy the lab's stack.",
            ready=hot_stack_ready,
            poll_seconds=15,
            max_wait_seconds=1800,
        ),
        Step("available", hot_step_available, "Offer the account in the lab's hot pool."),
    ],
    _AccountLog(),
)


# --- cleanup ----------------------------------------------------------------------------------------------------
def cleanup_start(account: PoolAccount, *, regions: list[str]) -> PoolAccount:
    """A new cleanup run for a CLEANING account (its OU is the cleaning one; the run number names it)."""
    account = repo.account_update(
        account, cleanup_run=account.cleanup_run + 1, cleanup_regions=sorted(set(regions)), last_cleanup_error=""
    )
    runs.start(
        CLEANUP,
        f"{account.account_id}:{account.cleanup_run}",
        on_failure=cleanup_record_failure,
        attempt=str(account.cleanup_run),
    )
    return repo.account_get(account.account_id, consistent=True) or account


def _cleaning(subject: str) -> tuple[PoolAccount, Shard, cleanup.Account]:
    account = account_get(subject.partition(":")[0])
    shard = shard_get(account.shard_id)
    creds = aws_accounts.member(shard, account.account_id, role=guardrails.CLEANUP_ROLE)
    return account, shard, cleanup.Account(account.account_id, creds)


def _cleanup_regions(account: PoolAccount) -> list[str]:
    return account.cleanup_regions or [account.region]


def cleanup_step_move(subject: str) -> dict:
    account, shard, _ = _cleaning(subject)
    _move(account, shard, AccountState.CLEANING)
    return {}


def cleanup_step_stacks(subject: str) -> dict:
    account, _shard, target = _cleaning(subject)
    return {"stacks": cleanup.stacks_delete(target, _cleanup_regions(account))}


def cleanup_stacks_gone(subject: str) -> bool:
    account, _shard, target = _cleaning(subject)
    return cleanup.stacks_left(target, _cleanup_regions(account)) == 0


def _nuke_build(subject: str, pass_number: int) -> dict:
    """Production: start the aws-nuke CodeBuild project with this account's generated config."""
    account, shard, _target = _cleaning(subject)
    return start_nuke_build(account, shard, pass_number=pass_number)


def start_nuke_build(account: PoolAccount, shard: Shard, *, pass_number: int) -> dict:
    config = cleanup.aws_nuke_config(
        account.account_id,
        _cleanup_regions(account),
        blocklist=[*settings.CLOUDKIDA_LAB_NUKE_BLOCKLIST, shard.management_account_id],
    )
    build = aws.client("codebuild").start_build(
        projectName=settings.CLOUDKIDA_LAB_NUKE_PROJECT,
        environmentVariablesOverride=[
            # JSON is YAML: aws-nuke reads it as its config file (no YAML library in the Lambda package).
            {"name": "NUKE_CONFIG", "value": json.dumps(config), "type": "PLAINTEXT"},
            {"name": "NUKE_ACCOUNT", "value": account.account_id, "type": "PLAINTEXT"},
            {
                "name": "NUKE_ROLE_ARN",
                "value": f"arn:aws:iam::{account.account_id}:role/{guardrails.CLEANUP_ROLE}",
                "type": "PLAINTEXT",
            },
            {"name": "NUKE_VERIFY", "value": "true" if pass_number == 2 else "false", "type": "PLAINTEXT"},
        ],
    )["build"]
    repo.account_update(account, nuke_build=build["id"])
    return {"build": build["id"], "pass": pass_number}


def _build_done(subject: str, step: str) -> bool:
    account = account_get(subject.partition(":")[0])
    builds = aws.client("codebuild").batch_get_builds(ids=[account.nuke_build])["builds"] if account.nuke_build else []
    if not builds:
        raise ServiceUnavailable("The aws-nuke build is missing.", code="cleanup_failed")
    status = builds[0]["buildStatus"]
    if status in {"FAILED", "FAULT", "STOPPED", "TIMED_OUT"}:
        raise ServiceUnavailable(f"aws-nuke {step} ended {status}.", code="cleanup_failed")
    return status == "SUCCEEDED"


def cleanup_step_pass_1(subject: str) -> dict:
    if settings.CLOUDKIDA_LAB_CLEANUP == "aws-nuke":
        return _nuke_build(subject, 1)
    account, _shard, target = _cleaning(subject)
    return {"deleted": len(cleanup.clean_pass(target, _cleanup_regions(account)))}


def cleanup_pass_1_done(subject: str) -> bool:
    return _build_done(subject, "pass 1") if settings.CLOUDKIDA_LAB_CLEANUP == "aws-nuke" else True


def cleanup_step_pass_2(subject: str) -> dict:
    """The second, verifying pass: nothing may be left but service-managed exceptions."""
    if settings.CLOUDKIDA_LAB_CLEANUP == "aws-nuke":
        return _nuke_build(subject, 2)
    account, _shard, target = _cleaning(subject)
    deleted = cleanup.clean_pass(target, _cleanup_regions(account))
    return _verify(account, target, second_pass_deleted=len(deleted))


def _verify(account: PoolAccount, target: cleanup.Account, *, second_pass_deleted: int = 0) -> dict:
    left, exceptions = cleanup.leftovers(target, _cleanup_regions(account))
    if left:
        raise ServiceUnavailable(
            f"Not empty after two passes: {sorted(left)[:5]}.", code="cleanup_incomplete", details={"left": left}
        )
    repo.account_update(account_get(account.account_id), last_cleanup_exceptions=exceptions)
    return {"exceptions": len(exceptions), "second_pass_deleted": second_pass_deleted}


def cleanup_pass_2_done(subject: str) -> bool:
    if settings.CLOUDKIDA_LAB_CLEANUP != "aws-nuke":
        return True
    if not _build_done(subject, "pass 2"):
        return False
    account, _shard, target = _cleaning(subject)
    _verify(account, target)
    return True


def cleanup_step_detach(subject: str) -> dict:
    account, shard, _ = _cleaning(subject)
    if account.lab_policy_id:
        aws_accounts.detach_policy(shard, account.lab_policy_id, account.account_id)
        repo.account_update(account, lab_policy_id="")
    return {"detached": account.lab_policy_id}


def cleanup_step_return(subject: str) -> dict:
    """Back to AVAILABLE (a new random index key, the available OU), and the session it served ends."""
    account, shard, _ = _cleaning(subject)
    if account.state is not AccountState.CLEANING:
        return {"state": account.state.value}
    session = (account.tenant_id, account.session_id)
    account = repo.account_update(
        account,
        state=AccountState.AVAILABLE,
        state_since=clock.now(),
        session_id="",
        tenant_id="",
        hot_lab_id="",
        hot_revision=0,
        stack_name="",
        cleanup_failures=0,
        last_cleanup_error="",
    )
    _move(account, shard, AccountState.AVAILABLE)
    _finish_session(*session, note="")
    return {"state": account.state.value}


def cleanup_record_failure(subject: str, step: str, reason: str) -> None:
    """A failed cleanup run: counted; the retry job starts another; the third failure quarantines."""
    account = account_get(subject.partition(":")[0])
    failures = account.cleanup_failures + 1
    repo.stats_add(cleanup_failures=1)
    account = repo.account_update(account, cleanup_failures=failures, last_cleanup_error=f"{step}: {reason}"[:1000])
    if failures >= settings.CLOUDKIDA_LAB_CLEANUP_ATTEMPTS:
        account_quarantine(
            account=account, reason=f"cleanup failed {failures} times: {step}: {reason}"[:500], actor="cleanup"
        )


CLEANUP = Workflow(
    "lab-cleanup",
    [
        Step("move", cleanup_step_move, "Move the account to the cleaning OU."),
        Step(
            "stacks",
            cleanup_step_stacks,
            "Delete the lab's stacks in every allowed region.",
            ready=cleanup_stacks_gone,
            poll_seconds=15,
            max_wait_seconds=3600,
        ),
        Step(
            "pass_1",
            cleanup_step_pass_1,
            "First clean pass (aws-nuke in CodeBuild; boto3 locally).",
            ready=cleanup_pass_1_done,
            poll_seconds=30,
            max_wait_seconds=3600,
        ),
        Step(
            "pass_2",
            cleanup_step_pass_2,
            "Second pass: verify the account is empty.",
            ready=cleanup_pass_2_done,
            poll_seconds=30,
            max_wait_seconds=3600,
        ),
        Step("detach", cleanup_step_detach, "Detach the lab's guardrail SCP."),
        Step("return", cleanup_step_return, "Back to AVAILABLE in the available OU; the session ends."),
    ],
    _AccountLog(),
)


_session_finisher: list[Callable[..., None]] = []


def set_session_finisher(finish: Callable[..., None]) -> None:
    """Sessions lease through the pool; the pool tells sessions when the account that served one is clean
    (or quarantined), through this (registered from ``LabsConfig.ready``), so neither imports the other both ways."""
    _session_finisher[:] = [finish]


def _finish_session(tenant_id: str, session_id: str, *, note: str) -> None:
    """The session whose account is now clean (or quarantined) ENDS (offboarded tenants' are gone)."""
    if tenant_id and session_id and _session_finisher:
        _session_finisher[0](tenant_id=tenant_id, session_id=session_id, note=note)


def cleanup_retry_due() -> list[str]:
    """The retry job: a new run for every CLEANING account whose last run failed."""
    started = []
    for shard in repo.shards():
        for region in regions():
            for account in repo.all_in_state(AccountState.CLEANING, shard.shard_id, region):
                if account.last_cleanup_error:
                    cleanup_start(account, regions=_cleanup_regions(account))
                    started.append(account.account_id)
    return started


# --- system-admin actions -----------------------------------------------------------------------------------------
def account_quarantine(
    *, account: PoolAccount | None = None, account_id: str = "", reason: str, actor: str
) -> PoolAccount:
    """QUARANTINED, in the quarantine OU. A session it still serves ends (the learner's access first)."""
    account = account or account_get(account_id)
    if account.state in {AccountState.QUARANTINED, AccountState.EJECTED}:
        return account
    if account.state is AccountState.CREATING:
        raise Conflict("The account is still being created.", code="invalid_state")
    shard = shard_get(account.shard_id)
    session = (account.tenant_id, account.session_id)
    if account.state is AccountState.LEASED and account.session_id:
        aws_accounts.learner_revoke(shard, account.account_id)
    account = repo.account_update(
        account,
        state=AccountState.QUARANTINED,
        state_since=clock.now(),
        quarantine_reason=reason[:500],
        tenant_id="",
        session_id="",
    )
    _move(account, shard, AccountState.QUARANTINED)
    repo.stats_add(quarantined=1)
    platform_event_add(
        action="pool.quarantined", actor=actor, details={"account": account.account_id, "reason": reason[:500]}
    )
    _finish_session(*session, note=f"account quarantined: {reason}"[:300])
    return account


def account_retry_cleanup(*, account_id: str, actor: str) -> PoolAccount:
    """A quarantined (or stuck cleaning) account gets a fresh cleanup with its failure count reset."""
    account = account_get(account_id)
    if account.state not in {AccountState.QUARANTINED, AccountState.CLEANING}:
        raise Conflict(
            f"Only quarantined or cleaning accounts are retried; this one is {account.state.value}.",
            code="invalid_state",
        )
    account = repo.account_update(
        account, state=AccountState.CLEANING, state_since=clock.now(), cleanup_failures=0, quarantine_reason=""
    )
    platform_event_add(action="pool.retry_cleanup", actor=actor, details={"account": account.account_id})
    return cleanup_start(account, regions=_cleanup_regions(account))


def account_eject(*, account_id: str, actor: str) -> PoolAccount:
    """Take an account out of the pool for good (to the organization's root; never leased again)."""
    account = account_get(account_id)
    if account.state in {AccountState.LEASED, AccountState.PREPARING, AccountState.CREATING}:
        raise Conflict(f"A {account.state.value} account cannot be ejected; quarantine it first.", code="invalid_state")
    if account.state is AccountState.EJECTED:
        return account
    shard = shard_get(account.shard_id)
    account = repo.account_update(account, state=AccountState.EJECTED, state_since=clock.now())
    aws_accounts.move(shard, account.account_id, shard.root_id)
    platform_event_add(action="pool.ejected", actor=actor, details={"account": account.account_id})
    return account


# --- drift --------------------------------------------------------------------------------------------------------
def drift_check() -> list[str]:
    """Quarantine every account whose OU is not its recorded state's (after a grace period for moves in
    flight). Lists each pool OU once and each state's accounts once: O(accounts), a job's work."""
    quarantined = []
    grace = settings.CLOUDKIDA_LAB_DRIFT_GRACE_SECONDS
    now = clock.now()
    for shard in repo.shards():
        where = {account: name for name, ou in shard.ou_ids.items() for account in aws_accounts.accounts_in(shard, ou)}
        for state, ou_name in OU_OF_STATE.items():
            for region in regions():
                for account in repo.all_in_state(state, shard.shard_id, region):
                    actual = where.get(account.account_id, "outside the pool")
                    if actual == ou_name or (now - account.state_since).total_seconds() < grace:
                        continue
                    reason = f"drift: in the {actual} OU while {state.value}"
                    quarantined.append(
                        account_quarantine(account=account, reason=reason, actor="drift-check").account_id
                    )
    return quarantined
