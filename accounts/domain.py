"""User entities of a tenant (no boto3, no Django request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cloudkida.identity.principal import Role, Scope


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass
class User:
    tenant_id: str
    user_id: str
    email: str
    name: str
    role: Role
    status: UserStatus
    created_at: datetime
    version: int = 0


@dataclass
class ApiKey:
    """An integrator key of a tenant. Only its hash is stored; ``prefix`` is shown to tell keys apart."""

    tenant_id: str
    key_id: str  # the visible prefix, unique platform-wide
    name: str
    scope: Scope
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    version: int = 0

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass
class Group:
    """A cohort or class of a tenant's users; a user may be in several."""

    tenant_id: str
    group_id: str
    name: str
    description: str
    created_at: datetime
    member_count: int = 0
    version: int = 0


@dataclass
class Policy:
    """What a tenant (``group_id`` "") or one of its groups allows. A field left None does not restrict."""

    tenant_id: str
    group_id: str = ""
    allowed_lab_ids: list[str] | None = None  # None: any lab the tenant can see
    max_concurrent_labs: int | None = None  # per user
    monthly_lab_minutes: int | None = None  # per user per calendar month (UTC)
    allowed_regions: list[str] | None = None  # None: any region a lab allows
    version: int = 0


@dataclass(frozen=True)
class EffectivePolicy:
    """What applies to one user: the tenant's policy is the ceiling; among the user's groups the most
    generous value wins (labs and regions: the union; numbers: the largest), then capped by the tenant's
    (labs and regions: the intersection; numbers: the smaller). None means unrestricted."""

    allowed_lab_ids: frozenset[str] | None = None
    max_concurrent_labs: int | None = None
    monthly_lab_minutes: int | None = None
    allowed_regions: frozenset[str] | None = None
    sources: tuple[str, ...] = field(default=(), compare=False)  # "tenant", "group:<id>" that applied

    def allows_lab(self, lab_id: str) -> bool:
        return self.allowed_lab_ids is None or lab_id in self.allowed_lab_ids

    def allows_region(self, region: str) -> bool:
        return self.allowed_regions is None or region in self.allowed_regions


__all__ = [
    "ApiKey",
    "EffectivePolicy",
    "Group",
    "ImportRow",
    "ImportStatus",
    "Policy",
    "Role",
    "RowOutcome",
    "Scope",
    "User",
    "UserImport",
    "UserStatus",
]


class ImportStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RowOutcome(StrEnum):
    CREATED = "created"
    ALREADY_MEMBER = "already_member"
    INVALID = "invalid"


@dataclass
class ImportRow:
    """One row of a bulk import and what became of it (``row`` counts from 1, the header excluded)."""

    row: int
    email: str
    name: str
    role: str
    groups: list[str]
    outcome: RowOutcome
    reason: str = ""  # why a row is invalid
    user_id: str = ""


@dataclass
class UserImport:
    """A bulk import of users from a CSV file, run as a job in chunks with a checkpoint (``next_chunk``)."""

    tenant_id: str
    import_id: str
    status: ImportStatus
    created_at: datetime
    created_by: str
    filename: str
    total_rows: int
    file_key: str  # the uploaded file in the assets bucket, under the tenant's prefix
    processed_rows: int = 0
    created: int = 0
    already_members: int = 0
    invalid: int = 0
    next_chunk: int = 0
    group_ids: dict[str, str] = field(default_factory=dict)  # group name in the file -> group id
    groups_resolved: bool = False  # the file's groups were found or created (once, at the start)
    groups_created: int = 0
    error: str = ""
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}
