"""User entities of a tenant (no boto3, no Django request)."""

from __future__ import annotations

from dataclasses import dataclass
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


__all__ = ["ApiKey", "Role", "Scope", "User", "UserStatus"]
