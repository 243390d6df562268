"""The authenticated caller, whichever way it proved itself (token, API key, session, authorizer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    SYSTEM_ADMIN = "SystemAdmin"
    CUSTOMER_SUPPORT = "CustomerSupport"
    TENANT_ADMIN = "TenantAdmin"
    TENANT_USER = "TenantUser"

    @property
    def is_platform(self) -> bool:
        return self in {Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT}


class Scope(StrEnum):
    """What an integrator API key may do: read < write < admin."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return [Scope.READ, Scope.WRITE, Scope.ADMIN].index(self)


@dataclass(frozen=True)
class Principal:
    """Looks enough like a Django user for DRF (``is_authenticated``) without being an ORM row."""

    tenant_id: str  # "" for platform operators
    role: Role
    subject: str  # the user's sub, or the API key id
    email: str = ""
    method: str = "token"  # token | api_key | session | authorizer
    scope: Scope | None = None  # API keys only
    key_name: str = ""  # API keys only: the name its tenant admin gave it
    claims: dict = field(default_factory=dict, compare=False, repr=False)

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def is_api_key(self) -> bool:
        return self.scope is not None

    @property
    def is_staff(self) -> bool:
        return self.role.is_platform

    def get_username(self) -> str:
        return self.email or self.subject

    @property
    def username(self) -> str:
        return self.get_username()
