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


__all__ = ["ApiKey", "EffectivePolicy", "Group", "Policy", "Role", "Scope", "User", "UserStatus"]
