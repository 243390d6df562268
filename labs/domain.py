"""Lab entities and value objects: the catalog, lab sessions, the account pool (no boto3, no request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class LabStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    RETIRED = "RETIRED"


class Level(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


@dataclass(frozen=True)
class Task:
    """One step of a lab: instructions and the automatic check "Check my work" runs.

    ``check`` is ``{"type": "assertion", "assertion": <name>, "params": {...}}`` (a declarative check from
    ``labs.checks``) or ``{"type": "function", "function": <name>, "params": {...}}`` (a registered one)."""

    task_id: str
    title: str
    instructions: str = ""  # Markdown
    check: dict = field(default_factory=dict)


@dataclass
class Lab:
    """A lab definition. ``owner`` is "" for a global (CloudKida) lab, else the tenant id of a private lab.

    ``revision`` is the lab's version: 0 until first published, +1 on every publish and every change of a
    published lab (sessions keep the revision they started with, and its template)."""

    lab_id: str
    owner: str
    slug: str
    title: str
    summary: str = ""
    instructions: str = ""  # Markdown; rendered (sanitised) on output
    level: Level = Level.BEGINNER
    duration_minutes: int = 60
    max_duration_minutes: int = 120  # extensions stop here
    allowed_regions: list[str] = field(default_factory=lambda: ["us-east-1"])
    allowed_services: list[str] = field(default_factory=list)
    budget_usd: float = 5.0
    status: LabStatus = LabStatus.DRAFT
    revision: int = 0
    template_key: str = ""  # S3 key in the assets bucket (per revision)
    template_validated: bool = False
    tasks: list[Task] = field(default_factory=list)
    public: bool = False  # global labs only: in the default tenant's public catalog
    hot_pool_size: int = 0  # global labs only: accounts kept with the stack already deployed
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    @property
    def is_global(self) -> bool:
        return not self.owner

    @property
    def default_region(self) -> str:
        return self.allowed_regions[0]


class SessionState(StrEnum):
    REQUESTED = "REQUESTED"
    PROVISIONING = "PROVISIONING"
    READY = "READY"
    ENDING = "ENDING"
    CLEANING = "CLEANING"
    ENDED = "ENDED"
    FAILED = "FAILED"

    @property
    def is_active(self) -> bool:
        return self not in {SessionState.ENDED, SessionState.FAILED}

    @property
    def is_starting(self) -> bool:
        return self in {SessionState.REQUESTED, SessionState.PROVISIONING}


class EndReason(StrEnum):
    LEARNER = "learner"
    EXPIRY = "expiry"
    BUDGET = "budget"
    ADMIN = "admin"
    TENANT = "tenant"  # the tenant was suspended or offboarded


@dataclass
class LabSession:
    tenant_id: str
    session_id: str
    user_id: str
    lab_id: str
    lab_owner: str  # "" for a global lab
    lab_revision: int
    lab_title: str
    region: str
    state: SessionState
    requested_at: datetime
    duration_minutes: int
    max_duration_minutes: int
    budget_usd: float
    template_key: str = ""
    lab_services: list[str] = field(default_factory=list)
    lab_regions: list[str] = field(default_factory=list)
    account_id: str = ""
    shard_id: str = ""
    hot: bool = False
    stack_name: str = ""
    note: str = ""
    ready_at: datetime | None = None
    deadline: datetime | None = None
    ending_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str = ""
    failure_reason: str = ""
    failed_step: str = ""
    extensions: int = 0
    spend_usd: float = 0.0
    spend_alerted: bool = False
    month: str = ""  # the calendar month (UTC, YYYY-MM) its minutes count against
    version: int = 0

    def time_left(self, now: datetime) -> timedelta:
        if self.deadline is None or self.state is not SessionState.READY:
            return timedelta(0)
        return max(self.deadline - now, timedelta(0))

    @property
    def planned_minutes(self) -> int:
        return self.duration_minutes


@dataclass(frozen=True)
class Assignment:
    tenant_id: str
    lab_id: str
    assignee_type: str  # user | group
    assignee_id: str
    assigned_at: datetime
    assigned_by: str = ""


@dataclass
class Progress:
    """One learner's progress through one lab, across sessions."""

    tenant_id: str
    lab_id: str
    user_id: str
    passed: set[str] = field(default_factory=set)
    last_check_at: datetime | None = None
    completed_at: datetime | None = None
    last_results: dict = field(default_factory=dict)  # task id -> {"ok", "message", "at"}


class AccountState(StrEnum):
    CREATING = "CREATING"  # CreateAccount in flight
    AVAILABLE = "AVAILABLE"
    PREPARING = "PREPARING"  # taken for a hot pool: its lab's stack is being deployed
    LEASED = "LEASED"
    CLEANING = "CLEANING"
    QUARANTINED = "QUARANTINED"
    EJECTED = "EJECTED"


# The pool OU an account in each state belongs in (drift check compares).
OU_OF_STATE = {
    AccountState.AVAILABLE: "available",
    AccountState.PREPARING: "leased",
    AccountState.LEASED: "leased",
    AccountState.CLEANING: "cleaning",
    AccountState.QUARANTINED: "quarantine",
}
POOL_OUS = ("available", "leased", "cleaning", "quarantine")


@dataclass
class PoolAccount:
    account_id: str
    shard_id: str
    region: str  # the pool (region) it serves
    state: AccountState
    state_since: datetime
    email: str = ""
    session_id: str = ""
    tenant_id: str = ""
    hot_lab_id: str = ""  # set while it carries a hot pool's pre-deployed stack
    hot_revision: int = 0
    stack_name: str = ""
    lab_policy_id: str = ""  # the lab guardrail SCP attached to it, if any
    cleanup_regions: list[str] = field(default_factory=list)
    cleanup_failures: int = 0
    last_cleanup_error: str = ""
    last_cleanup_exceptions: list[str] = field(default_factory=list)
    cleanup_run: int = 0
    nuke_build: str = ""  # the aws-nuke CodeBuild build of the current cleanup pass
    quarantine_reason: str = ""
    leases: int = 0
    version: int = 0


@dataclass
class Shard:
    """One AWS organization whose member accounts belong to the pool."""

    shard_id: str
    management_account_id: str
    role_arn: str = ""  # assumed to reach its management account ("" : the platform's own account)
    root_id: str = ""
    ou_ids: dict[str, str] = field(default_factory=dict)  # available/leased/cleaning/quarantine -> OU id
    policy_ids: dict[str, str] = field(default_factory=dict)  # idle/leased guardrail SCP ids
    account_quota: int = 10_000
    accounts: int = 0  # created through CloudKida (ejections do not give quota back)
    accepting: bool = True
    created_at: datetime | None = None
    version: int = 0

    @property
    def room(self) -> int:
        return max(self.account_quota - self.accounts, 0) if self.accepting else 0


@dataclass(frozen=True)
class PoolTarget:
    region: str
    min_available: int
    max_size: int


@dataclass(frozen=True)
class SessionEvent:
    """What listeners (billing, webhooks) are told about a session's life."""

    kind: str  # started | ready | ended | failed | spend_alert
    tenant_id: str
    session_id: str
    user_id: str
    lab_id: str
    region: str
    at: datetime
    provisioning_seconds: int = 0  # requested -> ready
    active_seconds: int = 0  # ready -> ending (what the learner had)
    total_seconds: int = 0  # requested -> now
    reason: str = ""
    spend_usd: float = 0.0
