"""Writes and use cases for a tenant's people: create, invite, change role or status, learners' sign-up.

A role or status change is written to the user record first (every authorisation decision reads it,
through ``accounts.selectors.user_for_authorization``) and then brought into Cognito: the role attribute,
AdminDisableUser/AdminEnableUser, and a global sign-out so no refresh token outlives the change.
"""

from __future__ import annotations

import uuid

from django.conf import settings

from accounts import cognito, repository
from accounts.api_keys import api_key_cache_clear
from accounts.domain import Role, User, UserStatus
from accounts.selectors import authorization_cache_forget, user_get_by_email
from cloudkida import clock
from cloudkida.dynamo import check_tenant_id
from cloudkida.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from cloudkida.validation import validate_email
from tenants import provisioning
from tenants.domain import Isolation, Tenant, TenantStatus
from tenants.selectors import tenant_get, tenant_get_by_slug, tenant_get_cached
from tenants.services import audit
from tenants.services.registration import check_signup_rate, count_signup

__all__ = [
    "learner_register",
    "user_create",
    "user_invite",
    "user_update",
    "validate_email",
]


def user_create(
    *, tenant_id: str, email: str, name: str, role: Role = Role.TENANT_USER, user_id: str | None = None
) -> User:
    """Add a user record to the tenant; Conflict if the email is already used in this tenant."""
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


def _tenant_role(role: Role | str) -> Role:
    try:
        role = Role(role)
    except ValueError as error:
        raise ValidationFailed("Role must be TenantAdmin or TenantUser.", code="invalid_role") from error
    if role.is_platform:
        raise ValidationFailed("Tenant users can be TenantAdmin or TenantUser.", code="invalid_role")
    return role


def _sign_in(tenant: Tenant, *, email: str, name: str, role: Role) -> str:
    """The Cognito sign-in for a new member (invited by email); returns its sub."""
    try:
        return cognito.ensure_user(
            tenant.identity["user_pool_id"],
            tenant_id=tenant.tenant_id,
            email=email,
            name=name,
            role=role.value,
            group=tenant.identity.get("group"),
        )
    except cognito.EmailTaken as error:
        raise Conflict(
            "This email address already signs in to another CloudKida organisation.",
            code="email_in_use",
            details={"field": "email"},
        ) from error


def user_invite(*, tenant_id: str, email: str, name: str, role: Role = Role.TENANT_USER, actor: str = "system") -> User:
    """Invite a user: a Cognito sign-in in the tenant's pool (Cognito emails the invitation) and a record.

    Conflict if the email is already a user of this tenant, or signs in to another organisation.
    """
    email = validate_email(email)
    role = _tenant_role(role)
    if repository.get_by_email(tenant_id, email):
        raise Conflict(
            "This email is already a user of your organisation.", code="already_exists", details={"field": "email"}
        )
    tenant = tenant_get(tenant_id=tenant_id)
    sub = _sign_in(tenant, email=email, name=name, role=role)
    user = user_create(tenant_id=tenant_id, email=email, name=name, role=role, user_id=sub or None)
    audit(tenant_id, "user.invited", actor, user_id=user.user_id, email=email, role=role.value)
    return user


