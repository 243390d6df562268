"""Tenant entities and value objects (no boto3, no Django request)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Tier(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    PREMIUM = "premium"
    PLATINUM = "platinum"

    @property
    def isolation(self) -> Isolation:
        return Isolation.SILO if self is Tier.PLATINUM else Isolation.POOLED


class Isolation(StrEnum):
    POOLED = "pooled"
    SILO = "silo"


class TenantStatus(StrEnum):
    PENDING = "PENDING"
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    DEACTIVATED = "DEACTIVATED"
    OFFBOARDING = "OFFBOARDING"


# Sub-domains CloudKida keeps for itself; no tenant may take them.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "admin",
        "app",
        "static",
        "media",
        "auth",
        "login",
        "logout",
        "signup",
        "register",
        "mail",
        "email",
        "smtp",
        "ftp",
        "status",
        "docs",
        "help",
        "support",
        "billing",
        "cloudkida",
        "assets",
        "cdn",
        "dashboard",
        "portal",
        "console",
        "ops",
        "internal",
        "root",
        "system",
        "test",
        "dev",
        "staging",
        "prod",
        "production",
        "localhost",
    }
)
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")


@dataclass
class Tenant:
    tenant_id: str  # a ULID: immutable, never reused, leads every partition key of the tenant
    slug: str  # the sub-domain: an alias a person chose, unique while held, may change
    name: str
    tier: Tier
    status: TenantStatus
    created_at: datetime
    admin_email: str = ""
    country: str = ""
    is_default: bool = False
    identity: dict[str, str] = field(default_factory=dict)
    branding: dict[str, str] = field(default_factory=dict)
    data_table: str = ""  # set for siloed tenants once their table exists; pooled tenants share one
    admin_name: str = ""
    phone: str = ""
    address: str = ""
    api_key_id: str = ""
    failed_step: str = ""
    failure_reason: str = ""
    status_token_hash: str = ""  # sha256 of the token that lets the sign-up page poll progress
    version: int = 0

    @property
    def isolation(self) -> Isolation:
        return self.tier.isolation

    @property
    def is_serving(self) -> bool:
        """Whether the tenant's portal and API may serve requests."""
        return self.status is TenantStatus.ACTIVE


@dataclass
class StepRecord:
    """One onboarding step's latest outcome, recorded on the tenant."""

    name: str
    status: str  # RUNNING | SUCCEEDED | FAILED
    attempts: int
    started_at: datetime
    finished_at: datetime | None = None
    error: str = ""
    output: dict = field(default_factory=dict)


@dataclass
class AuditEvent:
    tenant_id: str
    at: datetime
    action: str
    actor: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SlugTarget:
    """What a slug points to: the tenant holding it, or (after a rename) the tenant it redirects to."""

    tenant_id: str
    redirect_to: str = ""  # the tenant's new slug while the old one is in its grace period


class DomainStatus(StrEnum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"


@dataclass
class CustomDomain:
    """A domain a tenant added; it serves the tenant's portal once a DNS TXT record proves control."""

    tenant_id: str
    hostname: str
    token: str
    status: DomainStatus
    created_at: datetime
    verified_at: datetime | None = None
    checked_at: datetime | None = None
    version: int = 0

    @property
    def record_name(self) -> str:
        """Where the TXT record goes."""
        return f"_cloudkida.{self.hostname}"

    @property
    def record_value(self) -> str:
        return f"cloudkida-verify={self.token}"
