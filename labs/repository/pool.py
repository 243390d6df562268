"""DynamoDB adapter for the account pool (control table, platform items).

Items:
- account:     PK ``ACCOUNT#<account id>``, SK ``ACCOUNT``.
               GSI1, only while it can be leased: ``POOL#AVAIL#<region>#<n>`` (or, carrying a hot pool's
               stack, ``POOL#HOT#<lab id>#<revision>#<region>#<n>``) / a random key drawn again each time it
               becomes available; ``n`` = hash(account id) mod ``CLOUDKIDA_LAB_POOL_INDEX_PARTITIONS``.
               GSI2: ``POOL#STATE#<state>#<shard>`` / ``<deadline or since>#<account id>`` (list by state per
               shard; leased accounts ordered by their session's deadline, for expiry).
- step record: PK ``ACCOUNT#<account id>``, SK ``STEP#<cleanup run>#<step>`` (TTL 30 days)
- creation:    PK ``ACCOUNTREQ#<create request id>``, SK ``ACCOUNTREQ``; GSI2 ``POOL#STATE#CREATING#<shard>``
- shard:       PK ``POOL#SHARDS``, SK ``<shard id>`` (an organization and its pool OUs and SCPs)
- targets:     PK ``POOL#CONFIG``, SK ``TARGETS`` (per region: minimum available, maximum size)
- lab SCP:     PK ``POOL#LABSCP#<shard id>``, SK ``<guardrails digest>`` → the policy id in that organization
- stats:       PK ``POOL#STATS``, SK ``HOUR#<YYYY-MM-DDTHH>`` (leases, cleanup failures, quarantines) and
               ``SNAPSHOT`` (accounts by state per shard and region, written by the replenisher)
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings

from cloudkida import clock
from cloudkida.clock import to_iso
from cloudkida.dynamo import Also, QueryScope
from cloudkida.dynamo.keys import join
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict
from labs.domain import AccountState, PoolAccount, PoolTarget, Shard
from labs.repository.common import control, dt, iso

ACCOUNT, REQUEST = "ACCOUNT", "ACCOUNTREQ"
SHARDS, CONFIG, STATS, LAB_SCP = "POOL#SHARDS", "POOL#CONFIG", "POOL#STATS", "POOL#LABSCP"
AVAILABLE_INDEX, STATE_INDEX = "GSI1", "GSI2"


def partitions() -> int:
    return settings.CLOUDKIDA_LAB_POOL_INDEX_PARTITIONS


def partition_of(account_id: str) -> int:
    return int(hashlib.sha256(account_id.encode()).hexdigest(), 16) % partitions()


def available_partition(region: str, n: int, *, hot_lab: str = "") -> str:
    if hot_lab:
        return join("POOL", "HOT", hot_lab, region, str(n))
    return join("POOL", "AVAIL", region, str(n))


def state_partition(state: AccountState, shard_id: str, region: str) -> str:
    return join("POOL", "STATE", state.value, shard_id, region)


def random_start() -> str:
    """A start point in the lower half of the key space: concurrent claims spread over a partition's keys,
    yet a query from it runs off the partition's end only with probability 2^-m (m accounts in it)."""
    return format(secrets.randbits(127), "032x")


def _index(account: PoolAccount, deadline: str = "") -> dict[str, Any]:
    attrs: dict[str, Any] = {"GSI1PK": None, "GSI1SK": None}
    if account.state is AccountState.AVAILABLE:
        attrs["GSI1PK"] = available_partition(
            account.region,
            partition_of(account.account_id),
            hot_lab=account.hot_lab_id,
        )
        attrs["GSI1SK"] = secrets.token_hex(16)
    order = deadline or to_iso(account.state_since)
    attrs["GSI2PK"] = state_partition(account.state, account.shard_id, account.region)
    attrs["GSI2SK"] = f"{order}#{account.account_id}"
    return attrs


_FIELDS = (
    "shard_id",
    "region",
    "email",
    "session_id",
    "tenant_id",
    "hot_lab_id",
    "hot_revision",
    "stack_name",
    "lab_policy_id",
    "cleanup_regions",
    "cleanup_failures",
    "last_cleanup_error",
    "last_cleanup_exceptions",
    "cleanup_run",
    "nuke_build",
    "quarantine_reason",
    "leases",
)


def _to_item(account: PoolAccount) -> dict[str, Any]:
    item = {
        "PK": join(ACCOUNT, account.account_id),
        "SK": ACCOUNT,
        "entity": "pool-account",
        "account_id": account.account_id,
        "state": account.state.value,
        "state_since": iso(account.state_since),
        **{f: getattr(account, f) for f in _FIELDS},
    }
    item.update({k: v for k, v in _index(account).items() if v is not None})
    return item