def user_update(*, tenant_id: str, user_id: str, expected_version: int, actor: str = "system", **changes) -> User:
    """Change a user's name, role or status if it is still at ``expected_version`` (else Conflict).

    The last active TenantAdmin cannot be demoted or disabled (409 ``last_admin``). The record changes
    first; Cognito follows (a failure there is a 503 and the same change can be sent again).
    """
    if "email" in changes:
        changes["email"] = validate_email(changes["email"])
    if "role" in changes:
        changes["role"] = _tenant_role(changes["role"])
    if "status" in changes:
        changes["status"] = UserStatus(changes["status"])
    user = repository.get(tenant_id, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    user.version = expected_version
    updated = repository.update(tenant_id, user, **changes)
    authorization_cache_forget(tenant_id=tenant_id, user_id=user_id)
    changed_access = updated.role is not user.role or updated.status is not user.status
    pool_id = tenant_get_cached(tenant_id=tenant_id).identity.get("user_pool_id", "") if changed_access else ""
    if pool_id and updated.role is not user.role:
        cognito.set_role(pool_id, updated.email, updated.role.value)
        audit(tenant_id, "user.role_changed", actor, user_id=user_id, **{"from": user.role.value, "to": updated.role})
    if pool_id and updated.status is not user.status:
        cognito.set_enabled(pool_id, [updated.email], enabled=updated.status is UserStatus.ACTIVE)
        action = "user.enabled" if updated.status is UserStatus.ACTIVE else "user.disabled"
        audit(tenant_id, action, actor, user_id=user_id, email=updated.email)
    if "name" in changes and updated.name != user.name:
        audit(tenant_id, "user.renamed", actor, user_id=user_id)
    return updated


def learner_register(*, email: str, name: str, client_address: str = "") -> User:
    """An individual learner joins the shared default tenant: a user, no new tenant."""
    check_signup_rate(client_address)
    try:
        tenant = tenant_get_by_slug(slug=settings.CLOUDKIDA_DEFAULT_TENANT)
    except NotFound as error:
        raise ServiceUnavailable("Sign-up for individual learners is not open yet.", code="signup_closed") from error
    if tenant.status is not TenantStatus.ACTIVE:
        raise ServiceUnavailable("Sign-up for individual learners is closed right now.", code="signup_closed")
    email = validate_email(email)
    if user_get_by_email(tenant_id=tenant.tenant_id, email=email):
        raise Conflict(
            "You already have an account; sign in instead.", code="already_exists", details={"field": "email"}
        )
    sub = _sign_in(tenant, email=email, name=name, role=Role.TENANT_USER)
    user = user_create(tenant_id=tenant.tenant_id, email=email, name=name, role=Role.TENANT_USER, user_id=sub or None)
    count_signup(client_address)
    audit(tenant.tenant_id, "user.joined", email, user_id=user.user_id)
    return user


# --- the tenant's members, for the tenants app (registered in AccountsConfig.ready) ---------------------


def _usernames(tenant: Tenant) -> list[str]:
    pool_id = tenant.identity.get("user_pool_id")
    if not pool_id:
        return []
    if tenant.isolation is Isolation.SILO:
        return cognito.pool_usernames(pool_id)
    return cognito.group_usernames(pool_id, tenant.tenant_id)


def _active_usernames(tenant: Tenant) -> list[str]:
    """The sign-ins of the tenant's users whose records are ACTIVE (the ones resuming may re-enable)."""
    names, cursor = [], None
    while True:
        page = repository.list_page(tenant.tenant_id, limit=100, cursor=cursor)
        names += [u.email for u in page.items if u.status is UserStatus.ACTIVE]
        cursor = page.cursor
        if not cursor:
            return names


class TenantMembers:
    """accounts' side of a tenant's life (tenants.ports)."""

    def check_admin_email(self, *, email: str, isolation: Isolation) -> None:
        """In a pooled pool an address has one sign-in: refuse one that already has it in the shard a new
        tenant lands in (one AdminGetUser, however many shards there are)."""
        if isolation is Isolation.SILO:
            return
        pool_id = provisioning.current_pooled_pool_id()
        if cognito.user_attributes(pool_id, email):
            raise Conflict(
                "This email address already signs in to another CloudKida organisation; use another.",
                code="email_in_use",
                details={"field": "admin_email"},
            )

    def provision_admin(self, tenant: Tenant) -> dict:
        """The tenant admin: a Cognito user (invited by email) and a user record. Idempotent."""
        try:
            sub = cognito.ensure_user(
                tenant.identity["user_pool_id"],
                tenant_id=tenant.tenant_id,
                email=tenant.admin_email,
                name=tenant.admin_name,
                role=Role.TENANT_ADMIN.value,
                group=tenant.identity.get("group"),
            )
        except cognito.EmailTaken as error:
            raise ValidationFailed(str(error), code="email_in_use") from error
        user = user_get_by_email(tenant_id=tenant.tenant_id, email=tenant.admin_email)
        if user is None:
            try:
                user = user_create(
                    tenant_id=tenant.tenant_id,
                    email=tenant.admin_email,
                    name=tenant.admin_name,
                    role=Role.TENANT_ADMIN,
                    user_id=sub or None,
                )
            except Conflict:
                user = user_get_by_email(tenant_id=tenant.tenant_id, email=tenant.admin_email)
        return {"user_id": user.user_id if user else "", "sub": sub}

    def tenant_suspended(self, tenant: Tenant) -> dict:
        """Every sign-in of the tenant is disabled and signed out. The records keep their own status
        (every credential is refused by the tenant's status already), so resuming restores exactly the
        people who were active."""
        pool_id = tenant.identity.get("user_pool_id")
        usernames = _usernames(tenant) if pool_id else []
        if pool_id:
            cognito.set_enabled(pool_id, usernames, enabled=False)
        authorization_cache_forget(tenant_id=tenant.tenant_id)
        return {"sign_ins_disabled": len(usernames)}

    def tenant_resumed(self, tenant: Tenant) -> dict:
        pool_id = tenant.identity.get("user_pool_id")
        usernames = _active_usernames(tenant) if pool_id else []
        if pool_id:
            cognito.set_enabled(pool_id, usernames, enabled=True)
        return {"sign_ins_enabled": len(usernames)}

    def tenant_removing(self, tenant: Tenant) -> dict:
        authorization_cache_forget(tenant_id=tenant.tenant_id)
        api_key_cache_clear()
        pool_id = tenant.identity.get("user_pool_id")
        if not pool_id or tenant.isolation is Isolation.SILO:  # a silo pool goes whole with the tenant
            return {}
        usernames = _usernames(tenant)
        cognito.remove_users(pool_id, usernames)
        return {"sign_ins": len(usernames)}
