"""Writes and use cases for a tenant's users."""

from __future__ import annotations

import re
import uuid

from accounts import repository
from accounts.domain import Role, User, UserStatus
from cloudkida import clock
from cloudkida.dynamo import check_tenant_id
from cloudkida.errors import NotFound, ValidationFailed

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def validate_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationFailed("Enter a valid email address.", code="invalid_email", details={"email": email[:254]})
    return email


def user_create(
    *, tenant_id: str, email: str, name: str, role: Role = Role.TENANT_USER, user_id: str | None = None
) -> User:
    """Add a user to the tenant; Conflict if the email is already used in this tenant."""
    user = User(
        tenant_id=check_tenant_id(tenant_id),
        user_id=user_id or uuid.uuid4().hex,
        email=validate_email(email),
        name=" ".join((name or "").split())[:200],
        role=Role(role),
        status=UserStatus.ACTIVE,
        created_at=clock.now(),
    )
    return repository.create(tenant_id, user)


def user_update(*, tenant_id: str, user_id: str, expected_version: int, **changes) -> User:
    """Change a user if it is still at ``expected_version`` (else Conflict)."""
    if "email" in changes:
        changes["email"] = validate_email(changes["email"])
    user = repository.get(tenant_id, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    user.version = expected_version
    return repository.update(tenant_id, user, **changes)