def _from_item(item: dict[str, Any]) -> PoolAccount:
    return PoolAccount(
        account_id=item["account_id"],
        shard_id=item["shard_id"],
        region=item["region"],
        state=AccountState(item["state"]),
        state_since=dt(item["state_since"]),
        email=item.get("email", ""),
        session_id=item.get("session_id", ""),
        tenant_id=item.get("tenant_id", ""),
        hot_lab_id=item.get("hot_lab_id", ""),
        hot_revision=int(item.get("hot_revision", 0)),
        stack_name=item.get("stack_name", ""),
        lab_policy_id=item.get("lab_policy_id", ""),
        cleanup_regions=list(item.get("cleanup_regions") or []),
        cleanup_failures=int(item.get("cleanup_failures", 0)),
        last_cleanup_error=item.get("last_cleanup_error", ""),
        last_cleanup_exceptions=list(item.get("last_cleanup_exceptions") or []),
        cleanup_run=int(item.get("cleanup_run", 0)),
        nuke_build=item.get("nuke_build", ""),
        quarantine_reason=item.get("quarantine_reason", ""),
        leases=int(item.get("leases", 0)),
        version=int(item["version"]),
    )


def from_item(item: dict[str, Any]) -> PoolAccount:
    return _from_item(item)


def account_item(account: PoolAccount) -> dict[str, Any]:
    """The full item of a new account (for ``account_put`` and for bulk seeding in benchmarks)."""
    return {**_to_item(account), "version": 1}


def account_put(account: PoolAccount, *, request_id: str = "") -> PoolAccount:
    """Write a new account; with ``request_id`` its creation record goes in the same transaction."""
    table = control()
    also = []
    if request_id:
        also.append(
            Also(
                {
                    "Delete": {
                        "TableName": table.name,
                        "Key": serialize({"PK": join(REQUEST, request_id), "SK": REQUEST}),
                    }
                },
                "request",
            )
        )
    return _from_item(table.create(_to_item(account), also=also))


def account_get(account_id: str, *, consistent: bool = False) -> PoolAccount | None:
    item = control().get(join(ACCOUNT, account_id), ACCOUNT, consistent=consistent)
    return _from_item(item) if item else None


def account_update(account: PoolAccount, *, deadline: str = "", **changes: Any) -> PoolAccount:
    """Apply ``changes`` (and the index keys the new state implies) if ``account`` is still current."""
    new = PoolAccount(**{**vars(account), **changes})
    values: dict[str, Any] = {k: getattr(new, k) for k in changes}
    if "state" in values:
        values["state"] = new.state.value
        values["state_since"] = iso(new.state_since)
        values.update(_index(new, deadline))
    elif deadline:
        values.update({k: v for k, v in _index(new, deadline).items() if k.startswith("GSI2")})
    item = control().update(
        join(ACCOUNT, account.account_id), ACCOUNT, expected_version=account.version, changes=values
    )
    return _from_item(item)


