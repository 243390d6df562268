"""Writes and use cases for a tenant's users."""

from __future__ import annotations

import re
import uuid

from accounts import repository
from accounts.domain import Role, User, UserStatus
from cloudkida import clock
from cloudkida.dynamo import check_tenant_id
from cloudkida.errors import Conflict, NotFound, ValidationFailed

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


def user_invite(*, tenant_id: str, email: str, name: str, role: Role = Role.TENANT_USER) -> User:
    """Invite a user: a Cognito sign-in in the tenant's pool (Cognito emails the invitation) and a record.

    Conflict if the email is already a user of this tenant, or signs in to another organisation.
    """
    from tenants import provisioning
    from tenants.selectors import tenant_get

    email = validate_email(email)
    role = Role(role)
    if role.is_platform:
        raise ValidationFailed("Tenant users can be TenantAdmin or TenantUser.", code="invalid_role")
    if repository.get_by_email(tenant_id, email):
        raise Conflict(
            "This email is already a user of your organisation.", code="already_exists", details={"field": "email"}
        )
    tenant = tenant_get(tenant_id=tenant_id)
    try:
        sub = provisioning.ensure_user(
            tenant.identity["user_pool_id"],
            tenant_id=tenant_id,
            email=email,
            name=name,
            role=role.value,
            group=tenant.identity.get("group"),
        )
    except ValueError as error:
        raise Conflict(
            "This email address already signs in to another CloudKida organisation.",
            code="email_in_use",
            details={"field": "email"},
        ) from error
    return user_create(tenant_id=tenant_id, email=email, name=name, role=role, user_id=sub or None)
