"""User entities of a tenant (no boto3, no Django request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    SYSTEM_ADMIN = "SystemAdmin"
    CUSTOMER_SUPPORT = "CustomerSupport"
    TENANT_ADMIN = "TenantAdmin"
    TENANT_USER = "TenantUser"


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