def candidates(partition: str, *, start: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` available accounts of one index partition from ``start`` (raw items: their version
    is what the claim is conditional on)."""
    return control().query_from(index=AVAILABLE_INDEX, partition=partition, start=start, limit=limit)


def claim(candidate: dict[str, Any], *, session_update: dict, tenant_id: str, session_id: str, deadline: str) -> bool:
    """Lease one candidate for a session, in one transaction: the account AVAILABLE → LEASED (still at the
    version the index showed), the session REQUESTED → PROVISIONING with the account. False if someone
    else took the account first; Conflict if the session changed."""
    table = control()
    now = clock.now()
    account = _from_item(candidate)
    leased = PoolAccount(**{**vars(account), "state": AccountState.LEASED, "state_since": now})
    index = _index(leased, deadline)
    update = {
        "Update": {
            "TableName": table.name,
            "Key": serialize({"PK": candidate["PK"], "SK": candidate["SK"]}),
            "UpdateExpression": "SET #state = :leased, #since = :now, session_id = :sid, tenant_id = :tid, "
            "GSI2PK = :g2pk, GSI2SK = :g2sk, #version = :next ADD leases :one REMOVE GSI1PK, GSI1SK",
            "ConditionExpression": "#state = :available AND #version = :v",
            "ExpressionAttributeNames": {"#state": "state", "#since": "state_since", "#version": "version"},
            "ExpressionAttributeValues": serialize(
                {
                    ":leased": AccountState.LEASED.value,
                    ":available": AccountState.AVAILABLE.value,
                    ":now": iso(now),
                    ":sid": session_id,
                    ":tid": tenant_id,
                    ":g2pk": index["GSI2PK"],
                    ":g2sk": index["GSI2SK"],
                    ":v": int(candidate["version"]),
                    ":next": int(candidate["version"]) + 1,
                    ":one": 1,
                }
            ),
        }
    }
    try:
        table.transact(
            [update, session_update],
            labels=[
                "account",
                Also(session_update, "session", "The session is no longer waiting for an account.", "invalid_state"),
            ],
            values={},
        )
    except Conflict as conflict:
        if getattr(conflict, "failed", None) == ["account"] or not getattr(conflict, "failed", None):
            if conflict.code == "invalid_state":
                raise
            return False  # lost the race for this account (or a transaction conflict on it): try another
        raise
    return True


def in_state(state: AccountState, shard_id: str, region: str, *, limit: int = 50, cursor: str | None = None):
    """A page of a shard's accounts of one region in one state (leased ones by deadline, others oldest first)."""
    table = control()
    scope = QueryScope("", table.name, STATE_INDEX, state_partition(state, shard_id, region), "")
    page = table.query(scope=scope, limit=limit, cursor=cursor)
    page.items = [_from_item(i) for i in page.items]
    return page


def due(state: AccountState, shard_id: str, region: str, *, before: str, limit: int = 100) -> list[PoolAccount]:
    """The first ``limit`` accounts in ``state`` whose sort key (deadline, for leased ones) is before ``before``."""
    table = control()
    items = table.query_from(index=STATE_INDEX, partition=state_partition(state, shard_id, region), limit=limit)
    return [_from_item(i) for i in items if i["GSI2SK"] < before]


def all_in_state(state: AccountState, shard_id: str, region: str) -> list[PoolAccount]:
    table = control()
    scope = QueryScope("", table.name, STATE_INDEX, state_partition(state, shard_id, region), "")
    return [_from_item(i) for i in table.query_all(scope)]


def available_items(region: str, *, hot_lab: str = "") -> list[dict[str, Any]]:
    """Every account in a region's available (or a hot pool's) index partitions (jobs only)."""
    table = control()
    out: list[dict[str, Any]] = []
    for n in range(partitions()):
        scope = QueryScope("", table.name, AVAILABLE_INDEX, available_partition(region, n, hot_lab=hot_lab), "")
        out += list(table.query_all(scope))
    return out


def count_available(region: str, *, hot_lab: str = "") -> int:
    table = control()
    return sum(
        table.count(index=AVAILABLE_INDEX, partition=available_partition(region, n, hot_lab=hot_lab))
        for n in range(partitions())
    )


def count_in_state(state: AccountState, shard_id: str, region: str) -> int:
    return control().count(index=STATE_INDEX, partition=state_partition(state, shard_id, region))


# --- account creation requests -------------------------------------------------------------------------------
def request_put(request_id: str, *, shard_id: str, region: str, email: str) -> None:
    now = clock.now()
    control().create(
        {
            "PK": join(REQUEST, request_id),
            "SK": REQUEST,
            "entity": "pool-account-request",
            "request_id": request_id,
            "shard_id": shard_id,
            "region": region,
            "email": email,
            "requested_at": iso(now),
            "GSI2PK": state_partition(AccountState.CREATING, shard_id, region),
            "GSI2SK": f"{iso(now)}#{request_id}",
        }
    )


def requests_in_flight(shard_id: str, regions: list[str]) -> list[dict[str, Any]]:
    table = control()
    out: list[dict[str, Any]] = []
    for region in regions:
        scope = QueryScope("", table.name, STATE_INDEX, state_partition(AccountState.CREATING, shard_id, region), "")
        out += list(table.query_all(scope))
    return out


def request_delete(request_id: str) -> None:
    control().batch_delete([{"PK": join(REQUEST, request_id), "SK": REQUEST}])


# --- shards, targets, SCP records, stats ---------------------------------------------------------------------
def _shard_from(item: dict[str, Any]) -> Shard:
    return Shard(
        shard_id=item["SK"],
        management_account_id=item["management_account_id"],
        role_arn=item.get("role_arn", ""),
        root_id=item.get("root_id", ""),
        ou_ids=dict(item.get("ou_ids") or {}),
        policy_ids=dict(item.get("policy_ids") or {}),
        account_quota=int(item.get("account_quota", 10_000)),
        accounts=int(item.get("accounts", 0)),
        accepting=bool(item.get("accepting", True)),
        created_at=dt(item.get("created_at")),
        version=int(item["version"]),
    )


def shard_put(shard: Shard) -> Shard:
    """Create or replace a shard's record (registration is idempotent)."""
    values = {
        "entity": "pool-shard",
        "management_account_id": shard.management_account_id,
        "role_arn": shard.role_arn,
        "root_id": shard.root_id,
        "ou_ids": shard.ou_ids,
        "policy_ids": shard.policy_ids,
        "account_quota": shard.account_quota,
        "accepting": shard.accepting,
        "created_at": iso(shard.created_at or clock.now()),
    }
    item = control().upsert(SHARDS, shard.shard_id, set_values=values, add={"version": 1, "accounts": 0})
    return _shard_from(item)


def shard_count_account(shard_id: str, delta: int = 1) -> None:
    control().upsert(SHARDS, shard_id, set_values={}, add={"accounts": delta})


def shards() -> list[Shard]:
    table = control()
    return [_shard_from(i) for i in table.query_all(QueryScope("", table.name, "", SHARDS, ""))]


def shard_get(shard_id: str) -> Shard | None:
    item = control().get(SHARDS, shard_id)
    return _shard_from(item) if item else None


def targets_get() -> dict[str, PoolTarget]:
    item = control().get(CONFIG, "TARGETS") or {}
    return {
        region: PoolTarget(region, int(t["min_available"]), int(t["max_size"]))
        for region, t in (item.get("targets") or {}).items()
    }


def targets_put(targets: dict[str, PoolTarget]) -> None:
    control().upsert(
        CONFIG,
        "TARGETS",
        set_values={
            "entity": "pool-targets",
            "targets": {r: {"min_available": t.min_available, "max_size": t.max_size} for r, t in targets.items()},
        },
    )


def lab_policy_get(shard_id: str, digest: str) -> str:
    item = control().get(join(LAB_SCP, shard_id), digest)
    return item["policy_id"] if item else ""


def lab_policy_put(shard_id: str, digest: str, policy_id: str) -> None:
    control().upsert(join(LAB_SCP, shard_id), digest, set_values={"entity": "lab-scp", "policy_id": policy_id})


def stats_add(**counts: int) -> None:
    """Add to this hour's pool counters (leases, cleanup failures, quarantines): one UpdateItem."""
    hour = clock.now().strftime("%Y-%m-%dT%H")
    control().upsert(STATS, f"HOUR#{hour}", set_values={"hour": hour}, add=counts)


def stats_hours(first: str, last: str) -> list[dict[str, Any]]:
    """The hourly counters from hour ``first`` to ``last`` (``YYYY-MM-DDTHH``)."""
    table = control()
    page = table.query(scope=QueryScope("", table.name, "", STATS, "HOUR#"), limit=100, forward=False)
    return sorted((i for i in page.items if first <= i["hour"] <= last), key=lambda i: i["hour"])


def snapshot_put(snapshot: dict[str, Any]) -> None:
    control().upsert(STATS, "SNAPSHOT", set_values={"snapshot": snapshot, "at": to_iso(clock.now())})


def snapshot_get() -> dict[str, Any]:
    item = control().get(STATS, "SNAPSHOT") or {}
    return {"at": item.get("at"), **(item.get("snapshot") or {})}


# --- cleanup step records -------------------------------------------------------------------------------------
def _step_key(subject: str, step: str) -> tuple[str, str]:
    account_id, _, run = subject.partition(":")
    return join(ACCOUNT, account_id), join("STEP", run, step)


def step_started(subject: str, step: str) -> int:
    pk, sk = _step_key(subject, step)
    ttl = int(clock.now().timestamp()) + 30 * 86400
    item = control().upsert(
        pk, sk, set_values={"status": "RUNNING", "step": step, "expires_at": ttl}, add={"attempts": 1}
    )
    return int(item["attempts"])


def step_finished(subject: str, step: str, *, ok: bool, error: str) -> None:
    pk, sk = _step_key(subject, step)
    control().upsert(
        pk,
        sk,
        set_values={"status": "SUCCEEDED" if ok else "FAILED", "error": error[:1000], "finished_at": iso(clock.now())},
    )


def steps_succeeded(subject: str) -> set[str]:
    account_id, _, run = subject.partition(":")
    table = control()
    scope = QueryScope("", table.name, "", join(ACCOUNT, account_id), join("STEP", run, ""))
    return {i["step"] for i in table.query_all(scope) if i.get("status") == "SUCCEEDED"}
